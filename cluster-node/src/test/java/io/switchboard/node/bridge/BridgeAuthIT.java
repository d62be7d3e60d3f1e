package io.switchboard.node.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.auth.TestTokens;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bridge routes are admitted like {@code /ws}: a bad token is refused before any upstream is
 * contacted, a plain client must bring its token with the upgrade, and a Switchboard client may
 * bring it in Connect; the verified user is what the upstream is told.
 */
@ExtendWith(LogCapturingExtension.class)
class BridgeAuthIT {

  @Test
  void tokensAreCheckedAsOnTheWebSocketEndpoint() {
    try (TestUpstream upstream = TestUpstream.start();
        TestNode node =
            TestNode.start(
                """
                switchboard.auth.mode = jwt
                switchboard.auth.hmac-secret = "%s"
                switchboard.bridge.routes.echo {
                  upstream = "ws://127.0.0.1:%d/echo"
                  user-id-header = "X-User"
                }
                """
                    .formatted(TestTokens.SECRET, upstream.port()))) {
      URI uri = URI.create("ws://127.0.0.1:" + node.httpPort() + "/bridge/echo");
      String token = TestTokens.valid("alice");

      assertEquals(401, WsClient.upgradeStatus(uri, Map.of()), "a plain client without a token");
      assertEquals(
          401,
          WsClient.upgradeStatus(
              uri, Map.of("Authorization", "Bearer " + TestTokens.tampered(token))),
          "a bad token");
      assertEquals(0, upstream.upgrades().size(), "the upstream was never contacted");

      assertEquals(
          101, WsClient.upgradeStatus(URI.create(uri + "?token=" + token), Map.of()), "plain");
      assertEquals("alice", upstream.awaitUpgrades(1, Duration.ofSeconds(10)).get("x-user"));

      try (WsClient client = WsClient.open(uri, true)) {
        client.send(
            ClientFrame.newBuilder()
                .setId(1)
                .setConnect(Connect.newBuilder().setToken(token))
                .build());
        assertEquals(
            "alice", client.expect(ServerFrame.KindCase.CONNECTED).getConnected().getUserId());
        assertEquals("alice", upstream.awaitUpgrades(2, Duration.ofSeconds(10)).get("x-user"));
      }

      try (WsClient anonymous = WsClient.open(uri, true)) {
        anonymous.send(
            ClientFrame.newBuilder().setId(1).setConnect(Connect.getDefaultInstance()).build());
        assertEquals(
            ErrorCode.UNAUTHORIZED,
            anonymous.expect(ServerFrame.KindCase.ERROR).getError().getCode());
        assertEquals(
            CloseCode.UNAUTHORIZED.code(),
            anonymous.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());
      }
    }
  }
}
