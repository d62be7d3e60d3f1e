package io.switchboard.persistence.redis;

import static io.switchboard.persistence.redis.JournalProbe.atomic;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.RedisServerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.SnapshotProtocol;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis going away: operations fail within the operation timeout (2 s in tests) with an error
 * naming the server, never hang; the plugin works again when Redis returns, without a restart;
 * nothing confirmed is lost across a clean stop or a kill -9 with appendfsync always.
 */
@ExtendWith({TestKitJUnit5Extension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisFaultTest {

  /**
   * Operation timeout of the test configuration plus scheduling slack; far below what Redisson's
   * own retries would take (5 s per attempt, 4 attempts).
   */
  private static final Duration FAILS_WITHIN = Duration.ofMillis(2000 + 3000);

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();

  /**
   * Redisson's own retries (5 s per attempt) outlast the operation timeout (2 s), so that batches
   * sent to a hung Redis stay in flight while the calls fail: the plugin's timeout is what bounds
   * every call.
   */
  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder()
          .withCustomConfig(
              ConfigFactory.parseString(
                      "switchboard.redis { connect-timeout = 5s, response-timeout = 5s }")
                  .withFallback(TestConfig.forServer(redis)))
          .build();

  @AfterEach
  void redisRunsAgain() {
    redis.server().start();
    // the next test starts once the journal answers again
    JournalProbe journal = new JournalProbe(testKit.system().classicSystem());
    new TestKit(testKit.system().classicSystem())
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              TestKit replay = journal.replay(1, Long.MAX_VALUE, Long.MAX_VALUE, "probe");
              replay.expectMsgClass(Duration.ofSeconds(3), JournalProtocol.RecoverySuccess.class);
              return null;
            });
  }

  @Test
  void writesAndReplaysFailWithinTheTimeoutWhileRedisIsDownAndWorkAgainAfterARestart() {
    JournalProbe journal = new JournalProbe(testKit.system().classicSystem());
    String pid = "p-" + UUID.randomUUID();
    journal.writeTckMessages(1, 5, pid);

    redis.server().stop();
    long started = System.nanoTime();
    TestKit writer = journal.send(atomic(journal.repr(pid, 6, "a-6")));
    JournalProtocol.WriteMessagesFailed failed =
        writer.expectMsgClass(FAILS_WITHIN, JournalProtocol.WriteMessagesFailed.class);
    assertFailedWithin(started);
    assertNamesRedis(failed.cause());
    writer.expectMsgClass(JournalProtocol.WriteMessageFailure.class);

    started = System.nanoTime();
    TestKit replay = journal.replay(1, Long.MAX_VALUE, Long.MAX_VALUE, pid);
    JournalProtocol.ReplayMessagesFailure replayFailed =
        replay.expectMsgClass(FAILS_WITHIN, JournalProtocol.ReplayMessagesFailure.class);
    assertFailedWithin(started);
    assertNamesRedis(replayFailed.cause());

    redis.server().start(); // same port, same data directory: the append-only file is reloaded
    // Redisson reconnects by itself; the same write is resent until it is confirmed (writes are
    // idempotent, so a resend that Redis had applied counts as written)
    writer.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          TestKit retry = journal.send(atomic(journal.repr(pid, 6, "a-6")));
          retry.expectMsg(Duration.ofSeconds(3), JournalProtocol.WriteMessagesSuccessful$.MODULE$);
          return null;
        });
    journal.expectJournal(pid, 6, 1, 2, 3, 4, 5, 6);
  }

  @Test
  void aWriteToAHungRedisFailsAtTheOperationTimeoutAndAResendAfterwardsCountsAsWritten() {
    JournalProbe journal = new JournalProbe(testKit.system().classicSystem());
    String pid = "p-" + UUID.randomUUID();
    journal.writeTckMessages(1, 5, pid);

    redis.server().suspend();
    try {
      long started = System.nanoTime();
      TestKit writer = journal.send(atomic(journal.repr(pid, 6, "a-6")));
      // calls for other ids meanwhile: none of them may wait for another (the journal actor's
      // thread is never blocked), so all fail within the same bound
      List<TestKit> others = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        others.add(journal.send(atomic(journal.repr(pid + "-" + i, 1, "a-1"))));
      }
      JournalProtocol.WriteMessagesFailed failed =
          writer.expectMsgClass(FAILS_WITHIN, JournalProtocol.WriteMessagesFailed.class);
      assertNamesRedis(failed.cause());
      assertTrue(
          failed.cause().getMessage().contains("did not answer within 2000 ms"),
          failed.cause().getMessage());
      for (TestKit other : others) {
        other.expectMsgClass(FAILS_WITHIN, JournalProtocol.WriteMessagesFailed.class);
      }
      assertFailedWithin(started);
    } finally {
      redis.server().resume();
    }
    // the write may have reached Redis after all; resending it is safe either way
    new TestKit(testKit.system().classicSystem())
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              journal.write(atomic(journal.repr(pid, 6, "a-6")));
              return null;
            });
    journal.expectJournal(pid, 6, 1, 2, 3, 4, 5, 6);
  }

  @Test
  void aSnapshotLoadFailsWithinTheTimeoutWhileRedisIsDown() {
    ActorRef store =
        Persistence.get(testKit.system())
            .snapshotStoreFor("switchboard.persistence.snapshot-store", ConfigFactory.empty());
    TestKit probe = new TestKit(testKit.system().classicSystem());
    redis.server().stop();
    long started = System.nanoTime();
    store.tell(
        new SnapshotProtocol.LoadSnapshot(
            "p-" + UUID.randomUUID(), SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE),
        probe.getRef());
    SnapshotProtocol.LoadSnapshotFailed failed =
        probe.expectMsgClass(FAILS_WITHIN, SnapshotProtocol.LoadSnapshotFailed.class);
    assertFailedWithin(started);
    assertNamesRedis(failed.cause());
  }

  @Test
  void aKilledRedisWithAppendfsyncAlwaysLosesNothingConfirmed() {
    JournalProbe journal = new JournalProbe(testKit.system().classicSystem());
    List<String> pids = new ArrayList<>();
    for (int p = 0; p < 10; p++) pids.add("p-" + UUID.randomUUID());
    List<TestKit> writers = new ArrayList<>();
    for (int seq = 1; seq <= 20; seq++) {
      List<AtomicWrite> writes = new ArrayList<>();
      for (String pid : pids) writes.add(atomic(journal.repr(pid, seq, "a-" + seq)));
      writers.add(journal.send(writes.toArray(AtomicWrite[]::new)));
    }
    for (TestKit writer : writers) {
      writer.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
      for (int p = 0; p < pids.size(); p++)
        writer.expectMsgClass(JournalProtocol.WriteMessageSuccess.class);
    }

    redis.server().kill();
    redis.server().start();

    long[] all = new long[20];
    for (int i = 0; i < all.length; i++) all[i] = i + 1;
    TestKit probe = new TestKit(testKit.system().classicSystem());
    probe.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          journal.expectJournal(pids.get(0), 20, all);
          return null;
        });
    for (String pid : pids) journal.expectJournal(pid, 20, all);
  }

  @Test
  void aPluginStartedWhileRedisIsDownWorksOnceRedisIsUpAndNeverSendsAFailedWrite() {
    redis.server().stop();
    ActorTestKit late = ActorTestKit.create("late", TestConfig.forServer(redis));
    try {
      JournalProbe journal = new JournalProbe(late.system().classicSystem());
      String failedPid = "p-" + UUID.randomUUID();
      long started = System.nanoTime();
      TestKit failed = journal.send(atomic(journal.repr(failedPid, 1, "a-1")));
      JournalProtocol.WriteMessagesFailed failure =
          failed.expectMsgClass(FAILS_WITHIN, JournalProtocol.WriteMessagesFailed.class);
      assertFailedWithin(started);
      assertNamesRedis(failure.cause());

      redis.server().start();
      String pid = "p-" + UUID.randomUUID();
      failed.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
            TestKit retry = journal.send(atomic(journal.repr(pid, 1, "a-1")));
            retry.expectMsg(
                Duration.ofSeconds(3), JournalProtocol.WriteMessagesSuccessful$.MODULE$);
            return null;
          });
      journal.expectJournal(pid, 1, 1);
      // the write that waited for the connection and failed was dropped, not sent once connected
      journal.expectJournal(failedPid, 0);
    } finally {
      late.shutdownTestKit();
    }
  }

  private static void assertFailedWithin(long startedNanos) {
    Duration took = Duration.ofNanos(System.nanoTime() - startedNanos);
    assertTrue(took.compareTo(FAILS_WITHIN) <= 0, "failed only after " + took);
  }

  private static void assertNamesRedis(Throwable cause) {
    assertInstanceOf(RedisPersistenceException.class, cause);
    String address = "redis://127.0.0.1:" + redis.server().port();
    assertTrue(cause.getMessage().contains(address), cause.getMessage());
  }
}
