package io.switchboard.persistence.redis;

import static io.switchboard.persistence.redis.JournalProbe.atomic;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.RedisCli;
import io.switchboard.persistence.embedded.RedisServerExtension;
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
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.SaveSnapshotSuccess;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotProtocol;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import scala.Option;

/**
 * The plugins on Redis Cluster (a one-node cluster, configured through a Redisson YAML
 * configuration): every script touches the keys of one persistence id, which share a hash slot.
 */
@ExtendWith({TestKitJUnit5Extension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisClusterTest {

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.cluster();

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(TestConfig.forServer(redis)).build();

  @BeforeAll
  void awaitRedis() {
    new JournalProbe(testKit.system().classicSystem()).awaitReady();
  }

  @Test
  void writesManyPersistenceIdsWithOneScriptCallEachAndReplaysThem() {
    JournalProbe journal = new JournalProbe(testKit.system().classicSystem());
    RedisCli cli = new RedisCli(redis.server().port());
    long scriptCallsBefore = cli.commandCalls("evalsha");
    List<String> pids = new ArrayList<>();
    for (int p = 0; p < 30; p++) pids.add("p-" + UUID.randomUUID());
    List<AtomicWrite> writes = new ArrayList<>();
    for (String pid : pids) {
      writes.add(atomic(journal.repr(pid, 1, "a-1"), journal.repr(pid, 2, "a-2")));
      writes.add(atomic(journal.repr(pid, 3, "a-3")));
    }
    journal.write(writes.toArray(AtomicWrite[]::new));

    assertEquals(30, cli.commandCalls("evalsha") - scriptCallsBefore);
    for (String pid : pids) journal.expectJournal(pid, 3, 1, 2, 3);
    journal.delete(pids.get(0), 2);
    journal.expectJournal(pids.get(0), 3, 3);
  }

  @Test
  void savesAndLoadsSnapshots() {
    ActorRef store =
        Persistence.get(testKit.system())
            .snapshotStoreFor("switchboard.persistence.snapshot-store", ConfigFactory.empty());
    TestKit probe = new TestKit(testKit.system().classicSystem());
    String pid = "p-" + UUID.randomUUID();
    store.tell(
        new SnapshotProtocol.SaveSnapshot(SnapshotMetadata.apply(pid, 7, 0L), "s-7"),
        probe.getRef());
    SnapshotMetadata saved = probe.expectMsgClass(SaveSnapshotSuccess.class).metadata();

    store.tell(
        new SnapshotProtocol.LoadSnapshot(pid, SnapshotSelectionCriteria.Latest(), Long.MAX_VALUE),
        probe.getRef());
    probe.expectMsg(
        new SnapshotProtocol.LoadSnapshotResult(
            Option.apply(SelectedSnapshot.create(saved, "s-7")), Long.MAX_VALUE));
  }
}
