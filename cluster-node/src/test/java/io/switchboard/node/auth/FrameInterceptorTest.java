package io.switchboard.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.LimitSettings;
import io.switchboard.node.limits.LocalUserRateLimiter;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.Request;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The interceptor chain and each built-in interceptor, without a node. */
class FrameInterceptorTest {
  private static final LimitSettings LIMITS =
      LimitSettings.create(
          ConfigFactory.parseString(
                  """
                  switchboard.limits.max-payload-size = 100B
                  switchboard.limits.max-cursors = 3
                  switchboard.limits.max-headers = 2
                  switchboard.limits.max-token-size = 64B
                  """)
              .withFallback(ConfigFactory.defaultReference()));

  private static final Identity ALICE =
      new Identity(
          "alice",
          List.of(new GroupPattern("room:*"), new GroupPattern("lobby")),
          List.of(new GroupPattern("room:*")),
          null,
          Identity.Kind.TOKEN);

  private static ClientFrame join(String group) {
    return ClientFrame.newBuilder().setId(7).setJoin(Join.newBuilder().setGroup(group)).build();
  }

  private static ClientFrame publish(String group, int bytes) {
    return ClientFrame.newBuilder()
        .setId(8)
        .setPublish(
            Publish.newBuilder().setGroup(group).setPayload(ByteString.copyFrom(new byte[bytes])))
        .build();
  }

  private static final ClientFrame PING =
      ClientFrame.newBuilder().setId(1).setPing(Ping.getDefaultInstance()).build();

  private static ErrorCode code(Optional<Rejection> r) {
    return r.orElseThrow(() -> new AssertionError("expected a rejection")).code();
  }

  @Test
  void aclAllowsOnlyTheIdentitysPatterns() {
    AclInterceptor acl = new AclInterceptor();
    assertTrue(acl.check(ALICE, join("room:42")).isEmpty());
    assertTrue(acl.check(ALICE, join("lobby")).isEmpty());
    assertEquals(ErrorCode.FORBIDDEN, code(acl.check(ALICE, join("lobby2"))));
    assertEquals(ErrorCode.FORBIDDEN, code(acl.check(ALICE, join("admin"))));
    assertTrue(acl.check(ALICE, publish("room:1", 1)).isEmpty());
    assertEquals(ErrorCode.FORBIDDEN, code(acl.check(ALICE, publish("lobby", 1))));
    assertTrue(acl.check(ALICE, PING).isEmpty());
    // Not authenticated yet: the protocol answers NOT_CONNECTED, not the ACL.
    assertTrue(acl.check(Identity.UNAUTHENTICATED, join("admin")).isEmpty());
  }

  @Test
  void aclMessageQuotingClientInputIsBounded() {
    Rejection r = new AclInterceptor().check(ALICE, join("x".repeat(5000))).orElseThrow();
    assertTrue(r.message().length() <= Rejection.MAX_MESSAGE + 1);
  }

  @Test
  void sizeLimitsApplyToPayloadsCursorsHeadersAndTokens() {
    SizeLimitInterceptor size = new SizeLimitInterceptor(LIMITS);
    assertTrue(size.check(ALICE, publish("room:1", 100)).isEmpty());
    Rejection tooBig = size.check(ALICE, publish("room:1", 101)).orElseThrow();
    assertEquals(ErrorCode.FRAME_TOO_LARGE, tooBig.code());
    assertTrue(tooBig.closes().isEmpty(), "an oversized payload does not close the connection");
    Ack.Builder ack = Ack.newBuilder();
    for (int i = 0; i < 4; i++) {
      ack.addCursors(Cursor.newBuilder().setStream("s" + i).setOffset(i));
    }
    assertEquals(
        ErrorCode.LIMIT_EXCEEDED,
        code(size.check(ALICE, ClientFrame.newBuilder().setAck(ack).build())));
    ClientFrame request =
        ClientFrame.newBuilder()
            .setRequest(
                Request.newBuilder()
                    .setPath("/x")
                    .putHeaders("a", "1")
                    .putHeaders("b", "2")
                    .putHeaders("c", "3"))
            .build();
    assertEquals(ErrorCode.LIMIT_EXCEEDED, code(size.check(ALICE, request)));
    ClientFrame connect =
        ClientFrame.newBuilder().setConnect(Connect.newBuilder().setToken("t".repeat(65))).build();
    assertEquals(ErrorCode.LIMIT_EXCEEDED, code(size.check(Identity.UNAUTHENTICATED, connect)));
  }

