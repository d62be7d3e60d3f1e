package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static io.switchboard.node.api.ApiTestKit.browser;
import static io.switchboard.node.api.ApiTestKit.failureOf;
import static io.switchboard.node.api.ApiTestKit.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.v1.AskRequest;
import io.switchboard.protocol.v1.AskResponse;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.DisconnectRequest;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.HistoryRequest;
import io.switchboard.protocol.v1.HistoryResponse;
import io.switchboard.protocol.v1.InfoRequest;
import io.switchboard.protocol.v1.InfoResponse;
import io.switchboard.protocol.v1.JoinRequest;
import io.switchboard.protocol.v1.JoinResponse;
import io.switchboard.protocol.v1.LeaveRequest;
import io.switchboard.protocol.v1.Member;
import io.switchboard.protocol.v1.PresenceRequest;
import io.switchboard.protocol.v1.PresenceResponse;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.PublishResponse;
import io.switchboard.protocol.v1.Reply;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.SendRequest;
import io.switchboard.protocol.v1.SendResponse;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every unary call of the backend API against a running node, through the generated gRPC client and
 * as HTTP/JSON, with real browsers on WebSockets: success and error paths, idempotent publish, the
 * API key.
 */
@ExtendWith(LogCapturingExtension.class)
class GatewayIT {
  private static final String KEY = "key-" + UUID.randomUUID();
  private static TestNode node;
  private static GatewayClient gateway;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(ApiTestKit.nodeConfig(KEY));
    gateway = ApiTestKit.grpc(node.system(), node.httpPort(), KEY);
  }

  @AfterAll
  static void stopNode() {
    await(gateway.close());
    node.close();
  }

  private static String group() {
    return "g-" + UUID.randomUUID();
  }

  private static String user() {
    return "user-" + UUID.randomUUID();
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  // ---- authentication

  @Test
  void callsWithoutOrWithAWrongKeyAreRejected() {
    String g = group();
    PublishRequest publish = PublishRequest.newBuilder().setGroup(g).build();
    GatewayClient anonymous = ApiTestKit.grpc(node.system(), node.httpPort(), null);
    GatewayClient wrong = ApiTestKit.grpc(node.system(), node.httpPort(), KEY + "x");
    try {
      assertEquals(Status.Code.UNAUTHENTICATED, failureOf(anonymous.publish(publish)));
      assertEquals(Status.Code.UNAUTHENTICATED, failureOf(wrong.publish(publish)));
      assertEquals(
          Status.Code.UNAUTHENTICATED, failureOf(wrong.info(InfoRequest.getDefaultInstance())));
    } finally {
      await(anonymous.close());
      await(wrong.close());
    }
    String json = "{\"group\":\"" + g + "\"}";
    HttpResponse<String> none = post(node, "Publish", json, null);
    assertEquals(401, none.statusCode());
    assertTrue(none.headers().firstValue("www-authenticate").orElse("").startsWith("Bearer"));
    assertTrue(none.body().contains("UNAUTHENTICATED"), none.body());
    assertEquals(401, post(node, "Publish", json, "not-the-key").statusCode());
    assertEquals(0, node.group(g).head(), "nothing was published");
  }

  // ---- Publish

  @Test
  void publishIsDeliveredAndARetryWithTheSameKeyIsNeitherWrittenNorDeliveredTwice() {
    String g = group();
    try (WsClient browser = browser(node, user())) {
      browser.connect();
      browser.join(g);
      PublishRequest first =
          PublishRequest.newBuilder()
              .setGroup(g)
              .setPayload(bytes("hello"))
              .setIdempotencyKey("k1")
              .build();
      PublishResponse published = await(gateway.publish(first));
      PublishResponse retried = await(gateway.publish(first));
      PublishResponse next =
          await(
              gateway.publish(
                  PublishRequest.newBuilder().setGroup(g).setPayload(bytes("next")).build()));

      assertEquals(1, published.getOffset());
      assertFalse(published.getDuplicate());
      assertEquals(1, retried.getOffset(), "a retry answers the original offset");
      assertTrue(retried.getDuplicate());
      assertEquals(2, next.getOffset(), "the retry took no offset");
      Delivery one = browser.expect(ServerFrame.KindCase.DELIVERY).getDelivery();
      Delivery two = browser.expect(ServerFrame.KindCase.DELIVERY).getDelivery();
      assertEquals(List.of(1L, 2L), List.of(one.getOffset(), two.getOffset()), "delivered once");
      assertEquals(bytes("hello"), one.getPayload());
      assertEquals(2, node.group(g).head());
    }
  }

  @Test
  void publishOverHttpJsonAndItsErrors() {
    String g = group();
    HttpResponse<String> ok =
        post(node, "Publish", "{\"group\":\"" + g + "\",\"payload\":\"aGk=\"}", KEY);
    assertEquals(200, ok.statusCode(), ok.body());
    assertTrue(ok.headers().firstValue("content-type").orElse("").contains("application/json"));
    assertEquals("{\"group\":\"" + g + "\",\"offset\":\"1\"}", ok.body());
    HistoryResponse stored =
        await(gateway.history(HistoryRequest.newBuilder().setGroup(g).build()));
    assertEquals(bytes("hi"), stored.getPublications(0).getPayload(), "base64 payload decoded");

    HttpResponse<String> invalid = post(node, "Publish", "{\"group\":\"@me\"}", KEY);
    assertEquals(400, invalid.statusCode());
    assertTrue(invalid.body().contains("INVALID_ARGUMENT"), invalid.body());
    assertEquals(400, post(node, "Publish", "{\"group\": 12, ", KEY).statusCode());
    assertEquals(400, post(node, "Publish", "{\"unknownField\":1}", KEY).statusCode());
    assertEquals(404, post(node, "Publishh", "{}", KEY).statusCode());
    assertEquals(501, post(node, "Serve", "{}", KEY).statusCode());
    HttpResponse<String> tooLarge =
        post(
            node,
            "Publish",
            "{\"group\":\"" + g + "\",\"payload\":\"" + "a".repeat(2 << 20) + "\"}",
            KEY);
    assertEquals(413, tooLarge.statusCode());
    assertTrue(tooLarge.body().contains("\"code\":\"RESOURCE_EXHAUSTED\""), tooLarge.body());
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        failureOf(gateway.publish(PublishRequest.newBuilder().setGroup("has space").build())));
  }

  // ---- Send

  @Test
  void sendToASessionReachesItsInboxAndAnUnknownSessionIsNotFound() {
    try (WsClient browser = browser(node, user())) {
      Connected session = browser.connect();
      SendResponse sent =
          await(
              gateway.send(
                  SendRequest.newBuilder()
                      .setSessionId(session.getSessionId())
                      .setPayload(bytes("direct"))
                      .build()));
      assertEquals(1, sent.getSessionsCount());
      assertEquals(session.getSessionId(), sent.getSessions(0).getSessionId());
      assertEquals(1, sent.getSessions(0).getOffset());
      Delivery delivery = browser.expect(ServerFrame.KindCase.DELIVERY).getDelivery();
      assertEquals("@", delivery.getStream());
      assertEquals(bytes("direct"), delivery.getPayload());
    }
    assertEquals(
        Status.Code.NOT_FOUND,
        failureOf(gateway.send(SendRequest.newBuilder().setSessionId("no-such-session").build())));
    assertEquals(
        404,
        post(node, "Send", "{\"sessionId\":\"no-such-session\",\"payload\":\"\"}", KEY)
            .statusCode());
    assertEquals(
        Status.Code.INVALID_ARGUMENT, failureOf(gateway.send(SendRequest.getDefaultInstance())));
  }

  @Test
  void sendToAUserReachesEverySessionOfTheUser() {
    String bob = user();
    try (WsClient first = browser(node, bob);
        WsClient second = browser(node, bob);
        WsClient other = browser(node, user())) {
      Set<String> sessions =
          Set.of(first.connect().getSessionId(), second.connect().getSessionId());
      other.connect();
      SendResponse sent =
          await(
              gateway.send(
                  SendRequest.newBuilder().setUserId(bob).setPayload(bytes("to bob")).build()));
      assertEquals(
          sessions,
          sent.getSessionsList().stream().map(s -> s.getSessionId()).collect(Collectors.toSet()));
      assertEquals(
          bytes("to bob"), first.expect(ServerFrame.KindCase.DELIVERY).getDelivery().getPayload());
      assertEquals(
          bytes("to bob"), second.expect(ServerFrame.KindCase.DELIVERY).getDelivery().getPayload());

      // The user's sessions end: the index forgets them.
      await(
          gateway.disconnect(
              DisconnectRequest.newBuilder().setUserId(bob).setCloseCode(4000).build()));
      assertEquals(4000, (int) first.closed().join());
      assertEquals(4000, (int) second.closed().join());
      SendResponse none =
          await(
              gateway.send(SendRequest.newBuilder().setUserId(bob).setPayload(bytes("x")).build()));
      assertEquals(0, none.getSessionsCount());
    }
    SendResponse stranger =
        await(
            gateway.send(
                SendRequest.newBuilder().setUserId(user()).setPayload(bytes("x")).build()));
    assertEquals(0, stranger.getSessionsCount(), "a user without sessions has none to reach");
  }

  // ---- Join, Leave, Presence

  @Test
  void joinAndLeaveOnBehalfOfASessionReachTheBrowserAndShowInPresence() {
    String g = group();
    String alice = user();
    try (WsClient browser = browser(node, alice)) {
      Connected session = browser.connect();
      JoinResponse joined =
          await(
              gateway.join(
                  JoinRequest.newBuilder()
                      .setSessionId(session.getSessionId())
                      .setGroup(g)
                      .build()));
      assertEquals(0, joined.getSessions(0).getOffset());
      ServerFrame told = browser.expect(ServerFrame.KindCase.JOINED);
      assertEquals(0, told.getId(), "unsolicited");
      assertEquals(g, told.getJoined().getGroup());

      await(
          gateway.publish(PublishRequest.newBuilder().setGroup(g).setPayload(bytes("m1")).build()));
      assertEquals(1, browser.expect(ServerFrame.KindCase.DELIVERY).getDelivery().getOffset());

      PresenceResponse presence =
          await(gateway.presence(PresenceRequest.newBuilder().setGroup(g).build()));
      assertEquals(
          List.of(
              Member.newBuilder()
                  .setSessionId(session.getSessionId())
                  .setUserId(alice)
                  .setAttached(true)
                  .build()),
          presence.getMembersList());
      assertEquals(1, presence.getHead());

      await(
          gateway.leave(
              LeaveRequest.newBuilder().setSessionId(session.getSessionId()).setGroup(g).build()));
      assertEquals(g, browser.expect(ServerFrame.KindCase.LEFT).getLeft().getGroup());
      assertEquals(
          0,
          await(gateway.presence(PresenceRequest.newBuilder().setGroup(g).build()))
              .getMembersCount());
    }
    assertEquals(
        Status.Code.NOT_FOUND,
        failureOf(
            gateway.join(JoinRequest.newBuilder().setSessionId("nobody").setGroup(g).build())));
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        failureOf(gateway.join(JoinRequest.newBuilder().setSessionId("x").setGroup("").build())));
  }

  @Test
  void presenceTellsWhetherAMemberIsAttached() {
    String g = group();
    try (WsClient browser = browser(node, user())) {
      Connected session = browser.connect();
      browser.join(g);
      browser.abort();
      TestProbe<Object> probe = TestProbe.create(node.system());
      probe.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
            PresenceResponse presence =
                await(gateway.presence(PresenceRequest.newBuilder().setGroup(g).build()));
            assertEquals(session.getSessionId(), presence.getMembers(0).getSessionId());
            assertFalse(presence.getMembers(0).getAttached(), "detached, not gone");
            return null;
          });
    }
  }

  // ---- Disconnect

  @Test
  void disconnectClosesTheBrowserWithTheApplicationCode() {
    try (WsClient browser = browser(node, user())) {
      Connected session = browser.connect();
      assertEquals(
          Status.Code.INVALID_ARGUMENT,
          failureOf(
              gateway.disconnect(
                  DisconnectRequest.newBuilder()
                      .setSessionId(session.getSessionId())
                      .setCloseCode(1234)
                      .build())));
      await(
          gateway.disconnect(
              DisconnectRequest.newBuilder()
                  .setSessionId(session.getSessionId())
                  .setCloseCode(4001)
                  .setReason("banned")
                  .build()));
      ServerFrame close = browser.expect(ServerFrame.KindCase.CLOSE);
      assertEquals(4001, close.getClose().getCode());
      assertEquals("banned", close.getClose().getReason());
      assertEquals(
          Status.Code.NOT_FOUND,
          failureOf(
              gateway.send(SendRequest.newBuilder().setSessionId(session.getSessionId()).build())),
          "an ended session");
    }
  }

  // ---- History

  @Test
  void historyReturnsAPageAfterAnOffset() {
    String g = group();
    for (int i = 1; i <= 5; i++) {
      await(
          gateway.publish(
              PublishRequest.newBuilder().setGroup(g).setPayload(bytes("m" + i)).build()));
    }
    HistoryResponse page =
        await(
            gateway.history(
                HistoryRequest.newBuilder().setGroup(g).setAfterOffset(2).setLimit(2).build()));
    assertEquals(
        List.of(3L, 4L), page.getPublicationsList().stream().map(p -> p.getOffset()).toList());
    assertEquals(bytes("m3"), page.getPublications(0).getPayload());
    assertEquals(5, page.getHead());
    assertEquals(1, page.getFirstOffset());

    HttpResponse<String> json =
        post(node, "History", "{\"group\":\"" + g + "\",\"afterOffset\":\"4\"}", KEY);
    assertEquals(200, json.statusCode());
    assertTrue(json.body().contains("\"offset\":\"5\""), json.body());
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        failureOf(gateway.history(HistoryRequest.newBuilder().setGroup("@x").build())));
  }

  // ---- Ask

  @Test
  void askReturnsTheBrowsersReply() {
    try (WsClient browser = browser(node, user())) {
      Connected session = browser.connect();
      var asked =
          gateway.ask(
              AskRequest.newBuilder()
                  .setSessionId(session.getSessionId())
                  .setMethod("GET")
                  .setPath("/cart")
                  .putHeaders("x-trace", "t1")
                  .setTimeoutMs(10_000)
                  .build());
      Request request = browser.expect(ServerFrame.KindCase.REQUEST).getRequest();
      assertEquals("/cart", request.getPath());
      assertEquals("t1", request.getHeadersOrThrow("x-trace"));
      assertTrue(request.getRequestId() > 0);
      browser.send(
          ClientFrame.newBuilder()
              .setId(browser.nextId())
              .setReply(
                  Reply.newBuilder()
                      .setRequestId(request.getRequestId())
                      .setStatus(201)
                      .putHeaders("x-answer", "yes")
                      .setBody(bytes("3 items")))
              .build());
      AskResponse reply = await(asked);
      assertEquals(201, reply.getStatus());
      assertEquals(bytes("3 items"), reply.getBody());
      assertEquals("yes", reply.getHeadersOrThrow("x-answer"));
    }
  }

  @Test
  void askTimesOutWhenTheBrowserDoesNotAnswerAndIsUnavailableWithoutABrowser() {
    try (WsClient browser = browser(node, user())) {
      Connected session = browser.connect();
      AskRequest ask =
          AskRequest.newBuilder()
              .setSessionId(session.getSessionId())
              .setMethod("GET")
              .setPath("/slow")
              .setTimeoutMs(300)
              .build();
      assertEquals(Status.Code.DEADLINE_EXCEEDED, failureOf(gateway.ask(ask)));
      assertEquals(
          504,
          post(
                  node,
                  "Ask",
                  "{\"sessionId\":\""
                      + session.getSessionId()
                      + "\",\"method\":\"GET\","
                      + "\"path\":\"/slow\",\"timeoutMs\":300}",
                  KEY)
              .statusCode());
      browser.expect(ServerFrame.KindCase.REQUEST);

      browser.abort();
      TestProbe<Object> probe = TestProbe.create(node.system());
      probe.awaitAssert(
          Duration.ofSeconds(10),
          () -> {
            assertEquals(Status.Code.UNAVAILABLE, failureOf(gateway.ask(ask)));
            return null;
          });
    }
    assertEquals(
        Status.Code.NOT_FOUND,
        failureOf(
            gateway.ask(
                AskRequest.newBuilder()
                    .setSessionId("no-such-session")
                    .setMethod("GET")
                    .setPath("/x")
                    .build())));
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        failureOf(gateway.ask(AskRequest.newBuilder().setSessionId("s").setPath("x").build())));
  }

  // ---- Info

  @Test
  void infoListsTheNodeItsConnectionsSessionsAndGroups() {
    try (WsClient browser = browser(node, user())) {
      browser.connect();
      browser.join(group());
      InfoResponse info = await(gateway.info(InfoRequest.getDefaultInstance()));
      assertEquals(1, info.getNodesCount());
      assertEquals("Up", info.getNodes(0).getStatus());
      assertTrue(info.getNodes(0).getReachable());
      assertEquals(info.getNode(), info.getNodes(0).getAddress());
      assertTrue(info.getConnections() >= 1, info.toString());
      assertTrue(info.getSessions() >= 1, info.toString());
      assertTrue(info.getGroups() >= 1, info.toString());
      HttpResponse<String> json = post(node, "Info", "", KEY);
      assertEquals(200, json.statusCode());
      assertTrue(json.body().contains("\"status\":\"Up\""), json.body());
    }
  }
}
