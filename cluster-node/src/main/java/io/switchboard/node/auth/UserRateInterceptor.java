package io.switchboard.node.auth;

import io.switchboard.node.limits.UserRateLimiter;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Optional;

/**
 * Frames per second of one user over all their connections, cluster-wide when the node has Redis
 * ({@code switchboard.limits.per-user.frames-per-second}). Connections that have not authenticated
 * and the shared anonymous identity are not counted per user (their per-connection limit applies).
 * Thread-safe.
 */
public final class UserRateInterceptor implements FrameInterceptor {
  private final UserRateLimiter limiter;

  public UserRateInterceptor(UserRateLimiter limiter) {
    this.limiter = limiter;
  }

  @Override
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    if (!identity.authenticated()
        || identity.anonymous()
        || limiter.tryAcquire(identity.userId())) {
      return Optional.empty();
    }
    return Optional.of(
        Rejection.refuse(ErrorCode.RATE_LIMITED, "too many frames per second for this user"));
  }
}
