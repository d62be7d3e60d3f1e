package io.switchboard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.auth.GroupPattern;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.bridge.UpstreamStatus;
import io.switchboard.node.edge.LongPollSessions;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.group.GroupEventCodec;
import io.switchboard.node.group.GroupFanoutActor;
import io.switchboard.node.group.GroupState;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.session.SessionEventCodec;
import io.switchboard.node.session.SessionState;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.v1.events.GroupEvent;
import io.switchboard.protocol.v1.events.GroupSnapshot;
import io.switchboard.protocol.v1.events.IdempotencyEntry;
import io.switchboard.protocol.v1.events.QueuedDirect;
import io.switchboard.protocol.v1.events.RetainedPublication;
import io.switchboard.protocol.v1.events.SessionEvent;
import io.switchboard.protocol.v1.events.SessionSnapshot;
import java.lang.reflect.Modifier;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Everything that crosses a node boundary or reaches the journal, through the node's real
 * configuration (application.conf and its pekko-node.conf bindings, cluster provider): cluster
 * messages through Jackson CBOR, events and snapshots through their adapters to Protobuf.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SerializationTest {

  private static final Config CONFIG =
      ConfigFactory.parseString("pekko.remote.artery.canonical.port = 0")
          .withFallback(ConfigFactory.load());

  private static final String JACKSON_CBOR =
      "org.apache.pekko.serialization.jackson.JacksonCborSerializer";
  private static final String PROTOBUF = "org.apache.pekko.remote.serialization.ProtobufSerializer";

  /** Every byte value, so nothing relies on the payload being text. */
  private static final ByteString BINARY = allBytes();

  /** A token's identity, with patterns and an expiry (what a long-poll grant carries). */
  private static final Identity IDENTITY =
      new Identity(
          "user-1",
          List.of(new GroupPattern("room:*")),
          List.of(new GroupPattern("room:1"), new GroupPattern("*")),
          Instant.ofEpochMilli(1_700_000_000_123L),
          Identity.Kind.TOKEN);

  private static final Publication PUB = new Publication(42, BINARY, 1_700_000_000_123L);

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withName("SerializationTest").withCustomConfig(CONFIG).build();

  private static ByteString allBytes() {
    byte[] b = new byte[256];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) i;
    }
    return ByteString.copyFrom(b);
  }

  private <T> ActorRef<T> ref() {
    return testKit.<T>createTestProbe().ref();
  }

  /** Serializes with the serializer the bindings pick, checks which one, and reads it back. */
  private Object roundTrip(Object message, String expectedSerializer) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    Serializer serializer = serialization.findSerializerFor(message);
    assertEquals(
        expectedSerializer,
        serializer.getClass().getName(),
        () -> message.getClass().getName() + " is bound to the wrong serializer");
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    return serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  private void assertClusterMessageRoundTrips(Object message) {
    assertTrue(message instanceof ClusterMessage, () -> message + " is not a ClusterMessage");
    assertEquals(message, roundTrip(message, JACKSON_CBOR));
  }

  private static Set<Class<?>> publicPermitted(Class<?> sealed) {
    return Arrays.stream(sealed.getPermittedSubclasses())
        .filter(c -> Modifier.isPublic(c.getModifiers()))
        .collect(Collectors.toSet());
  }

  private static Set<Class<?>> classesOf(List<?> messages) {
    return messages.stream().map(Object::getClass).collect(Collectors.toSet());
  }

  // ---- cluster messages (Jackson CBOR)

  private List<GroupEntity.Command> groupCommands() {
    return List.of(
        new GroupEntity.AddMember("s1", ref()),
        new GroupEntity.RemoveMember("s1", ref()),
        new GroupEntity.Publish(BINARY, "key-1", ref()),
        new GroupEntity.Publish(ByteString.EMPTY, null, ref()),
        new GroupEntity.AdvanceCursors(Map.of("s1", 7L)),
        new GroupEntity.Read(3, 100, ref()),
        new GroupEntity.Subscribe(ref()),
        new GroupEntity.Unsubscribe(ref()),
        new GroupEntity.Inspect(ref()));
  }

  private List<SessionEntity.Command> sessionCommands() {
    ByteString hash = ByteString.copyFrom(new byte[] {1, 2, 3, (byte) 0xff});
    return List.of(
        new SessionEntity.Start("user-1", hash, ref(), ref()),
        new SessionEntity.Start(
            "user-1", hash, new BridgeBinding("chat", Map.of("cookie", "a=b")), ref(), ref()),
        new SessionEntity.ToUpstream(BINARY, "binary", ref()),
        new SessionEntity.Attach("user-1", hash, ref(), ref()),
        new SessionEntity.Reannounce(ref()),
        new SessionEntity.Detach(ref()),
        new SessionEntity.JoinGroup("room-1", ref()),
        new SessionEntity.LeaveGroup("room-1", ref()),
        new SessionEntity.Ack(Map.of("@", 3L, "room-1", 9_000_000_000L)),
        new SessionEntity.SendDirect(BINARY, ref()),
        new SessionEntity.ReadInbox(1, 50, ref()),
        new SessionEntity.End("bye", 4001, ref()),
        new SessionEntity.Inspect(ref()),
        new SessionEntity.AskClient(
            new Socket.Ask("GET", "/q", Map.of("h", "v"), BINARY, 500, ref())),
        new SessionEntity.NotifySocket(new Socket.Membership("room-1", true, 7)),
        new SessionEntity.Grant(hash, IDENTITY, ref()),
        new SessionEntity.Locate(hash, ref()));
  }

  @Test
  void everyRemoteGroupCommandRoundTrips() {
    List<GroupEntity.Command> commands = groupCommands();
    commands.forEach(this::assertClusterMessageRoundTrips);
    // Tick and FanoutTerminated are package-private: an entity sends them to itself only.
    assertEquals(publicPermitted(GroupEntity.Command.class), classesOf(commands));
  }

  @Test
  void everyRemoteSessionCommandRoundTrips() {
    List<SessionEntity.Command> commands = sessionCommands();
    commands.forEach(this::assertClusterMessageRoundTrips);
    // The package-private ones (timers, pipeToSelf results, watch) never leave the entity.
    assertEquals(publicPermitted(SessionEntity.Command.class), classesOf(commands));
  }

  @Test
  void groupRepliesRoundTrip() {
    assertClusterMessageRoundTrips(new GroupEntity.Membership(4, 2));
    assertClusterMessageRoundTrips(new GroupEntity.Receipt(9, true));
    assertClusterMessageRoundTrips(
        new GroupEntity.Info("room-1", Set.of("s1", "s2"), Map.of("s1", 3L, "s2", 5L), 5, 2, 4, 1));
    assertClusterMessageRoundTrips(new GroupEntity.Info("room-1", Set.of(), Map.of(), 0, 1, 0, 0));
  }

  @Test
  void sessionRepliesRoundTrip() {
    assertClusterMessageRoundTrips(
        new SessionEntity.Attached("user-1", List.of("a", "b"), Map.of("a", 3L), 5, 2));
    assertClusterMessageRoundTrips(new SessionEntity.Joined("room-1", 12, 3));
    assertClusterMessageRoundTrips(new SessionEntity.Queued(7));
    assertClusterMessageRoundTrips(new SessionEntity.Location(ref(), IDENTITY));
    assertClusterMessageRoundTrips(new SessionEntity.Location(null, null));
    assertClusterMessageRoundTrips(
        new SessionEntity.Info("s1", true, "user-1", List.of("a"), List.of("b"), false, 4, 2));
  }

  @Test
  void fanoutAndStreamMessagesRoundTrip() {
    assertClusterMessageRoundTrips(new GroupFanoutActor.Deliver("room-1", PUB));
    assertClusterMessageRoundTrips(new GroupFanoutActor.Subscribed("room-1", 41));
    assertClusterMessageRoundTrips(
        new Page("room-1", List.of(PUB, new Publication(43, ByteString.EMPTY, 0)), 40, 43));
    assertClusterMessageRoundTrips(new Page("@", List.of(), 1, 0));
    assertClusterMessageRoundTrips(new Socket.Live("@", PUB));
    assertClusterMessageRoundTrips(new Socket.HeadMoved("room-1", 99));
    assertClusterMessageRoundTrips(new Socket.Close(4000, "bye"));
    assertClusterMessageRoundTrips(
        new UpstreamStatus(UpstreamStatus.Phase.RECONNECTING, 3, 1_700_000_000_000L, 2, "down"));
  }

  @Test
  void longPollRelaysRoundTrip() {
    assertClusterMessageRoundTrips(new LongPollSessions.Relay(true, BINARY, ref()));
    assertClusterMessageRoundTrips(new LongPollSessions.Relayed(BINARY));
    assertClusterMessageRoundTrips(new LongPollSessions.Relayed(null));
  }

  @Test
  void payloadBytesSurviveExactly() {
    Socket.Live back = (Socket.Live) roundTrip(new Socket.Live("@", PUB), JACKSON_CBOR);
    assertEquals(256, back.publication().payload().size());
    assertEquals(BINARY, back.publication().payload());
  }

  @Test
  void statusRepliesAroundClusterMessagesRoundTrip() {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    StatusReply<GroupEntity.Membership> success =
        StatusReply.success(new GroupEntity.Membership(4, 2));
    assertEquals(
        success, roundTrip(success, serialization.findSerializerFor(success).getClass().getName()));

    StatusReply<?> error = StatusReply.error("session not found");
    StatusReply<?> back =
        (StatusReply<?>)
            roundTrip(error, serialization.findSerializerFor(error).getClass().getName());
    assertTrue(back.isError());
    assertEquals("session not found", back.getError().getMessage());
  }

  // ---- events (adapter → Protobuf → bytes)

  private static final GroupEventCodec.Events GROUP_EVENTS = new GroupEventCodec.Events();
  private static final SessionEventCodec.Events SESSION_EVENTS = new SessionEventCodec.Events();

  private GroupEntity.Event groupEventRoundTrip(GroupEntity.Event event) {
    GroupEvent stored = GROUP_EVENTS.toJournal(event);
    GroupEvent back = (GroupEvent) roundTrip(stored, PROTOBUF);
    var replayed = GROUP_EVENTS.fromJournal(back, GROUP_EVENTS.manifest(event)).events();
    assertEquals(1, replayed.size());
    return CollectionConverters.asJava(replayed).get(0);
  }

  private SessionEntity.Event sessionEventRoundTrip(SessionEntity.Event event) {
    SessionEvent stored = SESSION_EVENTS.toJournal(event);
    SessionEvent back = (SessionEvent) roundTrip(stored, PROTOBUF);
    var replayed = SESSION_EVENTS.fromJournal(back, SESSION_EVENTS.manifest(event)).events();
    assertEquals(1, replayed.size());
    return CollectionConverters.asJava(replayed).get(0);
  }

  @Test
  void everyGroupEventRoundTripsThroughItsProtobuf() {
    List<GroupEntity.Event> events =
        List.of(
            new GroupEntity.MemberJoined("s1"),
            new GroupEntity.MemberLeft("s1"),
            new GroupEntity.Published(PUB, "key-1"),
            new GroupEntity.LogTrimmed(41));
    for (GroupEntity.Event event : events) {
      assertEquals(event, groupEventRoundTrip(event));
    }
    assertEquals(Set.of(GroupEntity.Event.class.getPermittedSubclasses()), classesOf(events));
  }

  @Test
  void publishedWithoutKeyReplaysWithAnEmptyKey() {
    // Protobuf has no null string: "" is what the group state treats as "no key".
    assertEquals(
        new GroupEntity.Published(PUB, ""),
        groupEventRoundTrip(new GroupEntity.Published(PUB, null)));
  }

  @Test
  void everySessionEventRoundTripsThroughItsProtobuf() {
    List<SessionEntity.Event> events =
        List.of(
            new SessionEntity.Started("user-1", BINARY, 1_700_000_000_000L),
            new SessionEntity.GroupJoined("room-1"),
            new SessionEntity.GroupLeft("room-1"),
            new SessionEntity.LeaveConfirmed("room-1"),
            new SessionEntity.DirectQueued(PUB),
            new SessionEntity.InboxTrimmed(40),
            new SessionEntity.Ended("detached-timeout"),
            new SessionEntity.BridgeOpened("chat", Map.of("cookie", "a=b", "authorization", "x")),
            new SessionEntity.UpstreamQueued(PUB, "id-41"));
    for (SessionEntity.Event event : events) {
      assertEquals(event, sessionEventRoundTrip(event));
    }
    assertEquals(Set.of(SessionEntity.Event.class.getPermittedSubclasses()), classesOf(events));
  }

  @Test
  void emptyEventIsSkippedOnReplay() {
    assertTrue(
        GROUP_EVENTS.fromJournal(GroupEvent.getDefaultInstance(), "").events().isEmpty(),
        "an event of a kind this version does not know is skipped, not a crash");
    assertTrue(
        SESSION_EVENTS.fromJournal(SessionEvent.getDefaultInstance(), "").events().isEmpty());
  }

  // ---- snapshots (adapter → Protobuf → bytes)

  private static final GroupEventCodec.Snapshots GROUP_SNAPSHOTS = new GroupEventCodec.Snapshots();
  private static final SessionEventCodec.Snapshots SESSION_SNAPSHOTS =
      new SessionEventCodec.Snapshots();

  private static RetainedPublication retained(long offset) {
    return RetainedPublication.newBuilder()
        .setOffset(offset)
        .setPayload(ByteString.copyFromUtf8("m" + offset))
        .setTimestampMs(1_000 + offset)
        .build();
  }

  private static QueuedDirect queued(long offset) {
    return QueuedDirect.newBuilder()
        .setOffset(offset)
        .setPayload(ByteString.copyFromUtf8("d" + offset))
        .setTimestampMs(2_000 + offset)
        .build();
  }

  /** State → Protobuf → bytes → Protobuf → state. */
  private GroupState groupStateRoundTrip(GroupState state) {
    Message stored = (Message) GROUP_SNAPSHOTS.toJournal(state);
    return GROUP_SNAPSHOTS.fromJournal(roundTrip(stored, PROTOBUF));
  }

  private SessionState sessionStateRoundTrip(SessionState state) {
    Message stored = (Message) SESSION_SNAPSHOTS.toJournal(state);
    return SESSION_SNAPSHOTS.fromJournal(roundTrip(stored, PROTOBUF));
  }

  @Test
  void groupSnapshotKeepsHeadMembersLogAndKeys() {
    GroupSnapshot snapshot =
        GroupSnapshot.newBuilder()
            .setHead(7)
            .setTrimmedThrough(4)
            .addAllMembers(List.of("a", "b"))
            .addLog(retained(5))
            .addLog(retained(6))
            .addLog(retained(7))
            .putRecentKeys(
                "k6", IdempotencyEntry.newBuilder().setOffset(6).setTimestampMs(1_006).build())
            .putRecentKeys(
                "k7", IdempotencyEntry.newBuilder().setOffset(7).setTimestampMs(1_007).build())
            .build();

    GroupState state = groupStateRoundTrip(GROUP_SNAPSHOTS.fromJournal(snapshot));

    assertEquals(7, state.head());
    assertEquals(4, state.trimmedThrough());
    assertEquals(5, state.firstOffset());
    assertEquals(3, state.retainedCount());
    assertEquals(Set.of("a", "b"), state.members());
    assertEquals(6L, state.offsetOfKey("k6", 1_006, 60_000).orElseThrow());
    assertEquals(7L, state.offsetOfKey("k7", 1_007, 60_000).orElseThrow());
    assertTrue(state.offsetOfKey("k5", 1_007, 60_000).isEmpty());

    GroupSnapshot again = (GroupSnapshot) GROUP_SNAPSHOTS.toJournal(state);
    assertEquals(snapshot.getLogList(), again.getLogList(), "log contents and payloads");
    assertEquals(snapshot.getRecentKeysMap(), again.getRecentKeysMap());
    assertEquals(new HashSet<>(snapshot.getMembersList()), new HashSet<>(again.getMembersList()));
    assertEquals(7, again.getHead());
    assertEquals(4, again.getTrimmedThrough());
  }

  @Test
  void groupSnapshotOfAFullyTrimmedLogContinuesAfterItsHead() {
    GroupSnapshot snapshot =
        GroupSnapshot.newBuilder().setHead(9).setTrimmedThrough(9).addMembers("a").build();

    GroupState state = groupStateRoundTrip(GROUP_SNAPSHOTS.fromJournal(snapshot));

    assertEquals(9, state.head());
    assertEquals(10, state.firstOffset());
    assertEquals(0, state.retainedCount());
    assertEquals(Set.of("a"), state.members());
  }

  @Test
  void emptyGroupStateSnapshotsAsEmpty() {
    GroupState state = groupStateRoundTrip(GroupState.empty());
    assertEquals(0, state.head());
    assertEquals(1, state.firstOffset());
    assertEquals(0, state.retainedCount());
    assertTrue(state.members().isEmpty());
  }

  @Test
  void sessionSnapshotKeepsUserGroupsLeavesAndInbox() {
    SessionSnapshot snapshot =
        SessionSnapshot.newBuilder()
            .setUserId("user-1")
            .setResumeTokenHash(BINARY)
            .setCreatedMs(1_700_000_000_000L)
            .addAllGroups(List.of("g1", "g2"))
            .addPendingLeaves("g3")
            .setInboxHead(5)
            .setInboxTrimmedThrough(2)
            .addInbox(queued(3))
            .addInbox(queued(4))
            .addInbox(queued(5))
            .build();

    SessionState state = sessionStateRoundTrip(SESSION_SNAPSHOTS.fromJournal(snapshot));

    assertTrue(state.isStarted());
    assertTrue(state.isActive());
    assertEquals("user-1", state.userId());
    assertEquals(BINARY, state.resumeTokenHash());
    assertEquals(1_700_000_000_000L, state.createdMs());
    assertEquals(List.of("g1", "g2"), List.copyOf(state.groups()));
    assertEquals(Set.of("g3"), state.pendingLeaves());
    assertEquals(5, state.inbox().head());
    assertEquals(3, state.inbox().firstOffset());
    assertEquals(
        List.of(
            new Publication(3, ByteString.copyFromUtf8("d3"), 2_003),
            new Publication(4, ByteString.copyFromUtf8("d4"), 2_004),
            new Publication(5, ByteString.copyFromUtf8("d5"), 2_005)),
        state.inbox().all());
    assertEquals(snapshot, SESSION_SNAPSHOTS.toJournal(state));
  }

  @Test
  void bridgeSessionSnapshotKeepsRouteHeadersAndReplayProgress() {
    SessionSnapshot snapshot =
        SessionSnapshot.newBuilder()
            .setUserId("user-1")
            .setResumeTokenHash(BINARY)
            .setInboxHead(2)
            .addInbox(queued(1))
            .addInbox(queued(2))
            .setBridgeRoute("chat")
            .putBridgeHeaders("cookie", "a=b")
            .setUpstreamCount(2)
            .setUpstreamLastId("m-2")
            .build();

    SessionState state = sessionStateRoundTrip(SESSION_SNAPSHOTS.fromJournal(snapshot));

    assertTrue(state.isBridge());
    assertEquals("chat", state.bridgeRoute());
    assertEquals(Map.of("cookie", "a=b"), state.bridgeHeaders());
    assertEquals(2, state.upstreamCount());
    assertEquals("m-2", state.upstreamLastId());
    assertEquals(snapshot, SESSION_SNAPSHOTS.toJournal(state));
  }

  @Test
  void endedSessionSnapshotStaysEndedWithItsPendingLeaves() {
    SessionSnapshot snapshot =
        SessionSnapshot.newBuilder()
            .setUserId("user-1")
            .setResumeTokenHash(BINARY)
            .addPendingLeaves("g1")
            .setInboxHead(4)
            .setInboxTrimmedThrough(4)
            .setEnded(true)
            .build();

    SessionState state = sessionStateRoundTrip(SESSION_SNAPSHOTS.fromJournal(snapshot));

    assertTrue(state.isEnded());
    assertFalse(state.isActive());
    assertEquals(Set.of("g1"), state.pendingLeaves());
    assertEquals(4, state.inbox().head());
    assertEquals(5, state.inbox().firstOffset());
    assertEquals(0, state.inbox().size());
  }
}
