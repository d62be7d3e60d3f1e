package io.switchboard.node.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.persistence.embedded.EmbeddedRedis;
import java.nio.file.Files;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Per-user limits across nodes: two limiter instances (two nodes) sharing one Redis count a user's
 * frames and connections together, and the slots of a node that died free themselves after a lease.
 */
@ExtendWith(LogCapturingExtension.class)
class UserLimitsIT {
  private static EmbeddedRedis redis;
  private static RedissonClient client;

  @BeforeAll
  static void start() throws Exception {
    redis =
        EmbeddedRedis.builder().dataDirectory(Files.createTempDirectory("limits-redis")).build();
    redis.start();
    Config config = new Config();
    config.useSingleServer().setAddress(redis.url());
    client = Redisson.create(config);
  }

  @AfterAll
  static void stop() {
    client.shutdown();
    redis.stop();
  }

  private static CompletableFuture<RedissonClient> connected() {
    return CompletableFuture.completedFuture(client);
  }

  @Test
  void framesOfAUserAreCountedAcrossNodes() {
    String user = "u-" + UUID.randomUUID();
    RedisUserRateLimiter nodeA = new RedisUserRateLimiter(connected(), "t", 100);
    RedisUserRateLimiter nodeB = new RedisUserRateLimiter(connected(), "t", 100);
    int granted = 0;
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(800);
    // Both nodes ask as fast as they can for 0.8 s (less than the limiter's 1 s window).
    for (int i = 0; i < 5_000_000 && System.nanoTime() < end; i++) {
      granted += nodeA.tryAcquire(user) ? 1 : 0;
      granted += nodeB.tryAcquire(user) ? 1 : 0;
    }
    // 100 permits per second cluster-wide, each node at most one batch (10) ahead.
    assertTrue(granted <= 100 + 2 * 10, "granted " + granted);
    assertTrue(granted > 2 * 10, "permits came from Redis, not only loans: " + granted);
    // Another user has a budget of their own.
    assertTrue(nodeA.tryAcquire("other-" + UUID.randomUUID()));
  }

  @Test
  void connectionsOfAUserAreCountedAcrossNodes() throws Exception {
    String user = "u-" + UUID.randomUUID();
    RedisConnectionSlots nodeA =
        new RedisConnectionSlots(connected(), "t", 2, Duration.ofMinutes(1));
    RedisConnectionSlots nodeB =
        new RedisConnectionSlots(connected(), "t", 2, Duration.ofMinutes(1));
    assertTrue(acquire(nodeA, user, "a1"));
    assertTrue(acquire(nodeB, user, "b1"));
    assertFalse(acquire(nodeB, user, "b2"), "two connections already, on two nodes");
    assertTrue(acquire(nodeA, user, "a1"), "taking the same slot again is idempotent");
    nodeA.release(user, "a1");
    assertTrue(awaitAcquire(nodeB, user, "b2", Duration.ofSeconds(10)));
    assertEquals(2, nodeB.heldInRedis(user));
  }

  @Test
  void slotsOfANodeThatDiedExpireAfterTheirLease() throws Exception {
    String user = "u-" + UUID.randomUUID();
    RedisConnectionSlots dying =
        new RedisConnectionSlots(connected(), "t", 1, Duration.ofSeconds(1));
    RedisConnectionSlots living =
        new RedisConnectionSlots(connected(), "t", 1, Duration.ofSeconds(1));
    assertTrue(acquire(dying, user, "d1"));
    assertFalse(acquire(living, user, "l1"));
    // The dying node never renews nor releases: its slot is free within a lease.
    assertTrue(awaitAcquire(living, user, "l1", Duration.ofSeconds(10)));
    // A live node's renewals keep its slot past the lease.
    long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
    while (System.nanoTime() < until) {
      living.renewAll();
      assertFalse(acquire(dying, user, "d2"), "the living node's renewed slot is kept");
    }
  }

  @Test
  void aSlotReleasedWhileRedisDecidesIsGivenBack() throws Exception {
    String user = "u-" + UUID.randomUUID();
    RedisConnectionSlots node =
        new RedisConnectionSlots(connected(), "t", 1, Duration.ofMinutes(1));
    for (int i = 0; i < 20; i++) {
      // The connection stops before (or just after) Redis grants its slot.
      var pending = node.acquire(user, "c" + i);
      node.release(user, "c" + i);
      pending.toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(
          0, node.heldInRedis(user), "nothing is held or renewed for a stopped connection");
    }
    RedisConnectionSlots other =
        new RedisConnectionSlots(connected(), "t", 1, Duration.ofMinutes(1));
    assertTrue(awaitAcquire(other, user, "next", Duration.ofSeconds(10)), "the slot is free");
  }

  private static boolean acquire(RedisConnectionSlots slots, String user, String id)
      throws Exception {
    return slots.acquire(user, id).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  private static boolean awaitAcquire(
      RedisConnectionSlots slots, String user, String id, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (acquire(slots, user, id)) {
        return true;
      }
    }
    return false;
  }
}
