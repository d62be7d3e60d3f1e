package io.switchboard.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BridgeSettingsTest {

  private static BridgeSettings settings(String hocon) {
    return BridgeSettings.create(
        ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void routesStartFromTheDefaultsAndOverrideThem() {
    BridgeSettings s =
        settings(
            """
            switchboard.bridge.defaults.grace-period = 5s
            switchboard.bridge.routes {
              chat {
                upstream = "wss://chat.internal/socket"
                pass-headers = ["Cookie", "Authorization"]
                add-headers { "X-Api-Key" = "k" }
                replay-id = "json:/meta/id"
                frame-type = binary
              }
              feed { upstream = "ws://127.0.0.1:9000/feed", retry-window = 2s }
            }
            """);
    BridgeSettings.Route chat = s.route("chat").orElseThrow();
    assertEquals("wss://chat.internal/socket", chat.upstream().toString());
    assertEquals(List.of("cookie", "authorization"), chat.passHeaders());
    assertEquals(Map.of("X-Api-Key", "k"), chat.addHeaders());
    assertEquals("/meta/id", chat.replayIdPointer());
    assertFalse(chat.countsMessages());
    assertTrue(chat.binaryFrames());
    assertEquals(Duration.ofSeconds(5), chat.gracePeriod());
    assertEquals("X-Switchboard-Last-Id", chat.replayHeader());

    BridgeSettings.Route feed = s.route("feed").orElseThrow();
    assertTrue(feed.countsMessages());
    assertEquals(Duration.ofSeconds(2), feed.retryWindow());
    assertEquals(Duration.ofSeconds(30), s.route("chat").orElseThrow().retryWindow());
    assertEquals(1000, feed.maxHeldMessages());
    assertEquals(1024 * 1024, feed.maxMessageSize());
    assertTrue(s.route("nope").isEmpty());
    assertEquals("bridge", s.pathPrefix());
  }

  @Test
  void noRoutesByDefault() {
    assertTrue(settings("").routes().isEmpty());
  }

  @Test
  void badRoutesStopTheNodeWithTheKeyNamed() {
    var notWs =
        assertThrows(
            ConfigException.BadValue.class,
            () -> settings("switchboard.bridge.routes.a.upstream = \"http://x/y\""));
    assertTrue(notWs.getMessage().contains("switchboard.bridge.routes.a.upstream"));
    assertThrows(
        ConfigException.BadValue.class,
        () ->
            settings(
                "switchboard.bridge.routes.a { upstream = \"ws://x/y\", replay-id = \"uuid\" }"));
    assertThrows(
        ConfigException.BadValue.class,
        () ->
            settings(
                "switchboard.bridge.routes.a { upstream = \"ws://x/y\", pass-headers = [Host] }"));
    assertThrows(
        ConfigException.BadValue.class,
        () ->
            settings(
                "switchboard.bridge.routes.a { upstream = \"ws://x/y\", "
                    + "add-headers { Sec-WebSocket-Key = x } }"));
    assertThrows(
        ConfigException.BadValue.class,
        () ->
            settings(
                "switchboard.bridge.routes.a { upstream = \"ws://x/y\", min-backoff = 2s, "
                    + "max-backoff = 1s }"));
    assertThrows(
        ConfigException.BadValue.class,
        () -> settings("switchboard.bridge.routes.\"a b\" { upstream = \"ws://x/y\" }"));
    assertThrows(ConfigException.Missing.class, () -> settings("switchboard.bridge.routes.a {}"));
  }
}
