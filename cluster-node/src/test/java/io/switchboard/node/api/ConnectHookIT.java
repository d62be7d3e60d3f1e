package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The connect hook: a Serve worker decides on upgrades that carry no token from their cookies and
 * headers (apps with cookie sessions and no JWT); tokens bypass it; browsers cannot reach its
 * route.
 */
@ExtendWith(LogCapturingExtension.class)
class ConnectHookIT {
  private static final String KEY = "key-" + UUID.randomUUID();
  private static final String HOOK = "CONNECT /_switchboard/connect";
  private static TestNode node;
  private static GatewayClient gateway;

  @BeforeAll
  static void startNode() {
    node =
        TestNode.start(
            ApiTestKit.nodeConfig(KEY)
                + "switchboard.auth.connect-hook.enabled = on\n"
                + "switchboard.auth.connect-hook.timeout = 2s\n");
    gateway = ApiTestKit.grpc(node.system(), node.httpPort(), KEY);
  }

  @AfterAll
  static void stopNode() {
    await(gateway.close());
    node.close();
  }

  private static CompletableFuture<Integer> upgradeWithCookie(String cookie) {
    return CompletableFuture.supplyAsync(
        () -> WsClient.upgradeStatus(node.wsUri(), Map.of("Cookie", cookie)));
  }

  @Test
  void aWorkerDecidesOnUpgradesWithoutATokenFromTheirCookies() throws Exception {
    // No worker serves the hook yet: the node cannot decide.
    assertEquals(503, upgradeWithCookie("sid=alice").get(10, TimeUnit.SECONDS));

    try (TestWorker worker = TestWorker.open(node.system(), gateway, KEY)) {
      worker.register(List.of(HOOK));

      // Accepted: the worker names the user and their groups.
      CompletableFuture<WsClient> opening =
          CompletableFuture.supplyAsync(
              () ->
                  WsClient.open(
                      URI.create(node.wsUri() + "?app=demo"),
                      false,
                      Map.of("Cookie", "theme=dark; sid=alice-session")));
      IncomingRequest ask = worker.nextRequest();
      assertEquals("CONNECT", ask.getMethod());
      assertEquals("/_switchboard/connect?app=demo", ask.getPath());
      assertTrue(ask.getHeadersOrThrow("cookie").contains("sid=alice-session"));
      assertEquals("", ask.getSessionId(), "a hook request has no session");
      worker.reply(
          ask.getRequestId(),
          200,
          "",
          Map.of("x-switchboard-user", "alice", "x-switchboard-join", "room:* lobby"));
      try (WsClient alice = opening.get(10, TimeUnit.SECONDS)) {
        assertEquals("alice", alice.connect().getUserId());
        alice.join("room:" + UUID.randomUUID());
        alice.send(
            ClientFrame.newBuilder()
                .setId(50)
                .setJoin(Join.newBuilder().setGroup("admin"))
                .build());
        assertEquals(
            ErrorCode.FORBIDDEN, alice.expect(ServerFrame.KindCase.ERROR).getError().getCode());
      }

      // Refused: the worker's 401 or 403 reaches the client, and no socket opens.
      for (int status : new int[] {401, 403, 500}) {
        CompletableFuture<Integer> refused = upgradeWithCookie("sid=stolen");
        worker.reply(worker.nextRequest().getRequestId(), status, "no", Map.of());
        assertEquals(status == 401 ? 401 : 403, refused.get(10, TimeUnit.SECONDS));
      }

      // A 2xx that names no user is no acceptance.
      CompletableFuture<Integer> nameless = upgradeWithCookie("sid=x");
      worker.reply(worker.nextRequest().getRequestId(), 200, "", Map.of());
      assertEquals(403, nameless.get(10, TimeUnit.SECONDS));

      // A token bypasses the hook entirely.
      try (WsClient bob = ApiTestKit.browser(node, "bob")) {
        assertEquals("bob", bob.connect().getUserId());
      }
      assertEquals(0, worker.queuedRequests(), "the hook was not asked for a token's upgrade");
    }
  }

  @Test
  void browsersCannotReachTheHooksRoute() {
    try (WsClient browser = ApiTestKit.browser(node, "mallory")) {
      browser.connect();
      for (Request.Builder sneaky :
          List.of(
              Request.newBuilder().setMethod("CONNECT").setPath("/anything"),
              Request.newBuilder().setMethod("GET").setPath("/_switchboard/connect"),
              Request.newBuilder().setMethod("connect").setPath("//_Switchboard//connect/x?y"))) {
        long id = browser.nextId();
        browser.send(ClientFrame.newBuilder().setId(id).setRequest(sneaky).build());
        ServerFrame answer = browser.next(Duration.ofSeconds(10));
        assertEquals(id, answer.getId());
        assertEquals(ErrorCode.FORBIDDEN, answer.getError().getCode(), answer::toString);
      }
    }
  }
}
