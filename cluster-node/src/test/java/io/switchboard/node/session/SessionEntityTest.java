package io.switchboard.node.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.config.GroupSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.config.SessionSettings;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import io.switchboard.node.stream.StreamNames;
import io.switchboard.node.user.UserEntity;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.events.SessionEvent;
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
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.japi.function.Effect;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResult;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The session entity under the EventSourcedBehaviorTestKit, on a one-node cluster whose groups are
 * real sharded {@link GroupEntity}s on the same persistence testkit journal: joins, leaves, acks
 * and the end of a session are checked on both sides.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionEntityTest {

  private static final Config CONFIG =
      ConfigFactory.parseString(
              """
              pekko.actor.provider = cluster
              pekko.remote.artery.canonical.hostname = "127.0.0.1"
              pekko.remote.artery.canonical.port = 0
              pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
              """)
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

  private static final GroupSettings GROUPS =
      new GroupSettings(
          1_000,
          Duration.ofHours(24),
          1_000,
          Duration.ofMinutes(10),
          Duration.ofHours(1),
          1_000,
          Duration.ofSeconds(5),
          Duration.ofHours(1));

  /** Commands and replies through the node's Jackson binding; the journal's Protobuf events too. */
  private static final EventSourcedBehaviorTestKit.SerializationSettings SERIALIZATION =
      EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false);

  private static final SessionEventCodec.Events CODEC = new SessionEventCodec.Events();
  private static final String USER = "user-1";
  private static final ByteString TOKEN_HASH = ByteString.copyFromUtf8("sha256-of-the-token");
  private static final Duration LONG = Duration.ofHours(1);

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withName("SessionEntityTest").withCustomConfig(CONFIG).build();

  private ClusterSharding sharding;
  private String sessionId;
  private EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> kit;
  private TestProbe<Socket.Command> socket;

  private static SessionSettings settings(Duration detachedTimeout, int snapshotEvery) {
    return new SessionSettings(
        detachedTimeout,
        1_000,
        Duration.ofHours(24),
        snapshotEvery,
        Duration.ofMillis(50),
        Duration.ofSeconds(3));
  }

  @BeforeAll
  void joinSelfAndStartGroups() {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    eventually(() -> assertEquals(MemberStatus.up(), cluster.selfMember().status()));
    GroupEntity.init(testKit.system(), GROUPS, PERSISTENCE);
    UserEntity.init(testKit.system(), PERSISTENCE); // sessions index themselves by user
    sharding = ClusterSharding.get(testKit.system());
  }

  @BeforeEach
  void freshSession() {
    socket = testKit.createTestProbe();
    reopen(settings(LONG, 1_000));
  }

  /** A new session id with these settings, and an empty journal. */
  private void reopen(SessionSettings settings) {
    sessionId = "session-" + UUID.randomUUID();
    kit = open(sessionId, settings);
  }

  private EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> open(
      String id, SessionSettings settings) {
    EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> k =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), SessionEntity.create(id, settings, PERSISTENCE, null), SERIALIZATION);
    k.clear();
    return k;
  }

  // ---- helpers

  private void eventually(Effect assertion) {
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(5),
            () -> {
              assertion.apply();
              return null;
            });
  }

  private static List<SessionEntity.Event> decode(List<Object> journal) {
    List<SessionEntity.Event> out = new ArrayList<>();
    for (Object stored : journal) {
      out.addAll(
          CollectionConverters.asJava(CODEC.fromJournal((SessionEvent) stored, "").events()));
    }
    return out;
  }

  private static List<SessionEntity.Event> events(CommandResult<?, Object, ?> result) {
    return decode(result.events());
  }

  /** Everything the journal holds for a session, decoded. */
  private List<SessionEntity.Event> journal(
      EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> k, String id) {
    return decode(k.persistenceTestKit().persistedInStorage("Session|" + id));
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static String newGroup() {
    return "g-" + UUID.randomUUID();
  }

  private CommandResultWithReply<
          SessionEntity.Command, Object, SessionState, StatusReply<SessionEntity.Attached>>
      start(EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> k) {
    return k.<StatusReply<SessionEntity.Attached>>runCommand(
        replyTo -> new SessionEntity.Start(USER, TOKEN_HASH, socket.ref(), replyTo));
  }

  private StatusReply<SessionEntity.Attached> attach(
      String userId, ByteString hash, TestProbe<Socket.Command> by) {
    return kit.<StatusReply<SessionEntity.Attached>>runCommand(
            replyTo -> new SessionEntity.Attach(userId, hash, by.ref(), replyTo))
        .reply();
  }

  private CommandResultWithReply<
          SessionEntity.Command, Object, SessionState, StatusReply<SessionEntity.Joined>>
      join(
          EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> k,
          String groupId) {
    return k.<StatusReply<SessionEntity.Joined>>runCommand(
        replyTo -> new SessionEntity.JoinGroup(groupId, replyTo));
  }

  private CommandResultWithReply<SessionEntity.Command, Object, SessionState, StatusReply<Done>>
      leave(String groupId) {
    return kit.<StatusReply<Done>>runCommand(
        replyTo -> new SessionEntity.LeaveGroup(groupId, replyTo));
  }

  private CommandResultWithReply<
          SessionEntity.Command, Object, SessionState, StatusReply<SessionEntity.Queued>>
      send(String payload) {
    return kit.<StatusReply<SessionEntity.Queued>>runCommand(
        replyTo -> new SessionEntity.SendDirect(bytes(payload), replyTo));
  }

  private Page readInbox(long fromOffset, int maxCount) {
    return kit.<Page>runCommand(
            replyTo -> new SessionEntity.ReadInbox(fromOffset, maxCount, replyTo))
        .reply();
  }

  private SessionEntity.Info inspect(
      EventSourcedBehaviorTestKit<SessionEntity.Command, Object, SessionState> k) {
    return k.<SessionEntity.Info>runCommand(SessionEntity.Inspect::new).reply();
  }

  private StatusReply<Done> end(String reason, int closeCode) {
    return kit.<StatusReply<Done>>runCommand(
            replyTo -> new SessionEntity.End(reason, closeCode, replyTo))
        .reply();
  }

  private EntityRef<GroupEntity.Command> group(String groupId) {
    return sharding.entityRefFor(GroupEntity.ENTITY_KEY, groupId);
  }

  private GroupEntity.Info groupInfo(String groupId) {
    TestProbe<GroupEntity.Info> probe = testKit.createTestProbe();
    group(groupId).tell(new GroupEntity.Inspect(probe.ref()));
    return probe.receiveMessage();
  }

  private long publish(String groupId, String payload) {
    TestProbe<StatusReply<GroupEntity.Receipt>> probe = testKit.createTestProbe();
    group(groupId).tell(new GroupEntity.Publish(bytes(payload), null, probe.ref()));
    return probe.receiveMessage().getValue().offset();
  }

  private static List<Long> offsets(List<Publication> items) {
    return items.stream().map(Publication::offset).toList();
  }

  // ---- start and attach

  @Test
  void startOpensTheSessionAndAttachesTheSocket() {
    var result = start(kit);

    assertEquals(
        new SessionEntity.Attached(USER, List.of(), Map.of(), 0, 1), result.reply().getValue());
    SessionEntity.Started started = (SessionEntity.Started) events(result).get(0);
    assertEquals(USER, started.userId());
    assertEquals(TOKEN_HASH, started.resumeTokenHash());
    assertTrue(started.createdMs() > 0);
    assertTrue(result.state().isActive());
    assertTrue(inspect(kit).attached());
  }

  @Test
  void startRetriedWithTheSameSecretIsAnAttach() {
    start(kit);
    var retry = start(kit);
    assertTrue(retry.reply().isSuccess());
    assertTrue(retry.hasNoEvents());

    var collision =
        kit.<StatusReply<SessionEntity.Attached>>runCommand(
            replyTo -> new SessionEntity.Start(USER, bytes("other"), socket.ref(), replyTo));
    assertTrue(collision.reply().isError());
    assertTrue(collision.hasNoEvents());
  }

  @Test
  void attachWithAWrongTokenOrAnotherUserIsRefusedAsNotFound() {
    start(kit);
    TestProbe<Socket.Command> thief = testKit.createTestProbe();

    var wrongToken = attach(USER, bytes("guess"), thief);
    assertTrue(wrongToken.isError());
    assertEquals("session not found", wrongToken.getError().getMessage());

    var wrongUser = attach("user-2", TOKEN_HASH, thief);
    assertTrue(wrongUser.isError());
    assertEquals("session not found", wrongUser.getError().getMessage());

    socket.expectNoMessage(); // the attached socket was not replaced
    assertEquals(1, journal(kit, sessionId).size());
  }

  @Test
  void attachToASessionNeverStartedIsNotFound() {
    var reply = attach(USER, TOKEN_HASH, socket);
    assertTrue(reply.isError());
    assertEquals("session not found", reply.getError().getMessage());
    assertEquals(List.of(), journal(kit, sessionId));
  }

  @Test
  void attachWithTheRightTokenReturnsGroupsAndInboxAndReplacesTheOldSocket() {
    start(kit);
    String groupId = newGroup();
    join(kit, groupId);
    send("a");
    send("b");
    TestProbe<Socket.Command> second = testKit.createTestProbe();
    socket.receiveMessage(); // Live a
    socket.receiveMessage(); // Live b

    var reply = attach(USER, TOKEN_HASH, second);

    SessionEntity.Attached attached = reply.getValue();
    assertEquals(USER, attached.userId());
    assertEquals(List.of(groupId), attached.groups());
    assertEquals(2, attached.inboxHead());
    assertEquals(1, attached.inboxFirst());
    Socket.Close close = (Socket.Close) socket.receiveMessage();
    assertEquals(CloseCode.SESSION_REPLACED.code(), close.code());
    send("c");
    assertEquals(3, ((Socket.Live) second.receiveMessage()).publication().offset());
    socket.expectNoMessage();
  }

  @Test
  void socketThatStopsDetachesTheSession() {
    start(kit);
    assertTrue(inspect(kit).attached());
    socket.stop();
    eventually(() -> assertFalse(inspect(kit).attached()));
    assertTrue(inspect(kit).active(), "detached is not ended");
  }

  // ---- inbox

  @Test
  void sendDirectNumbersTheInboxAndPushesItLiveToTheSocket() {
    start(kit);
    for (long offset = 1; offset <= 3; offset++) {
      var result = send("m" + offset);
      assertEquals(new SessionEntity.Queued(offset), result.reply().getValue());
      SessionEntity.DirectQueued queued = (SessionEntity.DirectQueued) events(result).get(0);
      assertEquals(offset, queued.publication().offset());
      assertEquals(bytes("m" + offset), queued.publication().payload());

      Socket.Live live = (Socket.Live) socket.receiveMessage();
      assertEquals(StreamNames.INBOX, live.stream());
      assertEquals(queued.publication(), live.publication());
    }
    assertEquals(3, kit.getState().inbox().head());
  }

  @Test
  void sendDirectToASessionNeverStartedIsNotFound() {
    var result = send("lost");
    assertTrue(result.reply().isError());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void readInboxReturnsPagesFromAnOffset() {
    start(kit);
    for (int i = 1; i <= 4; i++) {
      send("m" + i);
    }
    Page page = readInbox(2, 2);
    assertEquals(StreamNames.INBOX, page.stream());
    assertEquals(List.of(2L, 3L), offsets(page.items()));
    assertEquals(bytes("m2"), page.items().get(0).payload());
    assertEquals(1, page.firstOffset());
    assertEquals(4, page.head());
    assertEquals(List.of(), readInbox(5, 10).items());
  }

  @Test
  void ackOfTheInboxTrimsItUpToTheHead() {
    start(kit);
    for (int i = 1; i <= 3; i++) {
      send("m" + i);
    }

    var ack = kit.runCommand(new SessionEntity.Ack(Map.of(StreamNames.INBOX, 2L)));
    assertEquals(List.of(new SessionEntity.InboxTrimmed(2)), events(ack));
    Page page = readInbox(1, 10);
    assertEquals(3, page.firstOffset());
    assertEquals(List.of(3L), offsets(page.items()));

    assertTrue(kit.runCommand(new SessionEntity.Ack(Map.of(StreamNames.INBOX, 1L))).hasNoEvents());
    var beyond = kit.runCommand(new SessionEntity.Ack(Map.of(StreamNames.INBOX, 99L)));
    assertEquals(List.of(new SessionEntity.InboxTrimmed(3)), events(beyond));
    assertEquals(4, send("m4").reply().getValue().offset(), "offsets continue after a trim");
  }

  // ---- groups

  @Test
  void joinGroupAnswersTheHeadAndTheGroupHasTheMember() {
    start(kit);
    String groupId = newGroup();
    publish(groupId, "before-1");
    publish(groupId, "before-2");

    var result = join(kit, groupId);

    assertEquals(new SessionEntity.Joined(groupId, 2, 1), result.reply().getValue());
    assertEquals(List.of(new SessionEntity.GroupJoined(groupId)), events(result));
    assertEquals(Set.of(groupId), result.state().groups());
    GroupEntity.Info info = groupInfo(groupId);
    assertEquals(Set.of(sessionId), info.members());
    assertEquals(Map.of(sessionId, 2L), info.cursors());

    var again = join(kit, groupId);
    assertEquals(new SessionEntity.Joined(groupId, 2, 1), again.reply().getValue());
    assertTrue(again.hasNoEvents(), "a repeated join persists nothing");
  }

  @Test
  void joinGroupOfASessionNeverStartedIsNotFound() {
    String groupId = newGroup();
    var result = join(kit, groupId);
    assertTrue(result.reply().isError());
    assertTrue(result.hasNoEvents());
    assertEquals(Set.of(), groupInfo(groupId).members());
  }

  @Test
  void leaveGroupRemovesTheMemberAndIsConfirmed() {
    start(kit);
    String groupId = newGroup();
    join(kit, groupId);

    var result = leave(groupId);

    assertTrue(result.reply().isSuccess());
    assertEquals(new SessionEntity.GroupLeft(groupId), events(result).get(0));
    assertFalse(result.state().groups().contains(groupId));
    eventually(
        () -> {
          assertEquals(Set.of(), groupInfo(groupId).members());
          assertEquals(Set.of(), kit.getState().pendingLeaves());
          assertTrue(
              journal(kit, sessionId).contains(new SessionEntity.LeaveConfirmed(groupId)),
              "the group's confirmation is journaled");
        });

    var again = leave(groupId);
    assertTrue(again.reply().isSuccess());
    assertTrue(again.hasNoEvents());
  }

  @Test
  void groupAcksAreForwardedToTheGroup() {
    start(kit);
    String groupId = newGroup();
    join(kit, groupId);
    for (int i = 1; i <= 3; i++) {
      publish(groupId, "m" + i);
    }

    String stranger = newGroup();
    var ack = kit.runCommand(new SessionEntity.Ack(Map.of(groupId, 2L, stranger, 5L)));

    assertTrue(ack.hasNoEvents(), "group cursors are not journaled by the session");
    eventually(() -> assertEquals(Map.of(sessionId, 2L), groupInfo(groupId).cursors()));
    assertEquals(Map.of(), groupInfo(stranger).cursors());
  }

  // ---- the end

  @Test
  void endLeavesEveryGroupClosesTheSocketAndErasesTheJournal() {
    start(kit);
    String first = newGroup();
    String second = newGroup();
    join(kit, first);
    join(kit, second);
    send("m1");
    socket.receiveMessage();

    assertTrue(end("bye", CloseCode.SESSION_ENDED.code()).isSuccess());

    Socket.Close close = (Socket.Close) socket.receiveMessage();
    assertEquals(CloseCode.SESSION_ENDED.code(), close.code());
    assertEquals("bye", close.reason());
    eventually(
        () -> {
          assertEquals(Set.of(), groupInfo(first).members());
          assertEquals(Set.of(), groupInfo(second).members());
          assertEquals(List.of(), journal(kit, sessionId), "the journal is erased");
        });
    assertFalse(inspect(kit).active());
    assertTrue(attach(USER, TOKEN_HASH, socket).isError());
    assertTrue(send("late").reply().isError());
    assertTrue(end("again", 0).isSuccess(), "ending an ended session is fine");
  }

  @Test
  void erasedSessionRecoversAsNeverStarted() {
    start(kit);
    end("bye", 0);
    eventually(() -> assertEquals(List.of(), journal(kit, sessionId)));

    SessionState recovered = kit.restart().state();

    assertFalse(recovered.isStarted());
    assertTrue(attach(USER, TOKEN_HASH, socket).isError());
  }

  @Test
  void detachedSessionEndsAfterTheTimeoutWhileAnAttachedOneLives() {
    SessionSettings quick = settings(Duration.ofMillis(300), 1_000);
    reopen(quick);
    String attachedId = "session-" + UUID.randomUUID();
    var attachedKit = open(attachedId, quick);
    start(attachedKit);
    start(kit);
    String groupId = newGroup();
    join(kit, groupId);
    join(attachedKit, groupId);

    kit.runCommand(new SessionEntity.Detach(socket.ref()));

    eventually(
        () -> {
          assertFalse(inspect(kit).active());
          assertEquals(Set.of(attachedId), groupInfo(groupId).members());
          assertEquals(List.of(), journal(kit, sessionId));
        });
    assertTrue(inspect(attachedKit).active(), "an attached session does not expire");
  }

  @Test
  void detachOfAnotherSocketKeepsTheSessionAttached() {
    start(kit);
    TestProbe<Socket.Command> stranger = testKit.createTestProbe();
    kit.runCommand(new SessionEntity.Detach(stranger.ref()));
    assertTrue(inspect(kit).attached());
  }

  // ---- recovery

  private void buildHistory(String kept, String left) {
    start(kit);
    join(kit, kept);
    join(kit, left);
    leave(left);
    eventually(() -> assertEquals(Set.of(), kit.getState().pendingLeaves()));
    for (int i = 1; i <= 3; i++) {
      send("m" + i);
    }
    kit.runCommand(new SessionEntity.Ack(Map.of(StreamNames.INBOX, 1L)));
  }

  private void assertRecovered(SessionState state, String kept) {
    assertTrue(state.isActive());
    assertEquals(USER, state.userId());
    assertEquals(TOKEN_HASH, state.resumeTokenHash());
    assertEquals(Set.of(kept), state.groups());
    assertEquals(Set.of(), state.pendingLeaves());
    assertEquals(3, state.inbox().head());
    assertEquals(2, state.inbox().firstOffset());
    assertEquals(List.of(2L, 3L), offsets(readInbox(0, 10).items()));
    assertEquals(bytes("m2"), readInbox(2, 1).items().get(0).payload());
    SessionEntity.Attached attached = attach(USER, TOKEN_HASH, socket).getValue();
    assertEquals(List.of(kept), attached.groups());
    assertEquals(3, attached.inboxHead());
    assertEquals(2, attached.inboxFirst());
    assertEquals(new SessionEntity.Queued(4), send("m4").reply().getValue());
  }

  @Test
  void restartReplaysUserGroupsAndInbox() {
    String kept = newGroup();
    buildHistory(kept, newGroup());

    SessionState recovered = kit.restart().state();

    assertRecovered(recovered, kept);
  }

  @Test
  void restartFromSnapshotsReplaysUserGroupsAndInbox() {
    reopen(settings(LONG, 3));
    String kept = newGroup();
    buildHistory(kept, newGroup());
    eventually(
        () ->
            assertFalse(
                kit.snapshotTestKit()
                    .orElseThrow()
                    .persistedInStorage("Session|" + sessionId)
                    .isEmpty()));

    SessionState recovered = kit.restart().state();

    assertRecovered(recovered, kept);
  }

  @Test
  void recoveredSessionRejoinsItsGroups() {
    start(kit);
    String groupId = newGroup();
    join(kit, groupId);
    group(groupId).tell(new GroupEntity.RemoveMember(sessionId, testKit.system().ignoreRef()));
    eventually(() -> assertEquals(Set.of(), groupInfo(groupId).members()));

    kit.restart(); // e.g. the crash happened between the group's and the session's write

    eventually(() -> assertEquals(Set.of(sessionId), groupInfo(groupId).members()));
  }

  /**
   * A session that recovers knows nothing of what its client acked in its groups. It must not tell
   * the group (nor a resuming connection) that everything up to the group's current head was
   * consumed, or the group trims messages the client never received.
   */
  @Test
  void recoveredSessionDoesNotClaimUnackedGroupMessages() {
    start(kit);
    String groupId = newGroup();
    assertEquals(0, join(kit, groupId).reply().getValue().head());
    for (int i = 1; i <= 3; i++) {
      publish(groupId, "m" + i);
    }

    kit.restart();
    assertEquals(3, join(kit, groupId).reply().getValue().head()); // answered once re-confirmed

    SessionEntity.Attached attached = attach(USER, TOKEN_HASH, socket).getValue();
    assertEquals(Map.of(), attached.cursors(), "nothing of the group was acked");
    kit.runCommand(SessionEntity.Maintain.INSTANCE); // re-sends known cursors to groups
    kit.runCommand(new SessionEntity.Ack(Map.of(groupId, 1L)));
    eventually(() -> assertEquals(Map.of(sessionId, 1L), groupInfo(groupId).cursors()));
  }

  @Test
  void plainSessionRefusesMessagesForAnUpstream() {
    start(kit);
    var result =
        kit.<StatusReply<Done>>runCommand(
            replyTo -> new SessionEntity.ToUpstream(bytes("x"), "", replyTo));
    assertEquals(SessionEntity.NOT_A_BRIDGE, result.reply().getError().getMessage());
    assertTrue(result.events().isEmpty());
  }

  @Test
  void bridgeSessionJournalsItsRouteAndHeadersAndEndsWhenTheRouteIsNotConfiguredOnItsNode() {
    BridgeBinding binding = new BridgeBinding("nowhere", Map.of("cookie", "sid=1"));
    var started =
        kit.<StatusReply<SessionEntity.Attached>>runCommand(
            replyTo -> new SessionEntity.Start(USER, TOKEN_HASH, binding, socket.ref(), replyTo));
    assertTrue(started.reply().isSuccess());
    List<SessionEntity.Event> events = journal(kit, sessionId);
    assertTrue(events.get(0) instanceof SessionEntity.Started);
    assertEquals(
        new SessionEntity.BridgeOpened("nowhere", Map.of("cookie", "sid=1")), events.get(1));
    assertTrue(started.state().isBridge());
    assertEquals(Map.of("cookie", "sid=1"), started.state().bridgeHeaders());

    // No upstream can be reached for a route this node does not know: the session ends.
    Socket.Close close = socket.expectMessageClass(Socket.Close.class);
    assertEquals(CloseCode.UPSTREAM_LOST.code(), close.code());
    eventually(() -> assertTrue(kit.getState().isEnded()));
  }
}
