package io.switchboard.node.limits;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Frames per second per user on this node only: one {@link TokenBucket} per active user (a second's
 * worth of burst). Buckets idle for a while are forgotten, so memory follows the active users.
 * Thread-safe.
 */
public final class LocalUserRateLimiter implements UserRateLimiter {
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int SWEEP_EVERY = 4096;

  private final int ratePerSecond;
  private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();
  private final AtomicInteger calls = new AtomicInteger();

  public LocalUserRateLimiter(int ratePerSecond) {
    this.ratePerSecond = ratePerSecond;
  }

  @Override
  public boolean tryAcquire(String userId) {
    if ((calls.incrementAndGet() & (SWEEP_EVERY - 1)) == 0) {
      sweep();
    }
    TokenBucket bucket =
        buckets.computeIfAbsent(userId, u -> new TokenBucket(ratePerSecond, ratePerSecond));
    synchronized (bucket) {
      return bucket.tryAcquire();
    }
  }

  /** Users with a bucket (for tests). */
  int trackedUsers() {
    return buckets.size();
  }

  private void sweep() {
    long now = System.nanoTime();
    buckets
        .entrySet()
        .removeIf(
            e -> {
              synchronized (e.getValue()) {
                return now - e.getValue().lastUseNanos() > IDLE_NANOS;
              }
            });
  }
}
