package io.switchboard.node.limits;

/**
 * A token bucket: {@code ratePerSecond} sustained, bursts up to {@code burst}. Not thread-safe: one
 * per connection, used by its actor (or guarded by its owner).
 */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastNanos;

  public TokenBucket(int ratePerSecond, int burst) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.lastNanos = System.nanoTime();
  }

  /** Takes one token if there is one. */
  public boolean tryAcquire() {
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - lastNanos) * ratePerNano);
    lastNanos = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** When a token was last asked for ({@link System#nanoTime()}). */
  public long lastUseNanos() {
    return lastNanos;
  }
}
