package io.switchboard.node.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.edge.WebSocketITSupport;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.persistence.embedded.EmbeddedRedis;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.Message;
import io.switchboard.protocol.v1.ServerFrame;
import io.switchboard.protocol.v1.UpstreamStatus;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bridge session whose node leaves the cluster: the session restarts on the other node from the
 * Redis journal (remembered entity), reconnects to the upstream from there with the replay id of
 * the last message it journaled, and the browser, resuming, gets every upstream message exactly
 * once and in order.
 */
@ExtendWith(LogCapturingExtension.class)
class BridgeMoveIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");

  private static String config(EmbeddedRedis redis, TestUpstream upstream) {
    return """
        switchboard.persistence.journal-plugin = "switchboard.persistence.journal"
        switchboard.persistence.snapshot-plugin = "switchboard.persistence.snapshot-store"
        switchboard.redis.url = "%s"
        switchboard.session.snapshot-every = 7
        switchboard.bridge.routes.up {
          upstream = "ws://127.0.0.1:%d/up"
          replay-header = "X-Last-Id"
          replay-id = "json:id"
          session-id-header = "X-Session"
          min-backoff = 100ms
          max-backoff = 500ms
        }
        """
        .formatted(redis.url(), upstream.port());
  }

  @Test
  void sessionThatMovesReconnectsUpstreamFromItsNewHomeWithTheReplayId(@TempDir Path dir)
      throws Exception {
    EmbeddedRedis redis = EmbeddedRedis.builder().dataDirectory(dir).build().start();
    try (TestUpstream upstream = TestUpstream.start()) {
      int seedPort = TestNode.freePort();
      TestNode a =
          TestNode.start(config(redis, upstream) + "switchboard.remote.port = " + seedPort);
      TestNode b =
          TestNode.start(
              config(redis, upstream)
                  + "switchboard.node.seed-nodes = \"127.0.0.1:"
                  + seedPort
                  + "\"");
      TestNode leaving = null;
      TestNode staying = null;
      try {
        Connected connected;
        int base;
        try (WsClient client = WsClient.open(bridge(a), true)) {
          connected = client.connect();
          base = upstream.head();
          ServerFrame frame = client.next(WAIT);
          while (!frame.hasUpstreamStatus()
              || frame.getUpstreamStatus().getState() != UpstreamStatus.State.UP) {
            frame = client.next(WAIT);
          }
          upstream.emit(15);
          WebSocketITSupport.assertSequence(client.deliveriesUntil("@", 15, WAIT, null), 1, 15);
          client.abort();
        }
        String sessionId = connected.getSessionId();
        leaving = hosts(a, sessionId) ? a : b;
        staying = leaving == a ? b : a;
        assertTrue(hosts(leaving, sessionId), "the session lives on one of the nodes");

        leaving.close(); // leaves the cluster: its shards move to the other node
        upstream.emit(10); // while the session moves

        List<Integer> connections = awaitConnections(upstream, sessionId, 2);
        String replayed = upstream.upgrades().get(connections.get(1) - 1).get("x-last-id");
        int lastId = Integer.parseInt(replayed);
        assertTrue(lastId >= base + 15, "replay id " + lastId + " after the 15 the browser had");

        try (WsClient resumed = WsClient.open(bridge(staying), true)) {
          resumed.resume(sessionId, connected.getResumeToken(), Map.of("@", 15L));
          assertTrue(resumed.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
          List<Delivery> missed = resumed.deliveriesUntil("@", 25, WAIT, null);
          WebSocketITSupport.assertSequence(missed, 16, 25);
          assertEquals(
              IntStream.rangeClosed(base + 16, base + 25).boxed().toList(),
              ids(missed),
              "every upstream message once, in order, across the move");
          resumed.send(
              ClientFrame.newBuilder()
                  .setId(resumed.nextId())
                  .setMessage(Message.newBuilder().setBody(ByteString.copyFromUtf8("after-move")))
                  .build());
          assertTrue(upstream.received(1, WAIT).contains("after-move"));
        }
      } finally {
        if (staying != null) {
          staying.close();
        } else {
          b.close();
          a.close();
        }
      }
    } finally {
      redis.stop();
    }
  }

  private static URI bridge(TestNode node) {
    return URI.create("ws://127.0.0.1:" + node.httpPort() + "/bridge/up");
  }

  private static boolean hosts(TestNode node, String sessionId) {
    ShardRegion.CurrentShardRegionState state =
        AskPattern
            .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.CurrentShardRegionState>
                ask(
                    ClusterSharding.get(node.system()).shardState(),
                    (ActorRef<ShardRegion.CurrentShardRegionState> replyTo) ->
                        new GetShardRegionState(SessionEntity.ENTITY_KEY, replyTo),
                    Duration.ofSeconds(5),
                    node.system().scheduler())
            .toCompletableFuture()
            .join();
    return state.getShards().stream().anyMatch(s -> s.getEntityIds().contains(sessionId));
  }

  private static List<Integer> awaitConnections(TestUpstream upstream, String sessionId, int n) {
    return upstream.awaitConnectionsWith("x-session", sessionId, n, WAIT);
  }

  private static List<Integer> ids(List<Delivery> deliveries) {
    List<Integer> out = new ArrayList<>();
    for (Delivery d : deliveries) {
      Matcher m = ID.matcher(d.getPayload().toStringUtf8());
      assertTrue(m.find(), () -> "an upstream message: " + d);
      out.add(Integer.parseInt(m.group(1)));
    }
    return out;
  }
}
