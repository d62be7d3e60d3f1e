package io.switchboard.node.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.GroupSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.v1.events.GroupEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;

@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GroupEntityTest {

  /** The node's real serialization bindings, the testkit's in-memory journal, no remoting. */
  private static final Config CONFIG =
      ConfigFactory.parseString("pekko.actor.provider = local")
          .withFallback(EventSourcedBehaviorTestKit.config())
          .withFallback(ConfigFactory.load());

  /** The testkit's journal and snapshot store, read the way the node reads its settings. */
  private static final PersistenceSettings PERSISTENCE =
      PersistenceSettings.create(
          ConfigFactory.parseMap(
                  Map.of(
                      "switchboard.persistence.journal-plugin",
                      PersistenceTestKitPlugin.PluginId(),
                      "switchboard.persistence.snapshot-plugin",
                      PersistenceTestKitSnapshotPlugin.PluginId()))
              .withFallback(ConfigFactory.load()));

  /**
   * Commands and replies go through the node's Jackson CBOR binding, and the journal's events (the
   * Protobuf messages the EventAdapter produced) through the proto binding. The state is a mutable
   * in-entity class that is only ever stored through the SnapshotAdapter, so it is not checked here
   * (snapshots are covered by the restart tests and SerializationTest).
   */
  private static final EventSourcedBehaviorTestKit.SerializationSettings SERIALIZATION =
      EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false);

  private static final GroupEventCodec.Events CODEC = new GroupEventCodec.Events();

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withName("GroupEntityTest").withCustomConfig(CONFIG).build();

  private String groupId;
  private EventSourcedBehaviorTestKit<GroupEntity.Command, Object, GroupState> kit;

  private static GroupSettings settings(
      int retentionMaxCount, int keysMaxCount, int snapshotEvery) {
    return new GroupSettings(
        retentionMaxCount,
        Duration.ofHours(24),
        keysMaxCount,
        Duration.ofMinutes(10),
        Duration.ofHours(1), // trimming is driven by explicit Ticks
        snapshotEvery,
        Duration.ofSeconds(5),
        Duration.ofHours(1));
  }

  @BeforeEach
  void freshGroup() {
    open(settings(1_000, 1_000, 1_000));
  }

  /** A new group id with these settings, and an empty journal for it. */
  private void open(GroupSettings settings) {
    groupId = "group-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            GroupEntity.create(groupId, settings, PERSISTENCE, null),
            SERIALIZATION);
    kit.clear();
  }

  // ---- helpers

  /** The journal holds Protobuf; decode it through the entity's own adapter. */
  private static List<GroupEntity.Event> events(CommandResult<?, Object, ?> result) {
    List<GroupEntity.Event> out = new ArrayList<>();
    for (Object stored : result.events()) {
      out.addAll(CollectionConverters.asJava(CODEC.fromJournal((GroupEvent) stored, "").events()));
    }
    return out;
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          GroupEntity.Command, Object, GroupState, StatusReply<GroupEntity.Receipt>>
      publish(String payload, String key) {
    return kit.<StatusReply<GroupEntity.Receipt>>runCommand(
        replyTo -> new GroupEntity.Publish(bytes(payload), key, replyTo));
  }

  private GroupEntity.Receipt published(String payload, String key) {
    return publish(payload, key).reply().getValue();
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          GroupEntity.Command, Object, GroupState, StatusReply<GroupEntity.Membership>>
      addMember(String sessionId) {
    return kit.<StatusReply<GroupEntity.Membership>>runCommand(
        replyTo -> new GroupEntity.AddMember(sessionId, replyTo));
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          GroupEntity.Command, Object, GroupState, StatusReply<Done>>
      removeMember(String sessionId) {
    return kit.<StatusReply<Done>>runCommand(
        replyTo -> new GroupEntity.RemoveMember(sessionId, replyTo));
  }

  private Page read(long fromOffset, int maxCount) {
    return kit.<Page>runCommand(replyTo -> new GroupEntity.Read(fromOffset, maxCount, replyTo))
        .reply();
  }

  private GroupEntity.Info inspect() {
    return kit.<GroupEntity.Info>runCommand(GroupEntity.Inspect::new).reply();
  }

  private CommandResult<GroupEntity.Command, Object, GroupState> tick() {
    return kit.runCommand(GroupEntity.Tick.INSTANCE);
  }

  private static List<Long> offsets(List<Publication> items) {
    return items.stream().map(Publication::offset).toList();
  }

  private static List<String> payloads(List<Publication> items) {
    return items.stream().map(p -> p.payload().toStringUtf8()).toList();
  }

  // ---- membership

  @Test
  void addMemberJoinsOnceAndAnswersTheHead() {
    published("before", null);

    var first = addMember("s1");
    assertEquals(new GroupEntity.Membership(1, 1), first.reply().getValue());
    assertEquals(List.of(new GroupEntity.MemberJoined("s1")), events(first));
    assertTrue(first.state().isMember("s1"));

    var again = addMember("s1");
    assertEquals(new GroupEntity.Membership(1, 1), again.reply().getValue());
    assertTrue(again.hasNoEvents(), "a repeated AddMember persists nothing");
    assertEquals(Set.of("s1"), inspect().members());
  }

  @Test
  void newMemberCursorStartsAtTheHead() {
    published("a", null);
    published("b", null);
    addMember("s1");
    assertEquals(Map.of("s1", 2L), inspect().cursors());
  }

  @Test
  void removeMemberIsIdempotent() {
    addMember("s1");

    var first = removeMember("s1");
    assertTrue(first.reply().isSuccess());
    assertEquals(List.of(new GroupEntity.MemberLeft("s1")), events(first));
    assertFalse(first.state().isMember("s1"));

    var again = removeMember("s1");
    assertTrue(again.reply().isSuccess());
    assertTrue(again.hasNoEvents());

    var never = removeMember("never-joined");
    assertTrue(never.reply().isSuccess());
    assertTrue(never.hasNoEvents());
    assertEquals(Set.of(), inspect().members());
  }

  // ---- publishing

  @Test
  void publishAssignsGapFreeOffsetsFromOne() {
    for (long expected = 1; expected <= 3; expected++) {
      var result = publish("m" + expected, null);
      assertEquals(new GroupEntity.Receipt(expected, false), result.reply().getValue());
      GroupEntity.Published event = (GroupEntity.Published) events(result).get(0);
      assertEquals(expected, event.publication().offset());
      assertEquals(bytes("m" + expected), event.publication().payload());
      assertEquals(1, events(result).size(), "one journal write per publication");
    }
    GroupState state = kit.getState();
    assertEquals(3, state.head());
    assertEquals(1, state.firstOffset());
    assertEquals(3, state.retainedCount());
  }

  @Test
  void publishRetryWithSameKeyIsNotPublishedTwice() {
    assertEquals(new GroupEntity.Receipt(1, false), published("a", "key-a"));
    assertEquals(new GroupEntity.Receipt(2, false), published("b", "key-b"));

    var retry = publish("a", "key-a");

    assertEquals(new GroupEntity.Receipt(1, true), retry.reply().getValue());
    assertTrue(retry.hasNoEvents(), "a retried publish persists nothing");
    assertEquals(2, retry.state().head());
    assertEquals(List.of("a", "b"), payloads(read(1, 10).items()));
  }

  @Test
  void publishWithoutKeyIsNeverTakenForARetry() {
    assertEquals(new GroupEntity.Receipt(1, false), published("a", null));
    assertEquals(new GroupEntity.Receipt(2, false), published("a", null));
    assertEquals(new GroupEntity.Receipt(3, false), published("a", ""));
    assertEquals(new GroupEntity.Receipt(4, false), published("a", ""));
  }

  @Test
  void keyThatLeftTheIdempotencyWindowPublishesAgain() {
    open(settings(1_000, 2, 1_000)); // the window remembers the last two keys
    published("1", "k1");
    published("2", "k2");
    published("3", "k3"); // pushes k1 out

    var again = publish("1", "k1");
    assertEquals(new GroupEntity.Receipt(4, false), again.reply().getValue());
    assertEquals(1, events(again).size());
    assertEquals(new GroupEntity.Receipt(3, true), published("3", "k3"));
  }

  // ---- reading

  @Test
  void readReturnsPagesFromAnOffset() {
    for (int i = 1; i <= 5; i++) {
      published("m" + i, null);
    }
    Page first = read(1, 2);
    assertEquals(groupId, first.stream());
    assertEquals(List.of(1L, 2L), offsets(first.items()));
    assertEquals(List.of("m1", "m2"), payloads(first.items()));
    assertEquals(1, first.firstOffset());
    assertEquals(5, first.head());

    assertEquals(List.of(3L, 4L, 5L), offsets(read(3, 10).items()));
  }

  @Test
  void readBeyondTheHeadIsEmptyButTellsTheHead() {
    published("a", null);
    published("b", null);
    Page page = read(3, 10);
    assertEquals(List.of(), page.items());
    assertEquals(2, page.head());
    assertEquals(1, page.firstOffset());
  }

  @Test
  void retentionCountTrimsTheLogAndReadsBelowStartAtTheOldestRetained() {
    open(settings(3, 1_000, 1_000));
    for (int i = 1; i <= 5; i++) {
      published("m" + i, null);
    }
    GroupState state = kit.getState();
    assertEquals(3, state.firstOffset());
    assertEquals(3, state.retainedCount());
    assertEquals(5, state.head());

    Page page = read(1, 10);
    assertEquals(3, page.firstOffset(), "a reader below it learns what was lost");
    assertEquals(List.of(3L, 4L, 5L), offsets(page.items()));
    assertEquals(List.of("m3", "m4", "m5"), payloads(page.items()));
    GroupEntity.Info info = inspect();
    assertEquals(3, info.retained());
    assertEquals(3, info.firstOffset());
  }

  // ---- cursors and trimming

  @Test
  void tickTrimsBelowTheLowestMemberCursor() {
    addMember("a");
    addMember("b");
    for (int i = 1; i <= 5; i++) {
      published("m" + i, null);
    }
    assertTrue(kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 4L))).hasNoEvents());
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("b", 2L)));
    assertEquals(Map.of("a", 4L, "b", 2L), inspect().cursors());

    var trimmed = tick();
    assertEquals(List.of(new GroupEntity.LogTrimmed(2)), events(trimmed));
    assertEquals(3, trimmed.state().firstOffset());
    assertEquals(List.of(3L, 4L, 5L), offsets(read(1, 10).items()));
    assertTrue(tick().hasNoEvents(), "nothing more to trim");

    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("b", 5L)));
    assertEquals(List.of(new GroupEntity.LogTrimmed(4)), events(tick()));
    assertEquals(List.of(5L), offsets(read(1, 10).items()));
  }

  @Test
  void cursorsAreCappedAtTheHeadAndNeverMoveBack() {
    addMember("a");
    published("m1", null);
    published("m2", null);
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 99L)));
    assertEquals(Map.of("a", 2L), inspect().cursors());
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 1L)));
    assertEquals(Map.of("a", 2L), inspect().cursors());
  }

  @Test
  void cursorOfANonMemberIsIgnored() {
    addMember("a");
    published("m1", null);
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("stranger", 1L)));
    assertEquals(Map.of("a", 0L), inspect().cursors());
    assertTrue(tick().hasNoEvents(), "member a has not acked anything");
  }

  @Test
  void memberWithUnknownCursorHoldsTrimmingAfterRecovery() {
    addMember("a");
    addMember("b");
    for (int i = 1; i <= 3; i++) {
      published("m" + i, null);
    }
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 2L)));
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("b", 2L)));
    assertEquals(List.of(new GroupEntity.LogTrimmed(2)), events(tick()));
    published("m4", null);
    published("m5", null);

    kit.restart(); // member cursors are runtime state: both are unknown now
    assertEquals(Map.of(), inspect().cursors());
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 5L)));
    assertTrue(tick().hasNoEvents(), "b's unknown cursor holds the log at the last trim");
    assertEquals(List.of(3L, 4L, 5L), offsets(read(1, 10).items()));

    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("b", 4L)));
    assertEquals(List.of(new GroupEntity.LogTrimmed(4)), events(tick()));
  }

  // ---- fan-out

  @Test
  void subscribedFanoutGetsTheHeadThenEveryPublication() {
    published("m1", null);
    published("m2", "key-2");
    TestProbe<GroupFanoutActor.Command> fanout = testKit.createTestProbe();

    assertTrue(kit.runCommand(new GroupEntity.Subscribe(fanout.ref())).hasNoEvents());
    fanout.expectMessage(new GroupFanoutActor.Subscribed(groupId, 2));

    published("m3", null);
    published("m4", null);
    for (long offset = 3; offset <= 4; offset++) {
      GroupFanoutActor.Deliver deliver = fanout.expectMessageClass(GroupFanoutActor.Deliver.class);
      assertEquals(groupId, deliver.groupId());
      assertEquals(offset, deliver.publication().offset());
      assertEquals(bytes("m" + offset), deliver.publication().payload());
    }

    assertEquals(new GroupEntity.Receipt(2, true), published("m2", "key-2"));
    fanout.expectNoMessage();
    assertEquals(1, inspect().subscribedNodes());
  }

  @Test
  void resubscribingAnswersTheCurrentHeadAndCountsTheNodeOnce() {
    TestProbe<GroupFanoutActor.Command> fanout = testKit.createTestProbe();
    kit.runCommand(new GroupEntity.Subscribe(fanout.ref()));
    fanout.expectMessage(new GroupFanoutActor.Subscribed(groupId, 0));
    published("m1", null);
    fanout.expectMessageClass(GroupFanoutActor.Deliver.class);

    kit.runCommand(new GroupEntity.Subscribe(fanout.ref()));
    fanout.expectMessage(new GroupFanoutActor.Subscribed(groupId, 1));
    assertEquals(1, inspect().subscribedNodes());
  }

  @Test
  void unsubscribedFanoutGetsNothingMore() {
    TestProbe<GroupFanoutActor.Command> fanout = testKit.createTestProbe();
    kit.runCommand(new GroupEntity.Subscribe(fanout.ref()));
    fanout.expectMessageClass(GroupFanoutActor.Subscribed.class);

    kit.runCommand(new GroupEntity.Unsubscribe(fanout.ref()));
    assertEquals(0, inspect().subscribedNodes());
    published("m1", null);
    fanout.expectNoMessage();
  }

  @Test
  void stoppedFanoutIsForgotten() {
    TestProbe<GroupFanoutActor.Command> fanout = testKit.createTestProbe();
    kit.runCommand(new GroupEntity.Subscribe(fanout.ref()));
    fanout.expectMessageClass(GroupFanoutActor.Subscribed.class);
    assertEquals(1, inspect().subscribedNodes());

    fanout.stop();
    TestProbe<Object> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          assertEquals(0, inspect().subscribedNodes());
          return null;
        });
  }

  @Test
  void inspectReportsMembersCursorsHeadAndRetention() {
    addMember("a");
    published("m1", null);
    published("m2", null);
    addMember("b");
    assertEquals(
        new GroupEntity.Info(groupId, Set.of("a", "b"), Map.of("a", 0L, "b", 2L), 2, 1, 2, 0),
        inspect());
  }

  // ---- recovery

  /** What a group is, seen from outside. */
  private record View(
      long head, long firstOffset, Set<String> members, List<Publication> log, long keyOffset) {}

  private View view(String key) {
    GroupState state = kit.getState();
    long keyOffset = state.offsetOfKey(key, System.currentTimeMillis(), 600_000).orElse(-1L);
    return new View(
        state.head(),
        state.firstOffset(),
        Set.copyOf(state.members()),
        read(0, 1_000).items(),
        keyOffset);
  }

  private void buildHistory() {
    addMember("a");
    addMember("b");
    for (int i = 1; i <= 4; i++) {
      published("m" + i, "key-" + i);
    }
    removeMember("b");
    kit.runCommand(new GroupEntity.AdvanceCursors(Map.of("a", 2L)));
    assertEquals(List.of(new GroupEntity.LogTrimmed(2)), events(tick()));
    published("m5", "key-5");
  }

  @Test
  void restartReplaysHeadMembersLogAndKeys() {
    buildHistory();
    View before = view("key-3");
    assertEquals(5, before.head());
    assertEquals(3, before.firstOffset());
    assertEquals(Set.of("a"), before.members());
    assertEquals(3, before.keyOffset());

    GroupState recovered = kit.restart().state();

    assertEquals(5, recovered.head());
    assertEquals(before, view("key-3"));
    assertEquals(new GroupEntity.Receipt(4, true), published("m4", "key-4"));
    assertEquals(new GroupEntity.Receipt(6, false), published("m6", null));
  }

  @Test
  void restartFromSnapshotsRebuildsTheSameState() {
    open(settings(1_000, 1_000, 3));
    buildHistory();
    for (int i = 6; i <= 9; i++) {
      published("m" + i, "key-" + i);
    }
    View before = view("key-7");
    String persistenceId = "Group|" + groupId;
    testKit
        .createTestProbe()
        .awaitAssert(
            () -> {
              assertFalse(
                  kit.snapshotTestKit().orElseThrow().persistedInStorage(persistenceId).isEmpty(),
                  "snapshots were taken");
              assertTrue(
                  kit.persistenceTestKit().persistedInStorage(persistenceId).size() < 13,
                  "older events were deleted, so recovery must start from a snapshot");
              return null;
            });

    kit.restart();

    assertEquals(before, view("key-7"));
    assertEquals(9, before.head());
    assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L, 9L), offsets(before.log()));
    assertEquals(new GroupEntity.Receipt(7, true), published("m7", "key-7"));
    assertEquals(new GroupEntity.Receipt(10, false), published("m10", null));
  }
}
