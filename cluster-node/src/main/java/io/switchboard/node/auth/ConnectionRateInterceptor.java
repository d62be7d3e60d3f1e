package io.switchboard.node.auth;

import io.switchboard.node.limits.TokenBucket;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Optional;

/**
 * Frames per second of one connection, every frame counted (undecodable ones too): a {@link
 * TokenBucket} of {@code switchboard.edge.frames-per-second} with bursts of {@code frame-burst}.
 * One per connection; not thread-safe (its connection's actor calls it).
 */
public final class ConnectionRateInterceptor implements FrameInterceptor {
  private final TokenBucket bucket;

  public ConnectionRateInterceptor(int framesPerSecond, int burst) {
    this.bucket = new TokenBucket(framesPerSecond, burst);
  }

  @Override
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    return admit();
  }

  /** Counts a frame whatever it is; a rejection when the connection is over its rate. */
  Optional<Rejection> admit() {
    return bucket.tryAcquire()
        ? Optional.empty()
        : Optional.of(Rejection.refuse(ErrorCode.RATE_LIMITED, "too many frames per second"));
  }
}
