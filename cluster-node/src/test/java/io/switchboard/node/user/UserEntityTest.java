package io.switchboard.node.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.PersistenceSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The user index: sessions added and removed idempotently, kept across restarts. */
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserEntityTest {

  private static final PersistenceSettings PERSISTENCE =
      PersistenceSettings.create(
          ConfigFactory.parseMap(
                  Map.of(
                      "switchboard.persistence.journal-plugin",
                      PersistenceTestKitPlugin.PluginId(),
                      "switchboard.persistence.snapshot-plugin",
                      PersistenceTestKitSnapshotPlugin.PluginId()))
              .withFallback(ConfigFactory.load()));

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder()
          .withName("UserEntityTest")
          .withCustomConfig(
              ConfigFactory.parseString("pekko.remote.artery.canonical.port = 0")
                  .withFallback(EventSourcedBehaviorTestKit.config())
                  .withFallback(ConfigFactory.load()))
          .build();

  private EventSourcedBehaviorTestKit<UserEntity.Command, Object, UserState> kit;

  @BeforeEach
  void freshUser() {
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            UserEntity.create(
                "user-" + UUID.randomUUID(), PERSISTENCE, null, Duration.ofMinutes(1)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
    kit.clear();
  }

  private List<String> sessions() {
    return kit.<UserEntity.Sessions>runCommand(UserEntity.GetSessions::new).reply().sessionIds();
  }

  @Test
  void sessionsAreAddedOnceAndRemovedOnce() {
    assertEquals(1, kit.runCommand(new UserEntity.AddSession("s1")).events().size());
    assertTrue(kit.runCommand(new UserEntity.AddSession("s1")).hasNoEvents(), "idempotent");
    kit.runCommand(new UserEntity.AddSession("s2"));
    assertEquals(List.of("s1", "s2"), sessions());

    assertEquals(1, kit.runCommand(new UserEntity.RemoveSession("s1")).events().size());
    assertTrue(kit.runCommand(new UserEntity.RemoveSession("s1")).hasNoEvents(), "idempotent");
    assertEquals(List.of("s2"), sessions());
  }

  @Test
  void theIndexSurvivesARestart() {
    kit.runCommand(new UserEntity.AddSession("s1"));
    kit.runCommand(new UserEntity.AddSession("s2"));
    kit.runCommand(new UserEntity.RemoveSession("s1"));
    kit.restart();
    assertEquals(List.of("s2"), sessions());
  }

  @Test
  void theSharedAnonymousUserIndexesNothing() {
    ActorRef<UserEntity.Command> anonymous = testKit.spawn(UserEntity.unindexed("anonymous"));
    anonymous.tell(new UserEntity.AddSession("s1"));
    TestProbe<UserEntity.Sessions> probe = testKit.createTestProbe();
    anonymous.tell(new UserEntity.GetSessions(probe.ref()));
    assertEquals(new UserEntity.Sessions("anonymous", List.of()), probe.receiveMessage());
  }

  @Test
  void anIdleUserLeavesMemoryAndRecoversItsSessions() {
    String userId = "user-" + UUID.randomUUID();
    TestProbe<ClusterSharding.ShardCommand> shard = testKit.createTestProbe();
    ActorRef<UserEntity.Command> user =
        testKit.spawn(UserEntity.create(userId, PERSISTENCE, shard.ref(), Duration.ofMillis(300)));
    user.tell(new UserEntity.AddSession("s1"));

    ClusterSharding.Passivate<?> passivate =
        shard.expectMessageClass(ClusterSharding.Passivate.class, Duration.ofSeconds(5));
    assertEquals(user, passivate.entity());
    testKit.stop(user);

    // The shard starts it again for the next command: the index comes back from the journal.
    ActorRef<UserEntity.Command> again =
        testKit.spawn(UserEntity.create(userId, PERSISTENCE, shard.ref(), Duration.ofMinutes(1)));
    TestProbe<UserEntity.Sessions> probe = testKit.createTestProbe();
    again.tell(new UserEntity.GetSessions(probe.ref()));
    assertEquals(new UserEntity.Sessions(userId, List.of("s1")), probe.receiveMessage());
    shard.expectNoMessage(Duration.ofMillis(200));
  }
}
