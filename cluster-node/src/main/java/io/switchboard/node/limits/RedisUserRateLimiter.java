package io.switchboard.node.limits;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frames per second per user across the cluster, on Redisson's {@link RRateLimiter} (one per user,
 * shared by every node). Asking Redis for every frame would put a network round trip on each, so a
 * node takes permits in batches (a tenth of the rate) and hands them out locally, asking for the
 * next batch asynchronously when half of the current one is used. While that answer is on its way a
 * node may lend up to one batch, repaid from the batch when it comes: a node runs at most one batch
 * ahead of the cluster-wide count, and a user within their rate never waits for Redis. When Redis
 * refuses a batch, the user's frames are refused until the cluster has earned one again. While
 * Redis is unreachable the node-local limit applies. Thread-safe; never blocks.
 */
public final class RedisUserRateLimiter implements UserRateLimiter {
  private static final Logger log = LoggerFactory.getLogger(RedisUserRateLimiter.class);
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long DOWN_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final Duration KEEP_ALIVE = Duration.ofMinutes(2);
  private static final int SWEEP_EVERY = 4096;

  private final CompletionStage<RedissonClient> client;
  private final String keyPrefix;
  private final int ratePerSecond;
  private final int batch;
  private final long batchNanos;
  private final LocalUserRateLimiter fallback;
  private final ConcurrentHashMap<String, Allowance> allowances = new ConcurrentHashMap<>();
  private final AtomicInteger calls = new AtomicInteger();
  private volatile long downUntilNanos;

  /** Permits a node holds for one user. Guarded by itself. */
  private static final class Allowance {
    long available;
    long debt;
    boolean refilling;
    boolean rateSet;
    long retryAfterNanos;
    long lastUseNanos = System.nanoTime();

    Allowance() {}
  }

  /**
   * A limiter of {@code ratePerSecond} frames per user over the Redis of {@code client}, with keys
   * under {@code keyPrefix}.
   */
  public RedisUserRateLimiter(
      CompletionStage<RedissonClient> client, String keyPrefix, int ratePerSecond) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.ratePerSecond = ratePerSecond;
    this.batch = Math.max(1, ratePerSecond / 10);
    this.batchNanos = TimeUnit.SECONDS.toNanos(1) * batch / Math.max(1, ratePerSecond);
    this.fallback = new LocalUserRateLimiter(ratePerSecond);
  }

  @Override
  public boolean tryAcquire(String userId) {
    RedissonClient redis = RedisKeys.connected(client);
    long now = System.nanoTime();
    if (redis == null || now < downUntilNanos) {
      return fallback.tryAcquire(userId);
    }
    if ((calls.incrementAndGet() & (SWEEP_EVERY - 1)) == 0) {
      allowances.entrySet().removeIf(e -> idle(e.getValue(), now));
    }
    Allowance a = allowances.computeIfAbsent(userId, u -> new Allowance());
    boolean granted;
    boolean refill = false;
    synchronized (a) {
      a.lastUseNanos = now;
      if (a.available <= batch / 2 && !a.refilling && now >= a.retryAfterNanos) {
        a.refilling = true;
        refill = true;
      }
      if (a.available > 0) {
        a.available--;
        granted = true;
      } else if (a.refilling && a.debt < batch) {
        // Borrowed against the batch on its way: a user within their rate never waits for Redis,
        // and the loan is repaid from that batch.
        a.debt++;
        granted = true;
      } else {
        granted = false;
      }
    }
    if (refill) {
      refill(redis, userId, a);
    }
    return granted;
  }

  private void refill(RedissonClient redis, String userId, Allowance a) {
    RRateLimiter limiter = redis.getRateLimiter(RedisKeys.key(keyPrefix, "user-rate", userId));
    boolean rateSet;
    synchronized (a) {
      rateSet = a.rateSet;
    }
    CompletionStage<Boolean> acquired =
        rateSet
            ? limiter.tryAcquireAsync(batch)
            : limiter
                .trySetRateAsync(RateType.OVERALL, ratePerSecond, Duration.ofSeconds(1), KEEP_ALIVE)
                .thenCompose(set -> limiter.tryAcquireAsync(batch));
    acquired.whenComplete(
        (ok, failure) -> {
          synchronized (a) {
            a.refilling = false;
            if (failure != null) {
              // Most likely the limiter's key expired while idle: set the rate again next time.
              a.rateSet = false;
            } else {
              a.rateSet = true;
              if (ok) {
                long repaid = Math.min(a.debt, batch);
                a.debt -= repaid;
                a.available += batch - repaid;
              } else {
                a.retryAfterNanos = System.nanoTime() + batchNanos;
              }
            }
          }
          if (failure != null
              && !String.valueOf(failure.getMessage()).contains("not initialized")) {
            markDown(failure);
          }
        });
  }

  private void markDown(Throwable failure) {
    long now = System.nanoTime();
    if (now >= downUntilNanos) {
      log.warn(
          "Per-user rate limit: Redis call failed ({}); counting on this node for {} s",
          failure.toString(),
          TimeUnit.NANOSECONDS.toSeconds(DOWN_NANOS));
    }
    downUntilNanos = now + DOWN_NANOS;
  }

  private static boolean idle(Allowance a, long now) {
    synchronized (a) {
      return !a.refilling && now - a.lastUseNanos > IDLE_NANOS;
    }
  }
}
