package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.RedisServerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.DeleteSnapshotSuccess;
import org.apache.pekko.persistence.DeleteSnapshotsSuccess;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.SaveSnapshotFailure;
import org.apache.pekko.persistence.SaveSnapshotSuccess;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotProtocol;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import scala.Option;

/**
 * The behaviours of Pekko's SnapshotStoreSpec (persistence TCK), plus the minimum bounds of the
 * selection criteria. Each test starts with snapshots "s-1".."s-5" at sequence numbers 11..15 of a
 * fresh persistence id.
 */
@ExtendWith({TestKitJUnit5Extension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisSnapshotStoreTest {

  private static final String PLUGIN_ID = "switchboard.persistence.snapshot-store";

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(TestConfig.forServer(redis)).build();

  @BeforeAll
  void awaitRedis() {
    new JournalProbe(testKit.system().classicSystem()).awaitReady();
  }

  private ActorRef store;
  private TestKit sender;
  private String pid;
  private List<SnapshotMetadata> metadata;

  @BeforeEach
  void saveFiveSnapshots() {
    store = Persistence.get(classic()).snapshotStoreFor(PLUGIN_ID, ConfigFactory.empty());
    sender = new TestKit(classic());
    pid = "p-" + UUID.randomUUID();
    metadata = new ArrayList<>();
    for (int i = 1; i <= 5; i++)
      metadata.add(save(SnapshotMetadata.apply(pid, i + 10, 0L), "s-" + i));
  }

  @Test
  void loadsNothingForAnUnknownPersistenceId() {
    expectLoad("invalid-" + pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, null, null);
  }

  @Test
  void loadsNothingForNonMatchingTimestampCriteria() {
    expectLoad(pid, criteria(Long.MAX_VALUE, 100), Long.MAX_VALUE, null, null);
  }

  @Test
  void loadsNothingForNonMatchingSequenceNrCriteria() {
    expectLoad(pid, criteria(7, Long.MAX_VALUE), Long.MAX_VALUE, null, null);
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), 7, null, null);
  }

  @Test
  void loadsTheMostRecentSnapshot() {
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, metadata.get(4), "s-5");
  }

  @Test
  void loadsTheMostRecentSnapshotMatchingAnUpperSequenceNrBound() {
    expectLoad(pid, criteria(13, Long.MAX_VALUE), Long.MAX_VALUE, metadata.get(2), "s-3");
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), 13, metadata.get(2), "s-3");
  }

  @Test
  void loadsTheMostRecentSnapshotMatchingUpperSequenceNrAndTimestampBounds() {
    long timestamp = metadata.get(2).timestamp();
    expectLoad(pid, criteria(13, timestamp), Long.MAX_VALUE, metadata.get(2), "s-3");
    expectLoad(pid, criteria(Long.MAX_VALUE, timestamp), 13, metadata.get(2), "s-3");
  }

  @Test
  void loadsWithinLowerBoundsOfSequenceNrAndTimestamp() {
    expectLoad(
        pid,
        new SnapshotSelectionCriteria(15, Long.MAX_VALUE, 14, 0),
        Long.MAX_VALUE,
        metadata.get(4),
        "s-5");
    expectLoad(
        pid,
        new SnapshotSelectionCriteria(13, Long.MAX_VALUE, 12, 0),
        Long.MAX_VALUE,
        metadata.get(2),
        "s-3");
    expectLoad(
        pid,
        new SnapshotSelectionCriteria(Long.MAX_VALUE, Long.MAX_VALUE, 16, 0),
        Long.MAX_VALUE,
        null,
        null);
    long afterAll = metadata.get(4).timestamp() + 1;
    expectLoad(
        pid,
        new SnapshotSelectionCriteria(Long.MAX_VALUE, Long.MAX_VALUE, 0, afterAll),
        Long.MAX_VALUE,
        null,
        null);
  }

  @Test
  void deletesASingleSnapshotIdentifiedBySequenceNr() {
    SnapshotMetadata md = SnapshotMetadata.apply(pid, metadata.get(2).sequenceNr(), 0L);
    TestKit subscriber = new TestKit(classic());
    classic()
        .getEventStream()
        .subscribe(subscriber.getRef(), SnapshotProtocol.DeleteSnapshot.class);
    SnapshotProtocol.DeleteSnapshot delete = new SnapshotProtocol.DeleteSnapshot(md);
    store.tell(delete, sender.getRef());
    subscriber.expectMsg(delete);
    sender.expectMsg(new DeleteSnapshotSuccess(md));

    expectLoad(
        pid, criteria(md.sequenceNr(), Long.MAX_VALUE), Long.MAX_VALUE, metadata.get(1), "s-2");
  }

  @Test
  void doesNotDeleteASingleSnapshotWhoseTimestampDiffers() {
    SnapshotMetadata md =
        SnapshotMetadata.apply(pid, metadata.get(2).sequenceNr(), metadata.get(2).timestamp() + 1);
    store.tell(new SnapshotProtocol.DeleteSnapshot(md), sender.getRef());
    sender.expectMsg(new DeleteSnapshotSuccess(md));

    expectLoad(pid, criteria(13, Long.MAX_VALUE), Long.MAX_VALUE, metadata.get(2), "s-3");
  }

  @Test
  void deletesAllSnapshotsMatchingUpperSequenceNrAndTimestampBounds() {
    SnapshotMetadata md = metadata.get(2);
    SnapshotSelectionCriteria criteria = criteria(md.sequenceNr(), md.timestamp());
    TestKit subscriber = new TestKit(classic());
    classic()
        .getEventStream()
        .subscribe(subscriber.getRef(), SnapshotProtocol.DeleteSnapshots.class);
    SnapshotProtocol.DeleteSnapshots delete = new SnapshotProtocol.DeleteSnapshots(pid, criteria);
    store.tell(delete, sender.getRef());
    subscriber.expectMsg(delete);
    sender.expectMsg(new DeleteSnapshotsSuccess(criteria));

    expectLoad(pid, criteria(md.sequenceNr(), md.timestamp()), Long.MAX_VALUE, null, null);
    SnapshotMetadata md3 = metadata.get(3);
    expectLoad(pid, criteria(md3.sequenceNr(), md3.timestamp()), Long.MAX_VALUE, md3, "s-4");
  }

  @Test
  void doesNotDeleteSnapshotsWithNonMatchingUpperTimestampBounds() {
    SnapshotMetadata md = metadata.get(3);
    SnapshotSelectionCriteria criteria = criteria(md.sequenceNr(), md.timestamp() - 1);
    store.tell(new SnapshotProtocol.DeleteSnapshots(pid, criteria), sender.getRef());
    sender.expectMsg(new DeleteSnapshotsSuccess(criteria));

    expectLoad(pid, criteria(md.sequenceNr(), md.timestamp()), Long.MAX_VALUE, md, "s-4");
  }

  @Test
  void deletesWithinLowerBounds() {
    SnapshotSelectionCriteria criteria = new SnapshotSelectionCriteria(15, Long.MAX_VALUE, 14, 0);
    store.tell(new SnapshotProtocol.DeleteSnapshots(pid, criteria), sender.getRef());
    sender.expectMsg(new DeleteSnapshotsSuccess(criteria));

    expectLoad(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, metadata.get(2), "s-3");
  }

  @Test
  void savesAndOverwritesASnapshotWithTheSameSequenceNr() {
    SnapshotMetadata saved = save(metadata.get(4), "s-5-modified");
    assertEquals(metadata.get(4).sequenceNr(), saved.sequenceNr());
    store.tell(
        new SnapshotProtocol.LoadSnapshot(
            pid, criteria(saved.sequenceNr(), Long.MAX_VALUE), Long.MAX_VALUE),
        sender.getRef());
    SnapshotProtocol.LoadSnapshotResult result =
        sender.expectMsgClass(SnapshotProtocol.LoadSnapshotResult.class);
    assertEquals("s-5-modified", result.snapshot().get().snapshot());
    assertEquals(saved.sequenceNr(), result.snapshot().get().metadata().sequenceNr());
  }

  @Test
  void savesABigSnapshot() {
    String big = "0".repeat(10_000) + "1".repeat(1_000_000);
    SnapshotMetadata saved = save(SnapshotMetadata.apply(pid, 100, 0L), big);
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, saved, big);
  }

  @Test
  void serializesSnapshotsThroughPekkoSerialization() {
    TestPayload payload = new TestPayload(new TestKit(classic()).getRef());
    SnapshotMetadata saved = save(SnapshotMetadata.apply(pid, 100, 0L), payload);
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, saved, payload);
  }

  @Test
  void failsASaveOfAnUnserializableSnapshot() {
    SnapshotMetadata md = SnapshotMetadata.apply(pid, 100, 0L);
    store.tell(new SnapshotProtocol.SaveSnapshot(md, new Object()), sender.getRef());
    SaveSnapshotFailure failure = sender.expectMsgClass(SaveSnapshotFailure.class);
    assertEquals(md, failure.metadata());
    expectLoad(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE, metadata.get(4), "s-5");
  }

  private SnapshotMetadata save(SnapshotMetadata md, Object snapshot) {
    store.tell(new SnapshotProtocol.SaveSnapshot(md, snapshot), sender.getRef());
    SnapshotMetadata saved =
        sender.expectMsgClass(Duration.ofSeconds(5), SaveSnapshotSuccess.class).metadata();
    assertTrue(saved.timestamp() > 0);
    return saved;
  }

  private void expectLoad(
      String persistenceId,
      SnapshotSelectionCriteria criteria,
      long toSequenceNr,
      SnapshotMetadata md,
      Object snapshot) {
    store.tell(
        new SnapshotProtocol.LoadSnapshot(persistenceId, criteria, toSequenceNr), sender.getRef());
    Option<SelectedSnapshot> expected =
        md == null ? Option.empty() : Option.apply(SelectedSnapshot.create(md, snapshot));
    sender.expectMsg(new SnapshotProtocol.LoadSnapshotResult(expected, toSequenceNr));
  }

  private static SnapshotSelectionCriteria criteria(long maxSequenceNr, long maxTimestamp) {
    return new SnapshotSelectionCriteria(maxSequenceNr, maxTimestamp, 0L, 0L);
  }

  private ActorSystem classic() {
    return testKit.system().classicSystem();
  }
}
