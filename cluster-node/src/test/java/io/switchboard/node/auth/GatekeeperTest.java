package io.switchboard.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.AuthSettings;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.LimitSettings;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Upgrade decisions, Connect-time authentication, Refresh, origins and the development token. */
class GatekeeperTest {

  private static Gatekeeper gate(String hocon) {
    Config c =
        ConfigFactory.parseString(hocon)
            .withFallback(ConfigFactory.parseString("switchboard.auth.mode = jwt"))
            .withFallback(ConfigFactory.defaultReference());
    return Gatekeeper.create(
        null, AuthSettings.create(c), LimitSettings.create(c), EdgeSettings.create(c), null, "sb");
  }

  private static Gatekeeper secretGate(String more) {
    return gate("switchboard.auth.hmac-secret = \"" + TestTokens.SECRET + "\"\n" + more);
  }

  private static Gatekeeper.UpgradeRequest request(
      String origin, String host, String authorization, String query, String cookie) {
    return new Gatekeeper.UpgradeRequest(
        Optional.ofNullable(origin),
        Optional.ofNullable(host),
        Optional.ofNullable(authorization),
        Optional.ofNullable(query),
        Optional.ofNullable(cookie));
  }

  private static Identity proceeds(Gatekeeper.UpgradeDecision d) {
    return assertInstanceOf(Gatekeeper.Proceed.class, d, () -> d.toString()).identity();
  }

  private static int refused(Gatekeeper.UpgradeDecision d) {
    return assertInstanceOf(Gatekeeper.Refuse.class, d, () -> d.toString()).status();
  }

  @Test
  void tokenIsTakenFromHeaderThenQueryThenCookie() {
    Gatekeeper g = secretGate("switchboard.auth.cookie-name = sb");
    String a = TestTokens.valid("a");
    String b = TestTokens.valid("b");
    String c = TestTokens.valid("c");
    assertEquals("a", proceeds(g.admitUpgrade(request(null, null, "Bearer " + a, b, c))).userId());
    assertEquals("b", proceeds(g.admitUpgrade(request(null, null, "Basic xyz", b, c))).userId());
    assertEquals("c", proceeds(g.admitUpgrade(request(null, null, null, null, c))).userId());
    assertEquals(
        "a", proceeds(g.admitUpgrade(request(null, null, "bearer  " + a, null, null))).userId());
  }

  @Test
  void invalidTokenAtUpgradeIs401AndNoTokenProceedsUnlessRequired() {
    Gatekeeper g = secretGate("");
    assertEquals(401, refused(g.admitUpgrade(request(null, null, "Bearer x.y.z", null, null))));
    assertEquals(
        Identity.UNAUTHENTICATED, proceeds(g.admitUpgrade(request(null, null, null, null, null))));
    Gatekeeper strict = secretGate("switchboard.auth.require-token-at-upgrade = on");
    assertEquals(401, refused(strict.admitUpgrade(request(null, null, null, null, null))));
  }

  @Test
  void connectNeedsATokenFromTheFrameOrTheUpgrade() {
    Gatekeeper g = secretGate("");
    assertInstanceOf(TokenVerifier.Rejected.class, g.atHello(Identity.UNAUTHENTICATED, ""));
    Identity alice =
        assertInstanceOf(
                TokenVerifier.Verified.class,
                g.atHello(Identity.UNAUTHENTICATED, TestTokens.valid("alice")))
            .identity();
    assertEquals(
        "alice",
        assertInstanceOf(TokenVerifier.Verified.class, g.atHello(alice, "")).identity().userId());
  }

  @Test
  void refreshMustBeForTheSameUser() {
    Gatekeeper g = secretGate("");
    Identity alice =
        ((TokenVerifier.Verified) g.atHello(Identity.UNAUTHENTICATED, TestTokens.valid("alice")))
            .identity();
    assertInstanceOf(TokenVerifier.Verified.class, g.refresh(alice, TestTokens.valid("alice")));
    assertTrue(
        assertInstanceOf(
                TokenVerifier.Rejected.class, g.refresh(alice, TestTokens.valid("mallory")))
            .reason()
            .contains("same user"));
  }