  @Test
  void connectionRateRefusesThenClosesAFlood() {
    InterceptorChain chain =
        new InterceptorChain(new ConnectionRateInterceptor(1, 5), List.of(), 3);
    for (int i = 0; i < 5; i++) {
      assertTrue(chain.check(ALICE, PING).isEmpty(), "the burst passes");
    }
    for (int i = 0; i < 3; i++) {
      Rejection r = chain.check(ALICE, PING).orElseThrow();
      assertEquals(ErrorCode.RATE_LIMITED, r.code());
      assertTrue(r.closes().isEmpty());
    }
    Rejection last = chain.checkUndecodable().orElseThrow();
    assertEquals(Optional.of(CloseCode.TOO_MANY_FRAMES), last.closes());
  }

  @Test
  void userRateCountsEveryConnectionOfTheUserButNotAnonymousOnes() {
    LocalUserRateLimiter limiter = new LocalUserRateLimiter(10);
    List<FrameInterceptor> shared = List.of(new UserRateInterceptor(limiter));
    InterceptorChain a =
        new InterceptorChain(new ConnectionRateInterceptor(1000, 1000), shared, 100);
    InterceptorChain b =
        new InterceptorChain(new ConnectionRateInterceptor(1000, 1000), shared, 100);
    int passed = 0;
    for (int i = 0; i < 10; i++) {
      passed += a.check(ALICE, PING).isEmpty() ? 1 : 0;
      passed += b.check(ALICE, PING).isEmpty() ? 1 : 0;
    }
    assertEquals(10, passed, "ten frames per second for alice over both connections");
    Identity anonymous =
        new Identity("anonymous", List.of(), List.of(), null, Identity.Kind.ANONYMOUS);
    for (int i = 0; i < 50; i++) {
      assertTrue(a.check(anonymous, PING).isEmpty());
    }
  }

  @Test
  void theFirstRejectionWinsAndAFailingInterceptorRefusesWithInternal() {
    FrameInterceptor refuseAll =
        (id, f) -> Optional.of(Rejection.refuse(ErrorCode.FORBIDDEN, "no"));
    FrameInterceptor explode =
        (id, f) -> {
          throw new IllegalStateException("bug in user code");
        };
    FrameInterceptor nullAnswer = (id, f) -> null;
    InterceptorChain chain =
        new InterceptorChain(
            new ConnectionRateInterceptor(1000, 1000),
            List.of(nullAnswer, new AclInterceptor(), refuseAll, explode),
            100);
    assertEquals(ErrorCode.FORBIDDEN, chain.check(ALICE, join("admin")).orElseThrow().code());
    assertEquals("no", chain.check(ALICE, join("room:1")).orElseThrow().message());
    InterceptorChain broken =
        new InterceptorChain(new ConnectionRateInterceptor(1000, 1000), List.of(explode), 100);
    assertEquals(ErrorCode.INTERNAL, broken.check(ALICE, PING).orElseThrow().code());
  }

  /** A user-defined interceptor as an application would write one. */
  public static final class NoShouting implements FrameInterceptor {
    @Override
    public Optional<Rejection> check(Identity identity, ClientFrame frame) {
      if (frame.hasPublish() && frame.getPublish().getPayload().toStringUtf8().contains("!!!")) {
        return Optional.of(Rejection.refuse(ErrorCode.INVALID_ARGUMENT, "no shouting"));
      }
      return Optional.empty();
    }
  }

  @Test
  void userDefinedInterceptorsAreLoadedByName() {
    FrameInterceptor loaded = Gatekeeper.instantiate(NoShouting.class.getName(), null);
    ClientFrame shout =
        ClientFrame.newBuilder()
            .setPublish(
                Publish.newBuilder()
                    .setGroup("room:1")
                    .setPayload(ByteString.copyFromUtf8("hi!!!")))
            .build();
    assertEquals(ErrorCode.INVALID_ARGUMENT, code(loaded.check(ALICE, shout)));
    assertThrows(
        IllegalArgumentException.class, () -> Gatekeeper.instantiate("no.such.Interceptor", null));
    assertThrows(
        IllegalArgumentException.class, () -> Gatekeeper.instantiate(String.class.getName(), null));
  }

  @Test
  void globsMatchLikeShellPatternsWithoutBacktrackingBlowUp() {
    assertTrue(new GroupPattern("*").matches(""));
    assertTrue(new GroupPattern("room:*").matches("room:"));
    assertTrue(new GroupPattern("a*b*c").matches("axxbyyc"));
    assertTrue(!new GroupPattern("a*b*c").matches("axxbyy"));
    assertTrue(new GroupPattern("*:admin").matches("x:y:admin"));
    assertTrue(!new GroupPattern("room").matches("room2"));
    String hostile = "a*".repeat(100) + "b";
    long start = System.nanoTime();
    assertTrue(!new GroupPattern(hostile).matches("a".repeat(200)));
    assertTrue(System.nanoTime() - start < 1_000_000_000L, "no exponential backtracking");
    assertThrows(IllegalArgumentException.class, () -> new GroupPattern(""));
  }
}
