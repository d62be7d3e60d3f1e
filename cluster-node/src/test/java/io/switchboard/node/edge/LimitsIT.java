package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Heartbeats, detached-session expiry and the per-connection limits, against a node with short
 * timeouts and small limits.
 */
@ExtendWith(LogCapturingExtension.class)
class LimitsIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static TestNode node;

  @BeforeAll
  static void startNode() {
    node =
        TestNode.start(
            """
            switchboard.edge.heartbeat.interval = 200ms
            switchboard.edge.heartbeat.timeout = 2500ms
            switchboard.edge.connect-timeout = 1s
            switchboard.edge.frames-per-second = 20
            switchboard.edge.frame-burst = 20
            switchboard.edge.max-groups-per-session = 3
            switchboard.session.detached-timeout = 1s
            # The JDK's NIO event loops, the front door's fallback where native epoll cannot load,
            # stay tested here; every other WebSocket test runs on epoll.
            switchboard.edge.front-door.native-epoll = off
            """);
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void silentClientIsClosedByHeartbeatAndItsSessionDetached() {
    try (WsClient silent = WsClient.open(node.wsUri(), false)) {
      silent.answerPings(false);
      Connected session = silent.connect();
      assertEquals(200, session.getPingIntervalMs());
      int code = silent.closed().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
      assertEquals(CloseCode.HEARTBEAT_TIMEOUT.code(), code);
      assertTrue(CloseCode.isResumable(code));
      awaitDetached(session.getSessionId());
    }
  }

  @Test
  void clientThatAnswersPingsStaysConnectedPastTheTimeout() {
    try (WsClient alive = WsClient.open(node.wsUri(), false)) {
      Connected session = alive.connect();
      // 30 pings at 200 ms span 6 s, more than twice the heartbeat timeout. (The timeout leaves
      // room for a loaded 2-core CI machine: the other tests' clients must not miss it.)
      alive.awaitPings(30, WAIT);
      assertTrue(node.session(session.getSessionId()).attached());
    }
  }

  @Test
  void socketWithoutConnectIsClosedAfterTheConnectTimeout() {
    try (WsClient idle = WsClient.open(node.wsUri(), true)) {
      assertEquals(
          CloseCode.CONNECT_TIMEOUT.code(),
          idle.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());
    }
  }

  @Test
  void detachedSessionExpiresLeavesItsGroupsAndCannotBeResumed() {
    String g = "g-" + UUID.randomUUID();
    Connected session;
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      session = a.connect();
      a.join(g);
      assertTrue(node.group(g).members().contains(session.getSessionId()));
      a.abort();
    }
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            WAIT,
            () -> {
              assertFalse(node.group(g).members().contains(session.getSessionId()));
              return null;
            });
    try (WsClient b = WsClient.open(node.wsUri(), false)) {
      b.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, 0L));
      assertEquals(
          ErrorCode.SESSION_NOT_FOUND, b.expect(ServerFrame.KindCase.ERROR).getError().getCode());
    }
  }

  @Test
  void joiningMoreGroupsThanAllowedIsRefused() {
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      a.connect();
      for (int i = 0; i < 3; i++) {
        a.join("limit-" + UUID.randomUUID());
      }
      a.send(
          ClientFrame.newBuilder()
              .setId(77)
              .setJoin(Join.newBuilder().setGroup("limit-" + UUID.randomUUID()))
              .build());
      ServerFrame refused = a.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.LIMIT_EXCEEDED, refused.getError().getCode());
      assertEquals(77, refused.getId());
    }
  }

  @Test
  void publishingToAGroupNotJoinedIsRefused() {
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      a.connect();
      a.send(
          ClientFrame.newBuilder()
              .setId(5)
              .setPublish(
                  Publish.newBuilder()
                      .setGroup("not-mine")
                      .setPayload(ByteString.copyFromUtf8("x")))
              .build());
      assertEquals(
          ErrorCode.NOT_A_MEMBER, a.expect(ServerFrame.KindCase.ERROR).getError().getCode());
    }
  }

  /**
   * Pongs and acks too: the socket layer takes at most one Pong a second off the connection actor's
   * hands (heartbeats cost no actor message), and records acks itself while the actor holds none of
   * the client's frames; a flood of either still meets the rate limits.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ping", "pong", "ack"})
  void frameFloodIsRateLimitedThenClosed(String kind) {
    try (WsClient flood = WsClient.open(node.wsUri(), false);
        WsClient bystander = WsClient.open(node.wsUri(), false)) {
      flood.connect();
      bystander.connect();
      String group = "flood-" + UUID.randomUUID();
      if (kind.equals("ack")) {
        flood.join(group);
      }
      // The node may close the socket before the flood is over: stop sending then.
      for (int i = 0; i < 200; i++) {
        ClientFrame.Builder frame = ClientFrame.newBuilder().setId(1000 + i);
        switch (kind) {
          case "pong" -> frame.setPong(io.switchboard.protocol.v1.Pong.getDefaultInstance());
          case "ack" ->
              frame.setAck(
                  io.switchboard.protocol.v1.Ack.newBuilder()
                      .addCursors(
                          io.switchboard.protocol.v1.Cursor.newBuilder()
                              .setStream(group)
                              .setOffset(i)));
          default -> frame.setPing(Ping.getDefaultInstance());
        }
        if (!flood.trySend(frame.build())) {
          break;
        }
      }
      boolean rateLimited = false;
      int code = -1;
      while (code < 0) {
        ServerFrame f = flood.next(WAIT);
        if (f.hasError()) {
          assertEquals(ErrorCode.RATE_LIMITED, f.getError().getCode());
          rateLimited = true;
        } else if (f.hasClose()) {
          code = f.getClose().getCode();
        }
      }
      assertTrue(rateLimited, "refused frames are answered with RATE_LIMITED first");
      assertEquals(CloseCode.TOO_MANY_FRAMES.code(), code);
      // The node keeps serving everyone else.
      bystander.send(ClientFrame.newBuilder().setId(3).setPing(Ping.getDefaultInstance()).build());
      assertEquals(3, bystander.expect(ServerFrame.KindCase.PONG).getId());
    }
  }

  private static void awaitDetached(String sessionId) {
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            WAIT,
            () -> {
              assertFalse(node.session(sessionId).attached());
              return null;
            });
  }
}