  @Test
  void originsAreSameHostByDefaultOrTheConfiguredList() {
    Gatekeeper g = secretGate("");
    String t = "Bearer " + TestTokens.valid("o");
    assertEquals(
        403,
        refused(
            g.admitUpgrade(request("https://evil.example", "app.example:8080", t, null, null))));
    proceeds(g.admitUpgrade(request("http://app.example:8080", "app.example:8080", t, null, null)));
    proceeds(g.admitUpgrade(request("https://APP.example", "app.example", t, null, null)));
    proceeds(g.admitUpgrade(request(null, "app.example", t, null, null)));
    assertEquals(403, refused(g.admitUpgrade(request("null", "app.example", t, null, null))));
    Gatekeeper listed =
        secretGate(
            "switchboard.auth.allowed-origins = [\"https://*.example.com\", \"http://localhost:3000\"]");
    proceeds(listed.admitUpgrade(request("https://app.example.com", "api.other", t, null, null)));
    proceeds(listed.admitUpgrade(request("http://localhost:3000/", "api.other", t, null, null)));
    assertEquals(
        403,
        refused(
            listed.admitUpgrade(
                request("https://example.com.evil.io", "api.other", t, null, null))));
    assertEquals(
        403,
        refused(
            listed.admitUpgrade(
                request("http://localhost:3001", "localhost:3001", t, null, null))));
  }

  @Test
  void connectHookAnswersBecomeDecisions() {
    Gatekeeper g = secretGate("switchboard.auth.connect-hook.enabled = on");
    assertTrue(g.usesConnectHook());
    Identity carol =
        proceeds(
            g.hookAnswer(
                200,
                java.util.Map.of(
                    "X-Switchboard-User", "carol",
                    "x-switchboard-join", "room:*, lobby",
                    "x-switchboard-expires-at", "4102444800000")));
    assertEquals("carol", carol.userId());
    assertTrue(carol.mayJoin("lobby") && !carol.mayPublish("lobby"));
    assertEquals(Identity.Kind.HOOK, carol.kind());
    assertEquals(4102444800000L, carol.expiresAt().toEpochMilli());
    assertEquals(401, refused(g.hookAnswer(401, java.util.Map.of())));
    assertEquals(403, refused(g.hookAnswer(302, java.util.Map.of("x-switchboard-user", "x"))));
    assertEquals(403, refused(g.hookAnswer(204, java.util.Map.of())));
    assertEquals(
        403,
        refused(
            g.hookAnswer(
                200,
                java.util.Map.of("x-switchboard-user", "x", "x-switchboard-expires-at", "soon"))));
    assertEquals(503, refused(g.hookUnavailable("no worker")));
    assertTrue(
        !gate("switchboard.auth.mode = anonymous\nswitchboard.auth.connect-hook.enabled = on")
            .usesConnectHook());
  }

  @Test
  void nodeWithoutKeysMakesADevelopmentTokenThatWorks() {
    Gatekeeper g = gate("");
    String token = g.devToken().orElseThrow();
    Identity dev = proceeds(g.admitUpgrade(request(null, null, "Bearer " + token, null, null)));
    assertEquals("dev", dev.userId());
    assertTrue(dev.mayJoin("anything") && dev.mayPublish("anything"));
    assertEquals(
        401,
        refused(
            g.admitUpgrade(request(null, null, "Bearer " + TestTokens.valid("x"), null, null))));
  }

  @Test
  void anonymousModeIsExplicitAndGivesTheSharedIdentity() {
    Gatekeeper g = gate("switchboard.auth.mode = anonymous");
    Identity anonymous = proceeds(g.admitUpgrade(request(null, null, null, null, null)));
    assertTrue(anonymous.anonymous());
    assertEquals("anonymous", anonymous.userId());
    assertEquals(
        403, refused(g.admitUpgrade(request("https://evil.example", "node", null, null, null))));
    assertTrue(g.devToken().isEmpty());
    assertEquals(
        AuthSettings.Mode.JWT,
        AuthSettings.create(ConfigFactory.defaultReference()).mode(),
        "JWT is the default");
  }
}
