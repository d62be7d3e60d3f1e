package io.switchboard.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.persistence.embedded.EmbeddedRedis;
import io.switchboard.persistence.redis.RedisClients;
import io.switchboard.persistence.redis.RedisSettings;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.Refresh;
import io.switchboard.protocol.v1.Resume;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every attack of the README's table against a real node over real sockets: tokens missing, forged,
 * of the wrong algorithm, expired or early; joins and publishes beyond the token's patterns; other
 * users' sessions; foreign origins; floods and oversized frames. The node runs in JWT mode with an
 * HMAC secret and RSA and EC public keys, and counts per-user limits in a Redis of its own (started
 * here).
 */
@ExtendWith(LogCapturingExtension.class)
class AuthIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String ALLOWED_ORIGIN = "https://app.example.com";
  private static KeyPair rsa;
  private static KeyPair ec;
  private static EmbeddedRedis redis;
  private static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    rsa = TestTokens.rsaKeys();
    ec = TestTokens.ecKeys();
    redis = EmbeddedRedis.builder().dataDirectory(Files.createTempDirectory("auth-redis")).build();
    redis.start();
    node =
        TestNode.start(
            """
            switchboard.auth.mode = jwt
            switchboard.auth.hmac-secret = "%s"
            switchboard.auth.public-keys = ["%s", "%s"]
            switchboard.auth.clock-skew = 0s
            switchboard.auth.token-expiry-warning = 1s
            switchboard.auth.cookie-name = "sb_token"
            switchboard.auth.allowed-origins = ["%s"]
            switchboard.auth.interceptors = ["%s"]
            switchboard.edge.client-publish = any
            switchboard.edge.frames-per-second = 100
            switchboard.edge.frame-burst = 100
            switchboard.edge.websocket.max-frame-size = 8KiB
            switchboard.limits.max-payload-size = 1KiB
            switchboard.limits.per-user.frames-per-second = 60
            switchboard.limits.per-user.connections = 3
            switchboard.redis.url = "%s"
            """
                .formatted(
                    TestTokens.SECRET,
                    TestTokens.pem(rsa.getPublic()),
                    TestTokens.pem(ec.getPublic()),
                    ALLOWED_ORIGIN,
                    FrameInterceptorTest.NoShouting.class.getName(),
                    redis.url()));
    // Per-user limits count in Redis once the node's client has connected.
    var config = node.system().settings().config().getConfig(RedisSettings.DEFAULT_PATH);
    RedisClients.get(node.system())
        .client(RedisSettings.create(config))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    node.close();
    redis.stop();
  }

  private static String user() {
    return "u-" + UUID.randomUUID();
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  private static int upgrade(String token) {
    return WsClient.upgradeStatus(node.wsUri(), bearer(token));
  }

  private static WsClient open(String token) {
    return WsClient.open(node.wsUri(), false, bearer(token));
  }

  private static ClientFrame connectFrame(String token) {
    return ClientFrame.newBuilder()
        .setId(1)
        .setConnect(Connect.newBuilder().setToken(token))
        .build();
  }

  /** The token is refused in the Connect frame: Error UNAUTHORIZED, then Close 3501. */
  private static void assertRefusedAtConnect(String token) {
    try (WsClient c = WsClient.open(node.wsUri(), false)) {
      c.send(connectFrame(token));
      ServerFrame error = c.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.UNAUTHORIZED, error.getError().getCode());
      assertEquals(1, error.getId());
      assertEquals(
          CloseCode.UNAUTHORIZED.code(), c.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());
    }
  }

  private static ServerFrame send(WsClient c, ClientFrame.Builder frame) {
    long id = c.nextId();
    c.send(frame.setId(id).build());
    ServerFrame answer = c.next(WAIT);
    assertEquals(id, answer.getId(), () -> "answer to frame " + id + ": " + answer);
    return answer;
  }

  private static ErrorCode errorOf(ServerFrame f) {
    assertTrue(f.hasError(), () -> "expected an error: " + f);
    return f.getError().getCode();
  }

  // ---- no token, forged tokens

  @Test
  void noTokenAnywhereIsRefusedAtConnectWith3501() {
    assertRefusedAtConnect("");
  }

  @Test
  void tokenIsAcceptedFromHeaderQueryCookieOrConnectFrame() {
    String u = user();
    String token = TestTokens.valid(u);
    String v = user();
    String other = TestTokens.valid(v);
    try (WsClient header = open(token);
        WsClient query =
            WsClient.open(URI.create(node.wsUri() + "?token=" + token), false, Map.of());
        WsClient cookie =
            WsClient.open(node.wsUri(), false, Map.of("Cookie", "other=1; sb_token=" + other));
        WsClient frame = WsClient.open(node.wsUri(), true)) {
      assertEquals(u, header.connect().getUserId());
      assertEquals(u, query.connect().getUserId());
      assertEquals(v, cookie.connect().getUserId());
      frame.send(connectFrame(other));
      assertEquals(v, frame.expect(ServerFrame.KindCase.CONNECTED).getConnected().getUserId());
    }
  }

  @Test
  void badSignatureIsRefusedAtUpgradeAndAtConnect() {
    String forged = TestTokens.tampered(TestTokens.valid(user()));
    assertEquals(401, upgrade(forged));
    assertEquals(
        401, WsClient.upgradeStatus(URI.create(node.wsUri() + "?token=" + forged), Map.of()));
    assertRefusedAtConnect(forged);
    String otherSecret =
        TestTokens.hs256(
            "a-different-secret-of-sufficient-length-42",
            TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofHours(1)));
    assertEquals(401, upgrade(otherSecret));
    String otherRsaKey =
        TestTokens.rs256(
            TestTokens.rsaKeys(),
            TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofHours(1)));
    assertEquals(401, upgrade(otherRsaKey));
  }

  @Test
  void unsignedTokenAlgNoneIsRefused() {
    String none =
        TestTokens.unsigned(
            TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofHours(1)));
    assertEquals(401, upgrade(none));
    assertRefusedAtConnect(none);
  }

  @Test
  void hmacTokenSignedWithTheRsaPublicKeyIsRefused() {
    var claims = TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofHours(1));
    for (byte[] secret :
        List.of(
            TestTokens.pem(rsa.getPublic()).getBytes(java.nio.charset.StandardCharsets.UTF_8),
            TestTokens.pemLines(rsa.getPublic()).getBytes(java.nio.charset.StandardCharsets.UTF_8),
            rsa.getPublic().getEncoded())) {
      String confused = TestTokens.hmac(secret, claims);
      assertEquals(401, upgrade(confused));
      assertRefusedAtConnect(confused);
    }
  }

  @Test
  void rsaAndEcTokensOfTheConfiguredKeysAreAccepted() {
    String u = user();
    var claims = TestTokens.claims(u, List.of("room:*"), List.of(), Duration.ofHours(1));
    try (WsClient r = open(TestTokens.rs256(rsa, claims));
        WsClient e = open(TestTokens.es256(ec, claims))) {
      assertEquals(u, r.connect().getUserId());
      assertEquals(u, e.connect().getUserId());
    }
  }

  @Test
  void expiredTokenIsRefused() {
    String expired =
        TestTokens.hs256(
            TestTokens.SECRET,
            TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofSeconds(-5)));
    assertEquals(401, upgrade(expired));
    assertRefusedAtConnect(expired);
  }

  @Test
  void notYetValidTokenIsRefused() {
    String early =
        TestTokens.hs256(
            TestTokens.SECRET,
            TestTokens.claims(user(), List.of("*"), List.of("*"), Duration.ofHours(1))
                .notBeforeTime(Date.from(Instant.now().plusSeconds(120))));
    assertEquals(401, upgrade(early));
    assertRefusedAtConnect(early);
  }

  // ---- token expiry on a live connection

  @Test
  void expiringTokenIsAnnouncedCanBeRefreshedAndOtherwiseClosesWith3006() {
    String u = user();
    var shortLived = TestTokens.claims(u, List.of("room:*"), List.of(), Duration.ofSeconds(3));
    Connected session;
    try (WsClient c = open(TestTokens.hs256(TestTokens.SECRET, shortLived))) {
      session = c.connect();
      ServerFrame warning = c.expect(ServerFrame.KindCase.TOKEN_EXPIRING);
      assertTrue(warning.getTokenExpiring().getExpiresAtMs() > System.currentTimeMillis() - 1000);

      ServerFrame stolen =
          send(
              c,
              ClientFrame.newBuilder()
                  .setRefresh(Refresh.newBuilder().setToken(TestTokens.valid(user()))));
      assertEquals(ErrorCode.UNAUTHORIZED, errorOf(stolen));
      ServerFrame refreshed =
          send(
              c,
              ClientFrame.newBuilder()
                  .setRefresh(
                      Refresh.newBuilder()
                          .setToken(
                              TestTokens.hs256(
                                  TestTokens.SECRET,
                                  TestTokens.claims(
                                      u, List.of("room:*"), List.of(), Duration.ofSeconds(3))))));
      assertTrue(refreshed.hasPong(), () -> "a refresh is answered by Pong: " + refreshed);

      // Announced again for the new token; without another refresh the connection closes.
      c.expect(ServerFrame.KindCase.TOKEN_EXPIRING);
      assertEquals(
          CloseCode.TOKEN_EXPIRED.code(),
          c.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());
      assertTrue(CloseCode.isResumable(CloseCode.TOKEN_EXPIRED.code()));
    }
    // The session survives: the client resumes it with a fresh token.
    try (WsClient again = WsClient.open(node.wsUri(), false)) {
      again.send(
          ClientFrame.newBuilder()
              .setId(9)
              .setResume(
                  Resume.newBuilder()
                      .setSessionId(session.getSessionId())
                      .setResumeToken(session.getResumeToken())
                      .setToken(TestTokens.valid(u)))
              .build());
      assertTrue(again.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
    }
  }

  // ---- ACL from the token's claims

  @Test
  void joinOutsideTheTokensPatternsIsForbidden() {
    var claims = TestTokens.claims(user(), List.of("room:*"), List.of(), Duration.ofHours(1));
    try (WsClient c = open(TestTokens.hs256(TestTokens.SECRET, claims))) {
      c.connect();
      assertEquals(
          ErrorCode.FORBIDDEN,
          errorOf(send(c, ClientFrame.newBuilder().setJoin(Join.newBuilder().setGroup("admin")))));
      assertEquals(
          ErrorCode.FORBIDDEN,
          errorOf(send(c, ClientFrame.newBuilder().setJoin(Join.newBuilder().setGroup("room")))));
      assertTrue(
          send(
                  c,
                  ClientFrame.newBuilder()
                      .setJoin(Join.newBuilder().setGroup("room:" + UUID.randomUUID())))
              .hasJoined());
    }
  }

  @Test
  void publishOutsideTheTokensPatternsIsForbidden() {
    String room = "room:" + UUID.randomUUID();
    var claims =
        TestTokens.claims(user(), List.of("room:*"), List.of("room:public-*"), Duration.ofHours(1));
    try (WsClient c = open(TestTokens.hs256(TestTokens.SECRET, claims))) {
      c.connect();
      c.join(room);
      ServerFrame refused =
          send(
              c,
              ClientFrame.newBuilder()
                  .setPublish(
                      Publish.newBuilder()
                          .setGroup(room)
                          .setPayload(ByteString.copyFromUtf8("x"))));
      assertEquals(ErrorCode.FORBIDDEN, errorOf(refused));
      assertEquals(0, node.group(room).head(), "nothing was published");
      String open = "room:public-" + UUID.randomUUID();
      ServerFrame published =
          send(
              c,
              ClientFrame.newBuilder()
                  .setPublish(
                      Publish.newBuilder()
                          .setGroup(open)
                          .setPayload(ByteString.copyFromUtf8("x"))));
      assertTrue(published.hasPublished(), published::toString);
    }
  }

  @Test
  void userDefinedInterceptorRefusesFrames() {
    try (WsClient c = open(TestTokens.valid(user()))) {
      c.connect();
      ServerFrame refused =
          send(
              c,
              ClientFrame.newBuilder()
                  .setPublish(
                      Publish.newBuilder()
                          .setGroup("room:x")
                          .setPayload(ByteString.copyFromUtf8("hello!!!"))));
      assertEquals(ErrorCode.INVALID_ARGUMENT, errorOf(refused));
      assertEquals("no shouting", refused.getError().getMessage());
    }
  }

  // ---- sessions of other users

  @Test
  void someoneElsesSessionIdWithOrWithoutTheirResumeTokenResumesNothing() {
    String alice = user();
    String room = "room:" + UUID.randomUUID();
    try (WsClient a = open(TestTokens.valid(alice));
        WsClient mallory = open(TestTokens.valid(user()))) {
      Connected session = a.connect();
      a.join(room);
      Resume.Builder guess = Resume.newBuilder().setSessionId(session.getSessionId());
      assertEquals(
          ErrorCode.INVALID_ARGUMENT,
          errorOf(send(mallory, ClientFrame.newBuilder().setResume(guess.clone()))));
      assertEquals(
          ErrorCode.SESSION_NOT_FOUND,
          errorOf(
              send(
                  mallory,
                  ClientFrame.newBuilder().setResume(guess.clone().setResumeToken("guessed")))));
      assertEquals(
          ErrorCode.SESSION_NOT_FOUND,
          errorOf(
              send(
                  mallory,
                  ClientFrame.newBuilder()
                      .setResume(guess.clone().setResumeToken(session.getResumeToken())))));
      // Alice keeps her session and its deliveries.
      assertTrue(node.session(session.getSessionId()).attached());
      a.publishAsync(room, "still mine");
      assertEquals(
          "still mine", a.deliveriesUntil(room, 1, WAIT, null).get(0).getPayload().toStringUtf8());

      // Detached, the session still refuses Mallory and takes Alice back.
      a.abort();
      TestProbe.<Void>create(node.system())
          .awaitAssert(
              WAIT,
              () -> {
                assertTrue(!node.session(session.getSessionId()).attached());
                return null;
              });
      assertEquals(
          ErrorCode.SESSION_NOT_FOUND,
          errorOf(
              send(
                  mallory,
                  ClientFrame.newBuilder()
                      .setResume(guess.clone().setResumeToken(session.getResumeToken())))));
      try (WsClient back = open(TestTokens.valid(alice))) {
        back.resume(session.getSessionId(), session.getResumeToken(), Map.of(room, 1L));
        assertTrue(back.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
      }
    }
  }

  // ---- origins

  @Test
  void disallowedOriginIsRefusedWith403() {
    String token = TestTokens.valid(user());
    Map<String, String> evil =
        Map.of("Authorization", "Bearer " + token, "Origin", "https://evil.example");
    assertEquals(403, WsClient.upgradeStatus(node.wsUri(), evil));
    Map<String, String> self =
        Map.of("Authorization", "Bearer " + token, "Origin", "http://127.0.0.1:" + node.httpPort());
    assertEquals(403, WsClient.upgradeStatus(node.wsUri(), self), "the list replaces same-host");
    assertEquals(
        403, WsClient.upgradeStatus(node.wsUri(), Map.of("Origin", "https://evil.example")));
    Map<String, String> allowed =
        Map.of("Authorization", "Bearer " + token, "Origin", ALLOWED_ORIGIN);
    assertEquals(101, WsClient.upgradeStatus(node.wsUri(), allowed));
    assertEquals(
        101, WsClient.upgradeStatus(node.wsUri(), bearer(token)), "no Origin: not a browser");
  }

  // ---- limits

  @Test
  void floodAcrossConnectionsOfOneUserIsRateLimitedPerUser() {
    String u = user();
    try (WsClient a = open(TestTokens.valid(u));
        WsClient b = open(TestTokens.valid(u));
        WsClient bystander = open(TestTokens.valid(user()))) {
      a.connect();
      b.connect();
      bystander.connect();
      // 50 + 50 frames: within each connection's 100/s, over the user's 60/s.
      for (int i = 0; i < 50; i++) {
        a.send(ClientFrame.newBuilder().setId(100 + i).setPing(Ping.getDefaultInstance()).build());
        b.send(ClientFrame.newBuilder().setId(100 + i).setPing(Ping.getDefaultInstance()).build());
      }
      int pongs = 0;
      List<ServerFrame> errors = new ArrayList<>();
      for (WsClient c : List.of(a, b)) {
        for (int i = 0; i < 50; i++) {
          ServerFrame f = c.next(WAIT);
          if (f.hasPong()) {
            pongs++;
          } else {
            errors.add(f);
          }
        }
      }
      assertTrue(!errors.isEmpty(), "some frames are refused");
      for (ServerFrame e : errors) {
        assertEquals(ErrorCode.RATE_LIMITED, errorOf(e));
        assertTrue(e.getError().getMessage().contains("user"), e::toString);
      }
      assertTrue(pongs <= 60 + 10, "about the user's rate passes: " + pongs);
      // Another user is not affected.
      assertTrue(
          send(bystander, ClientFrame.newBuilder().setPing(Ping.getDefaultInstance())).hasPong());
    }
  }

  @Test
  void connectionsPerUserAreLimitedAndFreedWhenOneCloses() {
    String u = user();
    String token = TestTokens.valid(u);
    List<WsClient> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        WsClient c = open(token);
        held.add(c);
        c.connect();
      }
      try (WsClient fourth = open(token)) {
        ServerFrame refused =
            send(fourth, ClientFrame.newBuilder().setConnect(Connect.getDefaultInstance()));
        assertEquals(ErrorCode.LIMIT_EXCEEDED, errorOf(refused));
        held.remove(0).close();
        TestProbe.<Void>create(node.system())
            .awaitAssert(
                WAIT,
                () -> {
                  ServerFrame retry =
                      send(
                          fourth,
                          ClientFrame.newBuilder().setConnect(Connect.getDefaultInstance()));
                  assertTrue(retry.hasConnected(), retry::toString);
                  return null;
                });
      }
    } finally {
      held.forEach(WsClient::close);
    }
  }

  @Test
  void oversizedPayloadIsRefusedAndOversizedFrameCloses() {
    try (WsClient c = open(TestTokens.valid(user()))) {
      c.connect();
      ServerFrame refused =
          send(
              c,
              ClientFrame.newBuilder()
                  .setPublish(
                      Publish.newBuilder()
                          .setGroup("room:big")
                          .setPayload(ByteString.copyFrom(new byte[2048]))));
      assertEquals(ErrorCode.FRAME_TOO_LARGE, errorOf(refused));
      assertTrue(send(c, ClientFrame.newBuilder().setPing(Ping.getDefaultInstance())).hasPong());
      c.sendRawBinary(new byte[9 * 1024]);
      assertEquals(ErrorCode.FRAME_TOO_LARGE, errorOf(c.expect(ServerFrame.KindCase.ERROR)));
      assertEquals(
          CloseCode.FRAME_TOO_LARGE.code(),
          c.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());
    }
  }
}
