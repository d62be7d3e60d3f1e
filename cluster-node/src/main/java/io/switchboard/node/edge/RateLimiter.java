package io.switchboard.node.edge;

/**
 * A token bucket: {@code ratePerSecond} sustained, bursts up to {@code burst}. Not thread-safe; one
 * per connection, used by its actor.
 */
final class RateLimiter {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastNanos;

  RateLimiter(int ratePerSecond, int burst) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.lastNanos = System.nanoTime();
  }

  /** Takes one token if there is one. */
  boolean tryAcquire() {
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - lastNanos) * ratePerNano);
    lastNanos = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
