package io.switchboard.node.limits;

/**
 * Frames per second of one user, over all their connections. Thread-safe: shared by every
 * connection of the node; never blocks.
 */
public interface UserRateLimiter {

  /** Whether one more frame of {@code userId} may pass now. */
  boolean tryAcquire(String userId);

  /** No limit. */
  static UserRateLimiter unlimited() {
    return userId -> true;
  }
}
