package io.switchboard.node.auth;

import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ordered interceptors of one connection: its own rate limit first, then the node's shared
 * interceptors (user rate, sizes, ACL, user-defined), the first rejection winning. A client that
 * keeps sending while rate-limited is closed with {@code TOO_MANY_FRAMES} after {@code
 * floodThreshold} refused frames in a row. One per connection, used by one thread at a time: its
 * actor, or its socket's thread for an ack while the actor holds none of the client's frames.
 */
public final class InterceptorChain {
  private static final Logger log = LoggerFactory.getLogger(InterceptorChain.class);

  private final ConnectionRateInterceptor connectionRate;
  private final List<FrameInterceptor> shared;
  private final int floodThreshold;
  private int rateLimitedInARow;

  InterceptorChain(
      ConnectionRateInterceptor connectionRate, List<FrameInterceptor> shared, int floodThreshold) {
    this.connectionRate = connectionRate;
    this.shared = List.copyOf(shared);
    this.floodThreshold = floodThreshold;
  }

  /** Checks a decoded frame of a client proven to be {@code identity}. */
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    Optional<Rejection> rejection = connectionRate.admit();
    for (int i = 0; rejection.isEmpty() && i < shared.size(); i++) {
      rejection = run(shared.get(i), identity, frame);
    }
    return escalate(rejection);
  }

  /** Checks bytes that are not a frame (malformed or too large): only the rate applies. */
  public Optional<Rejection> checkUndecodable() {
    return escalate(connectionRate.admit());
  }

  private static Optional<Rejection> run(
      FrameInterceptor interceptor, Identity identity, ClientFrame frame) {
    try {
      Optional<Rejection> r = interceptor.check(identity, frame);
      return r == null ? Optional.empty() : r;
    } catch (RuntimeException e) {
      log.warn("Interceptor [{}] failed; frame refused", interceptor.getClass().getName(), e);
      return Optional.of(Rejection.refuse(ErrorCode.INTERNAL, "frame check failed"));
    }
  }

  private Optional<Rejection> escalate(Optional<Rejection> rejection) {
    if (rejection.isEmpty() || rejection.get().code() != ErrorCode.RATE_LIMITED) {
      rateLimitedInARow = 0;
      return rejection;
    }
    if (++rateLimitedInARow > floodThreshold) {
      return Optional.of(
          Rejection.refuseAndClose(
              ErrorCode.RATE_LIMITED, "frame rate limit exceeded", CloseCode.TOO_MANY_FRAMES));
    }
    return rejection;
  }
}
