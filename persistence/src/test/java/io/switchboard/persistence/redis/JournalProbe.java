package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.PersistentEnvelope;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.testkit.javadsl.TestKit;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Talks to the journal with the classic journal protocol, as Pekko's TCK does, and checks the
 * answers. One instance per test.
 */
final class JournalProbe {

  static final String PLUGIN_ID = "switchboard.persistence.journal";
  static final int ACTOR_INSTANCE_ID = 1;

  final ActorSystem system;
  final ActorRef journal;
  final String writerUuid = java.util.UUID.randomUUID().toString();

  JournalProbe(ActorSystem system) {
    this.system = system;
    this.journal = Persistence.get(system).journalFor(PLUGIN_ID, ConfigFactory.empty());
  }

  /**
   * Waits until the journal answers (its Redis client has connected), so that a slow start on a
   * loaded machine does not count against the operation timeout of a test's first call.
   */
  void awaitReady() {
    new TestKit(system)
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              replay(1, 1, 1, "readiness-probe")
                  .expectMsgClass(Duration.ofSeconds(5), JournalProtocol.RecoverySuccess.class);
              return null;
            });
  }

  static PersistentRepr repr(String persistenceId, long sequenceNr, Object payload, String uuid) {
    return PersistentRepr.apply(payload, sequenceNr, persistenceId, "", false, null, uuid);
  }

  PersistentRepr repr(String persistenceId, long sequenceNr, Object payload) {
    return repr(persistenceId, sequenceNr, payload, writerUuid);
  }

  static AtomicWrite atomic(PersistentRepr... events) {
    return AtomicWrite.apply(CollectionConverters.asScala(List.of(events)).toList());
  }

  /** Sends the atomic writes as one WriteMessages and returns the probe that gets the replies. */
  TestKit send(AtomicWrite... writes) {
    TestKit probe = new TestKit(system);
    List<PersistentEnvelope> envelopes = new ArrayList<>(List.of(writes));
    journal.tell(
        new JournalProtocol.WriteMessages(
            CollectionConverters.asScala(envelopes).toList(), probe.getRef(), ACTOR_INSTANCE_ID),
        ActorRef.noSender());
    return probe;
  }

  /** Writes and expects every event to be confirmed. */
  void write(AtomicWrite... writes) {
    TestKit probe = send(writes);
    probe.expectMsg(JournalProtocol.WriteMessagesSuccessful$.MODULE$);
    for (AtomicWrite write : writes) {
      for (PersistentRepr event : CollectionConverters.asJava(write.payload())) {
        expectWriteSuccess(probe, event.sequenceNr(), event.payload());
      }
    }
  }

  /** Writes events fromSnr..toSnr of a persistence id the way the TCK does: the last two atomic. */
  void writeTckMessages(int fromSnr, int toSnr, String persistenceId) {
    List<AtomicWrite> writes = new ArrayList<>();
    for (int i = fromSnr; i < toSnr; i++) {
      if (i == toSnr - 1) {
        writes.add(
            atomic(repr(persistenceId, i, "a-" + i), repr(persistenceId, i + 1, "a-" + (i + 1))));
      } else {
        writes.add(atomic(repr(persistenceId, i, "a-" + i)));
      }
    }
    write(writes.toArray(AtomicWrite[]::new));
  }

  static void expectWriteSuccess(TestKit probe, long sequenceNr, Object payload) {
    JournalProtocol.WriteMessageSuccess success =
        probe.expectMsgClass(JournalProtocol.WriteMessageSuccess.class);
    assertEquals(sequenceNr, success.persistent().sequenceNr());
    assertEquals(payload, success.persistent().payload());
    assertEquals(ACTOR_INSTANCE_ID, success.actorInstanceId());
  }

  static JournalProtocol.WriteMessageRejected expectWriteRejected(TestKit probe, long sequenceNr) {
    JournalProtocol.WriteMessageRejected rejected =
        probe.expectMsgClass(JournalProtocol.WriteMessageRejected.class);
    assertEquals(sequenceNr, rejected.message().sequenceNr());
    return rejected;
  }

  /** Sends ReplayMessages; the replies go to the returned probe. */
  TestKit replay(long from, long to, long max, String persistenceId) {
    TestKit probe = new TestKit(system);
    journal.tell(
        new JournalProtocol.ReplayMessages(from, to, max, persistenceId, probe.getRef()),
        ActorRef.noSender());
    return probe;
  }

  /** Expects a replayed event with the payload "a-seqNr" written by this probe's writer. */
  void expectReplayed(TestKit probe, String persistenceId, long sequenceNr) {
    expectReplayed(probe, persistenceId, sequenceNr, "a-" + sequenceNr);
  }

  void expectReplayed(TestKit probe, String persistenceId, long sequenceNr, Object payload) {
    PersistentRepr repr = probe.expectMsgClass(JournalProtocol.ReplayedMessage.class).persistent();
    assertEquals(persistenceId, repr.persistenceId());
    assertEquals(sequenceNr, repr.sequenceNr());
    assertEquals(payload, repr.payload());
    assertEquals(writerUuid, repr.writerUuid());
    assertEquals("", repr.manifest());
    assertFalse(repr.deleted());
    assertNull(repr.sender());
  }

  static void expectRecoverySuccess(TestKit probe, long highestSequenceNr) {
    probe.expectMsg(new JournalProtocol.RecoverySuccess(highestSequenceNr));
  }

  /** Replays everything and expects exactly these sequence numbers ("a-n" payloads). */
  void expectJournal(String persistenceId, long highest, long... sequenceNrs) {
    TestKit probe = replay(1, Long.MAX_VALUE, Long.MAX_VALUE, persistenceId);
    for (long sequenceNr : sequenceNrs) expectReplayed(probe, persistenceId, sequenceNr);
    expectRecoverySuccess(probe, highest);
  }

  void delete(String persistenceId, long toSequenceNr) {
    TestKit probe = new TestKit(system);
    journal.tell(
        new JournalProtocol.DeleteMessagesTo(persistenceId, toSequenceNr, probe.getRef()),
        ActorRef.noSender());
    probe.expectMsg(new DeleteMessagesSuccess(toSequenceNr));
  }

  static Duration millis(long millis) {
    return Duration.ofMillis(millis);
  }
}
