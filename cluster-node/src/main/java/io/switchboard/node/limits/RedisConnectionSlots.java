package io.switchboard.node.limits;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections per user across the cluster: one Redis sorted set per user of connection ids scored
 * by the end of their lease. Taking a slot first drops expired leases, so a node that died without
 * giving its slots back frees them after at most one lease; the node renews the leases of its live
 * connections every third of a lease ({@link #renewAll()}, scheduled by the owner), all of them in
 * one pipelined batch. A slot released while Redis is still deciding on it is given back as soon as
 * it is granted. While Redis is unreachable slots are counted on this node. Thread-safe; never
 * blocks.
 */
public final class RedisConnectionSlots implements ConnectionSlots {
  private static final Logger log = LoggerFactory.getLogger(RedisConnectionSlots.class);

  /** KEYS[1] the user's set; ARGV: connection id, max, lease ms. 1 granted, 0 refused. */
  private static final String ACQUIRE =
      """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
      if redis.call('ZSCORE', KEYS[1], ARGV[1])
          or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
        return 1
      end
      return 0
      """;

  /** KEYS[1] the user's set; ARGV: lease ms, then connection ids. Extends their leases. */
  private static final String RENEW =
      """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local lease = tonumber(ARGV[1])
      for i = 2, #ARGV do
        redis.call('ZADD', KEYS[1], now + lease, ARGV[i])
      end
      redis.call('PEXPIRE', KEYS[1], lease)
      return 1
      """;

  private final CompletionStage<RedissonClient> client;
  private final String keyPrefix;
  private final int max;
  private final Duration lease;
  private final LocalConnectionSlots fallback;
  // User id -> the user's key and the connection ids whose slots this node holds in Redis.
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  // Guarded by lock: acquisitions on their way to Redis, and those released before Redis answered
  // (their slot is given back as soon as it is granted, never held or renewed).
  private final Set<String> acquiring = new java.util.HashSet<>();
  private final Set<String> cancelled = new java.util.HashSet<>();

  public RedisConnectionSlots(
      CompletionStage<RedissonClient> client, String keyPrefix, int max, Duration lease) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.max = max;
    this.lease = lease;
    this.fallback = new LocalConnectionSlots(max);
  }

  @Override
  public CompletionStage<Boolean> acquire(String userId, String connectionId) {
    RedissonClient redis = RedisKeys.connected(client);
    if (redis == null) {
      return fallback.acquire(userId, connectionId);
    }
    String key = key(userId);
    CompletableFuture<Boolean> granted = new CompletableFuture<>();
    synchronized (lock) {
      acquiring.add(connectionId);
    }
    redis
        .getScript(StringCodec.INSTANCE)
        .<Long>evalAsync(
            RScript.Mode.READ_WRITE,
            ACQUIRE,
            RScript.ReturnType.INTEGER,
            List.of(key),
            connectionId,
            String.valueOf(max),
            String.valueOf(lease.toMillis()))
        .whenComplete(
            (result, failure) -> {
              boolean wasCancelled;
              synchronized (lock) {
                acquiring.remove(connectionId);
                wasCancelled = cancelled.remove(connectionId);
              }
              if (wasCancelled) {
                if (result != null && result == 1L) {
                  redis.getScoredSortedSet(key, StringCodec.INSTANCE).removeAsync(connectionId);
                }
                granted.complete(false);
              } else if (failure != null) {
                log.warn(
                    "Connections per user: Redis call failed ({}); counting on this node",
                    failure.toString());
                granted.complete(fallback.tryAcquire(userId, connectionId));
              } else if (result != null && result == 1L) {
                held.compute(
                    userId,
                    (u, slots) -> {
                      Held h = slots != null ? slots : new Held(key, ConcurrentHashMap.newKeySet());
                      h.ids().add(connectionId);
                      return h;
                    });
                granted.complete(true);
              } else {
                granted.complete(false);
              }
            });
    return granted;
  }

  @Override
  public void release(String userId, String connectionId) {
    fallback.release(userId, connectionId);
    synchronized (lock) {
      if (acquiring.contains(connectionId)) {
        cancelled.add(connectionId);
        return;
      }
    }
    Held[] removedFrom = new Held[1];
    held.computeIfPresent(
        userId,
        (u, slots) -> {
          if (slots.ids().remove(connectionId)) {
            removedFrom[0] = slots;
          }
          return slots.ids().isEmpty() ? null : slots;
        });
    if (removedFrom[0] == null) {
      return;
    }
    RedissonClient redis = RedisKeys.connected(client);
    if (redis != null) {
      redis
          .getScoredSortedSet(removedFrom[0].key(), StringCodec.INSTANCE)
          .removeAsync(connectionId);
    }
  }

  /**
   * Renews the lease of every slot this node holds, one script per user, sent to Redis as one
   * pipelined batch; call every third of a lease.
   */
  public void renewAll() {
    RedissonClient redis = RedisKeys.connected(client);
    if (redis == null || held.isEmpty()) {
      return;
    }
    RBatch batch = redis.createBatch(BatchOptions.defaults());
    String leaseMs = String.valueOf(lease.toMillis());
    held.forEach(
        (userId, slots) -> {
          List<Object> args = new ArrayList<>();
          args.add(leaseMs);
          args.addAll(slots.ids());
          if (args.size() > 1) {
            batch
                .getScript(StringCodec.INSTANCE)
                .evalAsync(
                    RScript.Mode.READ_WRITE,
                    RENEW,
                    RScript.ReturnType.INTEGER,
                    List.of(slots.key()),
                    args.toArray());
          }
        });
    batch
        .executeAsync()
        .whenComplete(
            (done, failure) -> {
              if (failure != null) {
                log.warn("Connections per user: renewing leases failed ({})", failure.toString());
              }
            });
  }

  /** How often {@link #renewAll()} should run. */
  public Duration renewInterval() {
    return Duration.ofMillis(Math.max(100, lease.toMillis() / 3));
  }

  /** Slots this node holds in Redis for {@code userId} (for tests). */
  int heldInRedis(String userId) {
    Held slots = held.get(userId);
    return slots == null ? 0 : slots.ids().size();
  }

  private record Held(String key, Set<String> ids) {}

  private String key(String userId) {
    return RedisKeys.key(keyPrefix, "user-connections", userId);
  }
}
