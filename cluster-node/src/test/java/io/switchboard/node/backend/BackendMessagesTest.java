package io.switchboard.node.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.ClusterMessage;
import io.switchboard.node.stream.Socket;
import io.switchboard.node.user.UserEntity;
import io.switchboard.node.user.UserEventCodec;
import io.switchboard.node.user.UserState;
import io.switchboard.protocol.v1.events.UserEvent;
import io.switchboard.protocol.v1.events.UserSnapshot;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
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
 * Every message of the backend API that crosses nodes (routers, workers, user index, asks to a
 * socket) round-trips through the node's Jackson CBOR binding; user events and snapshots through
 * their Protobuf.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendMessagesTest {
  private static final Config CONFIG =
      ConfigFactory.parseString("pekko.remote.artery.canonical.port = 0")
          .withFallback(ConfigFactory.load());
  private static final ByteString BODY = ByteString.copyFrom(new byte[] {0, 1, (byte) 0xff});

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withName("BackendMessagesTest").withCustomConfig(CONFIG).build();

  private <T> ActorRef<T> ref() {
    return testKit.<T>createTestProbe().ref();
  }

  private Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    Serializer serializer = serialization.findSerializerFor(message);
    byte[] bytes = serialization.serialize(message).get();
    return serialization
        .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message))
        .get();
  }

  private void assertRoundTrips(Object message) {
    assertTrue(message instanceof ClusterMessage, () -> message + " is not a ClusterMessage");
    assertEquals(message, roundTrip(message));
  }

  @Test
  void routerAndWorkerMessagesRoundTrip() {
    Backend.ClientRequest request =
        new Backend.ClientRequest("GET", "/a/1", Map.of("h", "v"), BODY, "alice", "s1");
    assertRoundTrips(new WorkerActor.Handle(request, "/a/:n", Map.of("n", "1"), 5000, ref()));
    assertRoundTrips(
        new WorkerActor.Deliver(
            new Backend.ClientMessage("/m", Map.of(), BODY, "alice", "s1"), "/m", Map.of()));
    Backend.Event event =
        new Backend.Event(Backend.EventKind.JOINED, "s1", "alice", "room", false, "node:1");
    assertRoundTrips(new WorkerActor.Notify(event));
    assertRoundTrips(
        new BackendRouterActor.Register(
            ref(),
            "node/worker-1",
            List.of(new Backend.Route("GET", "/a/:n")),
            EnumSet.of(Backend.EventKind.CONNECTED, Backend.EventKind.LEFT)));
    assertRoundTrips(new BackendRouterActor.GetNodeStats(ref()));
    assertRoundTrips(new BackendRouterActor.NodeStats("pekko://switchboard@h:1", 3, 2));
    assertRoundTrips(Backend.Answer.replied(201, Map.of("k", "v"), BODY));
    assertRoundTrips(Backend.Answer.failed(Backend.Outcome.BACKEND_GONE, "gone"));
  }

  @Test
  void asksToASocketAndTheUserIndexRoundTrip() {
    assertRoundTrips(new Socket.Ask("POST", "/q", Map.of("a", "b"), BODY, 300, ref()));
    assertRoundTrips(new Socket.AskReply(200, Map.of(), BODY));
    assertRoundTrips(new Socket.Membership("room", true, 41));
    assertEquals(
        StatusReply.success(new Socket.AskReply(204, Map.of("x", "y"), BODY)),
        roundTrip(StatusReply.success(new Socket.AskReply(204, Map.of("x", "y"), BODY))));
    assertRoundTrips(new UserEntity.AddSession("s1"));
    assertRoundTrips(new UserEntity.RemoveSession("s1"));
    assertRoundTrips(new UserEntity.GetSessions(ref()));
    assertRoundTrips(new UserEntity.Sessions("alice", List.of("s1", "s2")));
  }

  @Test
  void userEventsAndSnapshotsRoundTripThroughProtobuf() {
    UserEventCodec.Events events = new UserEventCodec.Events();
    for (UserEntity.Event event :
        List.of(new UserEntity.SessionAdded("s1"), new UserEntity.SessionRemoved("s1"))) {
      UserEvent stored = (UserEvent) roundTrip(events.toJournal(event));
      assertEquals(
          List.of(event), CollectionConverters.asJava(events.fromJournal(stored, "").events()));
    }
    assertTrue(events.fromJournal(UserEvent.getDefaultInstance(), "").events().isEmpty());
    UserEventCodec.Snapshots snapshots = new UserEventCodec.Snapshots();
    UserState state = new UserState(List.of("s1", "s2"));
    UserSnapshot stored = (UserSnapshot) roundTrip(snapshots.toJournal(state));
    assertEquals(state, snapshots.fromJournal(stored));
  }
}
