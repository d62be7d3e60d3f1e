package io.switchboard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.edge.WebSocketITSupport;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.persistence.embedded.EmbeddedRedis;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node on its default journal, Redis (a real server process started by the test): what was
 * acknowledged survives a restart of both the node and Redis, and while Redis is away nothing is
 * acknowledged, sockets stay open, and the node recovers by itself.
 */
@ExtendWith(LogCapturingExtension.class)
class RedisJournalIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static String config(EmbeddedRedis redis) {
    return """
        switchboard.persistence.journal-plugin = "switchboard.persistence.journal"
        switchboard.persistence.snapshot-plugin = "switchboard.persistence.snapshot-store"
        switchboard.redis.url = "%s"
        switchboard.redis.operation-timeout = 3s
        switchboard.edge.client-publish = any
        switchboard.group.snapshot-every = 25
        switchboard.session.snapshot-every = 5
        """
        .formatted(redis.url());
  }

  @Test
  void sessionResumesWithNothingLostAfterNodeAndRedisRestart(@TempDir Path dir) {
    String g = "g-" + UUID.randomUUID();
    EmbeddedRedis redis = EmbeddedRedis.builder().dataDirectory(dir).build().start();
    try {
      Connected session;
      try (TestNode node = TestNode.start(config(redis));
          WsClient publisher = WsClient.open(node.wsUri(), false);
          WsClient client = WsClient.open(node.wsUri(), false)) {
        publisher.connect();
        session = client.connect();
        client.join(g);
        publisher.publishAll(g, 60, i -> "m" + i);
        WebSocketITSupport.assertSequence(client.deliveriesUntil(g, 60, WAIT, null), 1, 60);
        client.ack(g, 60);
        client.abort();
        assertEquals(160, publisher.publishAll(g, 100, i -> "m" + (60 + i)));
        sendDirect(node, session.getSessionId(), "direct-1");
        sendDirect(node, session.getSessionId(), "direct-2");
      }
      redis.restart();
      try (TestNode node = TestNode.start(config(redis));
          WsClient resumed = WsClient.open(node.wsUri(), true)) {
        resumed.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, 60L, "@", 0L));
        ServerFrame connected = resumed.expect(ServerFrame.KindCase.CONNECTED);
        assertTrue(connected.getConnected().getResumed());
        assertEquals(java.util.List.of(g), connected.getConnected().getGroupsList());
        var frames = new java.util.ArrayList<ServerFrame>();
        var group = resumed.deliveriesUntil(g, 160, WAIT, frames);
        WebSocketITSupport.assertSequence(group, 61, 160);
        assertEquals("m61", group.get(0).getPayload().toStringUtf8());
        long inbox =
            frames.stream()
                .filter(f -> f.hasDelivery() && f.getDelivery().getStream().equals("@"))
                .count();
        if (inbox < 2) {
          resumed.deliveriesUntil("@", 2, WAIT, null);
        }
      }
    } finally {
      redis.stop();
    }
  }

  @Test
  void whileRedisIsDownNothingIsAcknowledgedAndTheNodeRecoversByItself(@TempDir Path dir) {
    String g = "g-" + UUID.randomUUID();
    EmbeddedRedis redis = EmbeddedRedis.builder().dataDirectory(dir).build().start();
    try (TestNode node = TestNode.start(config(redis));
        WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient member = WsClient.open(node.wsUri(), false)) {
      publisher.connect();
      member.connect();
      member.join(g);
      publisher.publishAll(g, 5, i -> "before-" + i);
      WebSocketITSupport.assertSequence(member.deliveriesUntil(g, 5, WAIT, null), 1, 5);

      redis.stop();
      publisher.send(
          ClientFrame.newBuilder()
              .setId(42)
              .setPublish(
                  Publish.newBuilder().setGroup(g).setPayload(ByteString.copyFromUtf8("lost?")))
              .build());
      ServerFrame refused = publisher.next(WAIT);
      assertTrue(refused.hasError(), () -> "not acknowledged while Redis is down: " + refused);
      assertEquals(ErrorCode.UNAVAILABLE, refused.getError().getCode());
      assertEquals(42, refused.getId());

      redis.start();
      // Sockets stayed open; publishing works again once the entity has recovered by itself.
      long offset = -1;
      for (int attempt = 0; attempt < 20 && offset < 0; attempt++) {
        publisher.publishAsync(g, "after");
        ServerFrame answer = publisher.next(WAIT);
        if (answer.hasPublished()) {
          offset = answer.getPublished().getOffset();
        }
      }
      assertTrue(offset >= 6, "published again after Redis returned");
      var delivered = member.deliveriesUntil(g, offset, WAIT, null);
      assertEquals(offset, delivered.get(delivered.size() - 1).getOffset());
      long previous = 5;
      for (var d : delivered) {
        assertEquals(previous + 1, d.getOffset(), "no gap, no duplicate across the outage");
        previous = d.getOffset();
      }
    } finally {
      redis.stop();
    }
  }

  private static void sendDirect(TestNode node, String sessionId, String text) {
    ClusterSharding.get(node.system())
        .entityRefFor(SessionEntity.ENTITY_KEY, sessionId)
        .<SessionEntity.Queued>askWithStatus(
            replyTo -> new SessionEntity.SendDirect(ByteString.copyFromUtf8(text), replyTo),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
  }
}
