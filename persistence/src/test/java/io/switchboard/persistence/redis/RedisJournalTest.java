package io.switchboard.persistence.redis;

import static io.switchboard.persistence.redis.JournalProbe.atomic;
import static io.switchboard.persistence.redis.JournalProbe.expectRecoverySuccess;
import static io.switchboard.persistence.redis.JournalProbe.expectWriteRejected;
import static io.switchboard.persistence.redis.JournalProbe.expectWriteSuccess;
import static io.switchboard.persistence.redis.JournalProbe.millis;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.persistence.embedded.RedisCli;
import io.switchboard.persistence.embedded.RedisServerExtension;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The behaviours of Pekko's JournalSpec (persistence TCK), one test each, plus the plugin's own
 * guarantees: atomicity, rejection without collateral damage, idempotent retries, batching and
 * paging. Each test starts with events 1..5 of a fresh persistence id, written like the TCK does.
 */
@ExtendWith({TestKitJUnit5Extension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisJournalTest {

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(TestConfig.forServer(redis)).build();

  @BeforeAll
  void awaitRedis() {
    new JournalProbe(testKit.system().classicSystem()).awaitReady();
  }

  private JournalProbe journal;
  private String pid;

  @BeforeEach
  void writeFiveEvents() {
    journal = new JournalProbe(testKit.system().classicSystem());
    pid = "p-" + UUID.randomUUID();
    journal.writeTckMessages(1, 5, pid);
  }

  @Test
  void replaysAllMessages() {
    journal.expectJournal(pid, 5, 1, 2, 3, 4, 5);
  }

  @Test
  void replaysFromALowerBound() {
    expectReplay(3, Long.MAX_VALUE, Long.MAX_VALUE, 3, 4, 5);
  }

  @Test
  void replaysUpToAnUpperBound() {
    expectReplay(1, 3, Long.MAX_VALUE, 1, 2, 3);
  }

  @Test
  void replaysUpToACountLimit() {
    expectReplay(1, Long.MAX_VALUE, 3, 1, 2, 3);
  }

  @Test
  void replaysBetweenLowerAndUpperBound() {
    expectReplay(2, 3, Long.MAX_VALUE, 2, 3);
  }

  @Test
  void replaysWithinBoundsAndCountLimit() {
    expectReplay(2, 5, 2, 2, 3);
  }

  @Test
  void replaysASingleMessageWhenBoundsAreEqual() {
    expectReplay(2, 2, Long.MAX_VALUE, 2);
  }

  @Test
  void replaysASingleMessageWhenCountLimitIsOne() {
    expectReplay(2, 4, 1, 2);
  }

  @Test
  void replaysNothingWhenCountLimitIsZero() {
    expectReplay(2, 4, 0);
  }

  @Test
  void replaysNothingWhenLowerBoundIsAboveUpperBound() {
    expectReplay(3, 2, Long.MAX_VALUE);
  }

  @Test
  void replaysNothingForAPersistenceIdWithoutEvents() {
    TestKit probe = journal.replay(0, Long.MAX_VALUE, Long.MAX_VALUE, "non-existing-" + pid);
    expectRecoverySuccess(probe, 0);
  }

  @Test
  void doesNotReplayDeletedMessages() {
    TestKit subscriber = new TestKit(classic());
    classic()
        .getEventStream()
        .subscribe(subscriber.getRef(), JournalProtocol.DeleteMessagesTo.class);
    TestKit deleter = new TestKit(classic());
    JournalProtocol.DeleteMessagesTo delete =
        new JournalProtocol.DeleteMessagesTo(pid, 3, deleter.getRef());
    journal.journal.tell(delete, deleter.getRef());
    subscriber.expectMsg(delete);
    deleter.expectMsg(new DeleteMessagesSuccess(3));

    journal.expectJournal(pid, 5, 4, 5);
    deleter.expectNoMessage(millis(200));
  }

  @Test
  void keepsTheHighestSequenceNrAfterDeletingMessages() {
    journal.expectJournal(pid, 5, 1, 2, 3, 4, 5);
    journal.delete(pid, 3);
    journal.expectJournal(pid, 5, 4, 5);
  }

  @Test
  void keepsTheHighestSequenceNrAfterDeletingEverything() {
    journal.delete(pid, Long.MAX_VALUE);
    journal.expectJournal(pid, 5);
  }

  @Test
  void deletingBeyondTheHighestSequenceNrKeepsLaterWrites() {
    journal.delete(pid, 100);
    journal.write(atomic(journal.repr(pid, 6, "a-6")), atomic(journal.repr(pid, 7, "a-7")));
    journal.expectJournal(pid, 7, 6, 7);
  }

  @Test
  void rejectsAnUnserializableEventWithoutFailingTheOtherWrites() {
    Object notSerializable = new Object();
    TestKit probe =
        journal.send(
            atomic(journal.repr(pid, 6, "b-6")),
            atomic(journal.repr(pid, 7, notSerializable)),
            atomic(journal.repr(pid, 8, "b-8")));
    probe.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
    expectWriteSuccess(probe, 6, "b-6");
    JournalProtocol.WriteMessageRejected rejected = expectWriteRejected(probe, 7);
    assertInstanceOf(NotSerializableException.class, rejected.cause());
    assertEquals(notSerializable, rejected.message().payload());
    expectWriteSuccess(probe, 8, "b-8");

    TestKit replay = journal.replay(6, Long.MAX_VALUE, Long.MAX_VALUE, pid);
    journal.expectReplayed(replay, pid, 6, "b-6");
    journal.expectReplayed(replay, pid, 8, "b-8");
    expectRecoverySuccess(replay, 8);
  }

  @Test
  void serializesEventsThroughPekkoSerialization() {
    TestKit owner = new TestKit(classic());
    TestPayload payload = new TestPayload(owner.getRef());
    journal.write(atomic(journal.repr(pid, 6, payload)));

    TestKit replay = journal.replay(6, Long.MAX_VALUE, Long.MAX_VALUE, pid);
    journal.expectReplayed(replay, pid, 6, payload);
    expectRecoverySuccess(replay, 6);
  }

  @Test
  void keepsManifestWriterUuidAndTimestamp() {
    PersistentRepr event =
        PersistentRepr.apply("a-6", 6, pid, "adapter-manifest-v2", false, null, "writer-x")
            .withTimestamp(1_700_000_000_123L);
    journal.write(atomic(event));

    TestKit replay = journal.replay(6, 6, 1, pid);
    PersistentRepr replayed =
        replay.expectMsgClass(JournalProtocol.ReplayedMessage.class).persistent();
    assertEquals("adapter-manifest-v2", replayed.manifest());
    assertEquals("writer-x", replayed.writerUuid());
    assertEquals(1_700_000_000_123L, replayed.timestamp());
    expectRecoverySuccess(replay, 6);
  }

  @Test
  void storesAnAtomicWriteWholeOrNotAtAll() {
    String other = pid + "-other";
    TestKit probe =
        journal.send(
            atomic(
                journal.repr(pid, 6, "a-6"),
                journal.repr(pid, 7, new Object()),
                journal.repr(pid, 8, "a-8")),
            atomic(journal.repr(other, 1, "a-1")));
    probe.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
    expectWriteRejected(probe, 6);
    expectWriteRejected(probe, 7);
    expectWriteRejected(probe, 8);
    expectWriteSuccess(probe, 1, "a-1");

    journal.expectJournal(pid, 5, 1, 2, 3, 4, 5);
    journal.expectJournal(other, 1, 1);
  }

  @Test
  void rejectsAWriteOfAnotherWriterOverTakenSequenceNumbers() {
    PersistentRepr intruder = JournalProbe.repr(pid, 5, "intruder", "other-writer");
    PersistentRepr next = JournalProbe.repr(pid, 6, "intruder", "other-writer");
    TestKit probe = journal.send(atomic(intruder, next));
    probe.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
    JournalProtocol.WriteMessageRejected rejected = expectWriteRejected(probe, 5);
    assertTrue(
        rejected.cause().getMessage().contains("already taken"), rejected.cause().getMessage());
    expectWriteRejected(probe, 6);

    journal.expectJournal(pid, 5, 1, 2, 3, 4, 5);
  }

  @Test
  void treatsAResentWriteOfTheSameEventsAsWritten() {
    AtomicWrite write = atomic(journal.repr(pid, 6, "a-6"), journal.repr(pid, 7, "a-7"));
    journal.write(write);
    journal.write(write);
    journal.expectJournal(pid, 7, 1, 2, 3, 4, 5, 6, 7);
  }

  @Test
  void writesManyPersistenceIdsOfOneCallInFewScriptCalls() {
    RedisCli cli = new RedisCli(redis.server().port());
    long scriptCallsBefore = cli.commandCalls("evalsha");
    List<AtomicWrite> writes = new ArrayList<>();
    List<String> pids = new ArrayList<>();
    for (int p = 0; p < 40; p++) pids.add(pid + "-" + p);
    for (int round = 1; round <= 3; round++) {
      for (String id : pids) writes.add(atomic(journal.repr(id, round, "a-" + round)));
    }
    journal.write(writes.toArray(AtomicWrite[]::new));

    // 120 events of 40 ids (3 each) in batches of at most 50 events: 16 + 16 + 8 ids, one script
    // call per batch on a single server
    assertEquals(3, cli.commandCalls("evalsha") - scriptCallsBefore);
    for (String id : pids) journal.expectJournal(id, 3, 1, 2, 3);
  }

  @Test
  void keepsTheOrderOfWritesOfOnePersistenceIdSentWithoutWaiting() {
    List<TestKit> probes = new ArrayList<>();
    for (int seq = 6; seq <= 30; seq++)
      probes.add(journal.send(atomic(journal.repr(pid, seq, "a-" + seq))));
    for (int i = 0; i < probes.size(); i++) {
      probes.get(i).expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
      expectWriteSuccess(probes.get(i), 6 + i, "a-" + (6 + i));
    }
    long[] all = new long[30];
    for (int i = 0; i < 30; i++) all[i] = i + 1;
    journal.expectJournal(pid, 30, all);
  }

  @Test
  void replaysALongJournalInPagesInOrder() {
    List<AtomicWrite> writes = new ArrayList<>();
    for (int seq = 6; seq <= 120; seq++) writes.add(atomic(journal.repr(pid, seq, "a-" + seq)));
    journal.write(writes.toArray(AtomicWrite[]::new));

    // replay-page-size is 7 in tests: this takes many pages
    TestKit probe = journal.replay(3, 100, 90, pid);
    for (long seq = 3; seq <= 92; seq++) journal.expectReplayed(probe, pid, seq);
    expectRecoverySuccess(probe, 120);
  }

  @Test
  void aReplayRightAfterAWriteSeesTheWrite() {
    TestKit writer = journal.send(atomic(journal.repr(pid, 6, "a-6")));
    TestKit replay = journal.replay(1, Long.MAX_VALUE, Long.MAX_VALUE, pid);
    writer.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
    for (long seq = 1; seq <= 6; seq++) journal.expectReplayed(replay, pid, seq);
    expectRecoverySuccess(replay, 6);
  }

  @Test
  void keysOfOnePersistenceIdShareOneHashTag() {
    RedisCli cli = new RedisCli(redis.server().port());
    assertEquals(5L, cli.call("ZCARD", "test:j:{" + pid + "}"));
    assertEquals("5", cli.call("GET", "test:h:{" + pid + "}"));
  }

  private void expectReplay(long from, long to, long max, long... expected) {
    TestKit probe = journal.replay(from, to, max, pid);
    for (long seq : expected) journal.expectReplayed(probe, pid, seq);
    expectRecoverySuccess(probe, 5);
  }

  private ActorSystem classic() {
    return testKit.system().classicSystem();
  }
}
