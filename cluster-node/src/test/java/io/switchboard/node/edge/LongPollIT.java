package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.auth.TestTokens;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.LongPollRequest;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Reply;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.Resume;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The long-poll transport end to end against a real node (JWT auth), over real HTTP with the JDK
 * client: open, poll, send; refusals; held polls; lost answers; requests both ways; bad bodies;
 * wrong secrets; displaced sockets; abandoned sessions.
 */
@ExtendWith(LogCapturingExtension.class)
class LongPollIT {
  private static final Duration HOLD = Duration.ofSeconds(3);
  private static final String API_KEY = "lp-key-" + UUID.randomUUID();
  private static TestNode node;

  @BeforeAll
  static void startNode() {
    node =
        TestNode.start(
            """
            switchboard.auth.mode = jwt
            switchboard.auth.hmac-secret = "%s"
            switchboard.api.keys = ["%s"]
            switchboard.auth.allowed-origins = ["https://app.example"]
            switchboard.edge.client-publish = any
            switchboard.edge.frames-per-second = 10000
            switchboard.edge.frame-burst = 10000
            switchboard.edge.websocket.max-frame-size = 16KiB
            switchboard.edge.long-poll-hold = %dms
            switchboard.edge.long-poll-idle-timeout = 3s
            switchboard.session.detached-timeout = 3s
            """
                .formatted(TestTokens.SECRET, API_KEY, HOLD.toMillis()));
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  private static String room() {
    return "room:" + UUID.randomUUID();
  }

  private static LongPollClient opened() {
    LongPollClient client = new LongPollClient();
    LongPollClient.Answer answer = client.open(node, TestTokens.valid("u-" + UUID.randomUUID()));
    assertEquals(200, answer.status(), answer.body());
    assertTrue(answer.frames().get(0).hasConnected(), answer.frames().toString());
    return client;
  }

  private static ServerFrame answerTo(List<ServerFrame> answers, long frameId) {
    return answers.stream()
        .filter(f -> f.getId() == frameId)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no answer to " + frameId + " in " + answers));
  }

  @Test
  void openSendAndPollDeliverInOrder() {
    LongPollClient client = opened();
    String room = room();
    ClientFrame join = client.join(room);
    ClientFrame first = client.publish(room, "a");
    ClientFrame second = client.publish(room, "b");
    ClientFrame ping =
        ClientFrame.newBuilder().setId(client.nextId()).setPing(Ping.getDefaultInstance()).build();
    ServerFrame joined = answerTo(client.send(node, join), join.getId());
    assertEquals(room, joined.getJoined().getGroup());
    assertEquals(0, joined.getJoined().getHead());
    List<ServerFrame> answers = client.send(node, first, second, ping);
    assertEquals(1, answerTo(answers, first.getId()).getPublished().getOffset());
    assertEquals(2, answerTo(answers, second.getId()).getPublished().getOffset());
    assertTrue(answerTo(answers, ping.getId()).hasPong());
    assertEquals(3, answers.size(), "only the answers: " + answers);

    List<Delivery> got = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (got.size() < 2 && System.nanoTime() < deadline) {
      got.addAll(client.accept(client.poll(node, 0)));
    }
    assertEquals(2, got.size(), got.toString());
    assertEquals("a", got.get(0).getPayload().toStringUtf8());
    assertEquals("b", got.get(1).getPayload().toStringUtf8());
  }

  @Test
  void openIsRefusedWithoutAValidTokenOrFromAForeignOrigin() {
    LongPollClient client = new LongPollClient();
    LongPollClient.Answer none = client.open(node, null);
    assertEquals(401, none.status(), none.body());
    assertEquals(401, client.open(node, TestTokens.tampered(TestTokens.valid("mallory"))).status());
    LongPollClient.Answer foreign =
        client.open(
            node,
            TestTokens.valid("eve"),
            Map.of("Origin", "https://evil.example"),
            ClientFrame.newBuilder()
                .setId(1)
                .setConnect(io.switchboard.protocol.v1.Connect.getDefaultInstance())
                .build());
    assertEquals(403, foreign.status(), foreign.body());

    LongPollClient victim = opened();
    LongPollClient.Answer poll =
        victim.post(
            node,
            "poll",
            LongPollClient.json(victim.request().setWaitMs(10).build()),
            null,
            Map.of("Origin", "https://evil.example"));
    assertEquals(403, poll.status(), poll.body());
  }

  @Test
  void pagesOfAllowedOriginsGetCorsAnswersAndForeignOnesAreRefused() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.util.function.Function<String, java.net.http.HttpResponse<String>> preflight =
        origin -> {
          try {
            return http.send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + node.httpPort() + "/lp/poll"))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", origin)
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, content-type")
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    var allowed = preflight.apply("https://app.example");
    assertEquals(204, allowed.statusCode());
    assertEquals(
        "https://app.example",
        allowed.headers().firstValue("access-control-allow-origin").orElse(""));
    assertTrue(
        allowed
            .headers()
            .firstValue("access-control-allow-headers")
            .orElse("")
            .contains("authorization"));
    assertEquals(403, preflight.apply("https://evil.example").statusCode());

    // The calls themselves carry the CORS answer for the allowed origin.
    var open =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + node.httpPort() + "/lp/open"))
                .header("Origin", "https://app.example")
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + TestTokens.valid("cors-" + UUID.randomUUID()))
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"frames\":[{\"id\":\"1\",\"connect\":{}}]}"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, open.statusCode(), open.body());
    assertTrue(open.body().contains("connected"), open.body());
    assertEquals(
        "https://app.example", open.headers().firstValue("access-control-allow-origin").orElse(""));
    assertEquals("true", open.headers().firstValue("access-control-allow-credentials").orElse(""));
  }

  @Test
  void tokenInTheConnectFrameIsEnough() {
    LongPollClient client = new LongPollClient();
    ClientFrame connect =
        ClientFrame.newBuilder()
            .setId(1)
            .setConnect(
                io.switchboard.protocol.v1.Connect.newBuilder()
                    .setToken(TestTokens.valid("frame-user")))
            .build();
    LongPollClient.Answer answer = client.open(node, null, Map.of(), connect);
    assertEquals(200, answer.status(), answer.body());
    assertEquals("frame-user", answer.frames().get(0).getConnected().getUserId());
  }

  @Test
  void heldPollAnswersAsSoonAsAPublicationArrivesAndEmptyAtTheHoldTime() {
    LongPollClient client = opened();
    LongPollClient publisher = opened();
    String room = room();
    client.send(node, client.join(room));

    long started = System.nanoTime();
    List<ServerFrame> empty = client.poll(node, 0);
    long heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertTrue(empty.isEmpty(), empty.toString());
    assertTrue(heldMs >= HOLD.toMillis() - 100, "held for the hold time: " + heldMs + " ms");
    assertTrue(heldMs < HOLD.toMillis() + 2000, "answered at the hold time: " + heldMs + " ms");

    CompletableFuture<LongPollClient.Answer> held = client.pollAsync(node, 0);
    long publishedAt = System.nanoTime();
    publisher.send(node, publisher.publish(room, "now"));
    LongPollClient.Answer answer = held.join();
    long latencyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - publishedAt);
    assertEquals(200, answer.status());
    List<Delivery> got = client.accept(answer.frames());
    assertEquals(1, got.size(), answer.frames().toString());
    assertEquals("now", got.get(0).getPayload().toStringUtf8());
    assertTrue(latencyMs < HOLD.toMillis() / 2, "answered at once: " + latencyMs + " ms");

    long shortStart = System.nanoTime();
    assertTrue(client.poll(node, 200).isEmpty());
    long shortMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - shortStart);
    assertTrue(shortMs < HOLD.toMillis() - 1000, "wait_ms shortens the hold: " + shortMs + " ms");
  }

  @Test
  void aLostPollAnswerIsDeliveredAgainToTheNextPollWithTheSameCursors() {
    LongPollClient client = opened();
    String room = room();
    client.send(node, client.join(room));
    client.send(
        node, client.publish(room, "1"), client.publish(room, "2"), client.publish(room, "3"));
    List<Delivery> first = deliveries(client.poll(node, 0));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (first.size() < 3 && System.nanoTime() < deadline) {
      // The three came in more than one batch: take them all before "losing" the answer.
      first = deliveries(client.poll(node, 0)); // same cursors: everything after them again
    }
    List<ServerFrame> again = client.poll(node, 0); // same cursors: the answer was lost
    assertEquals(first, deliveries(again));
    assertEquals(List.of(1L, 2L, 3L), deliveries(again).stream().map(Delivery::getOffset).toList());
    client.accept(again);
    assertTrue(client.poll(node, 300).isEmpty(), "acknowledged by the cursors: not sent again");
  }

  @Test
  void requestsTravelBothWaysInPollsAndSends() throws Exception {
    LongPollClient client = opened();
    ClientFrame request =
        ClientFrame.newBuilder()
            .setId(client.nextId())
            .setRequest(Request.newBuilder().setMethod("GET").setPath("/nobody/serves/this"))
            .build();
    ServerFrame noRoute = answerTo(client.send(node, request), request.getId());
    assertEquals(ErrorCode.NO_ROUTE, noRoute.getError().getCode());

    // A backend asks the browser (the API's Ask): the Request comes in a poll, the Reply by send.
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    CompletableFuture<HttpResponse<String>> ask =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/Ask"))
                .header("authorization", "Bearer " + API_KEY)
                .header("content-type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"sessionId\":\"%s\",\"method\":\"GET\",\"path\":\"/whoami\",\"timeoutMs\":15000}"
                            .formatted(client.sessionId())))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    ServerFrame asked = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (asked == null && System.nanoTime() < deadline) {
      asked =
          client.poll(node, 0).stream().filter(ServerFrame::hasRequest).findFirst().orElse(null);
    }
    assertTrue(asked != null, "the Ask reached the client");
    assertEquals("/whoami", asked.getRequest().getPath());
    ClientFrame reply =
        ClientFrame.newBuilder()
            .setId(client.nextId())
            .setReply(
                Reply.newBuilder()
                    .setRequestId(asked.getRequest().getRequestId())
                    .setStatus(201)
                    .setBody(ByteString.copyFromUtf8("me")))
            .build();
    assertTrue(client.send(node, reply).isEmpty(), "a Reply is not answered");
    HttpResponse<String> answered = ask.get(20, TimeUnit.SECONDS);
    assertEquals(200, answered.statusCode(), answered.body());
    assertTrue(answered.body().contains("201"), answered.body());
    assertTrue(answered.body().contains("bWU="), answered.body()); // "me" in base64
  }

  @Test
  void badBodiesAreRefusedWith400And413() {
    LongPollClient client = opened();
    assertEquals(400, client.post(node, "poll", "{not json", null, Map.of()).status());
    assertEquals(
        400, client.post(node, "send", "{\"frames\":[{\"id\":\"x\"}]}", null, Map.of()).status());
    LongPollClient.Answer notHello =
        client.post(
            node,
            "open",
            "{\"frames\":[{\"id\":\"1\",\"ping\":{}}]}",
            TestTokens.valid("u"),
            Map.of());
    assertEquals(400, notHello.status(), notHello.body());
    String huge = "{\"sessionId\":\"" + "x".repeat(20_000) + "\"}";
    LongPollClient.Answer tooLarge = client.post(node, "poll", huge, null, Map.of());
    assertEquals(413, tooLarge.status(), tooLarge.body());
    // The node goes on serving.
    assertTrue(client.poll(node, 10).isEmpty());
  }

  @Test
  void aWrongResumeTokenOrUnknownSessionIsSessionNotFound() {
    LongPollClient client = opened();
    for (LongPollRequest.Builder wrong :
        List.of(
            client.request().setResumeToken("not-the-token"),
            client.request().setSessionId("no-such-session"))) {
      LongPollClient.Answer poll =
          client.post(node, "poll", LongPollClient.json(wrong.build()), null, Map.of());
      assertEquals(200, poll.status());
      assertEquals(2, poll.frames().size(), poll.frames().toString());
      assertEquals(ErrorCode.SESSION_NOT_FOUND, poll.frames().get(0).getError().getCode());
      assertEquals(CloseCode.SESSION_ENDED.code(), poll.frames().get(1).getClose().getCode());
      LongPollClient.Answer send =
          client.post(
              node,
              "send",
              LongPollClient.json(wrong.addFrames(client.join(room())).build()),
              null,
              Map.of());
      assertEquals(1, send.frames().size(), send.frames().toString());
      assertEquals(ErrorCode.SESSION_NOT_FOUND, send.frames().get(0).getError().getCode());
    }
    // The session itself is untouched.
    assertTrue(client.poll(node, 10).isEmpty());
  }

  @Test
  void aDisplacedSocketEndsItsHeldPollWithAnEmptyBatchNotAClose() {
    LongPollClient client = opened();
    CompletableFuture<LongPollClient.Answer> held = client.pollAsync(node, 0);
    // The same client opens again with Resume (as after a network change): a new socket.
    ClientFrame resume =
        ClientFrame.newBuilder()
            .setId(client.nextId())
            .setResume(
                Resume.newBuilder()
                    .setSessionId(client.sessionId())
                    .setResumeToken(client.resumeToken()))
            .build();
    LongPollClient.Answer reopened =
        client.open(node, TestTokens.valid("unused"), Map.of(), resume);
    assertEquals(200, reopened.status());
    // Another user's token resumes nothing.
    assertEquals(ErrorCode.SESSION_NOT_FOUND, reopened.frames().get(0).getError().getCode());

    LongPollClient.Answer again = reopenAsOwner(client, resume);
    assertTrue(again.frames().get(0).getConnected().getResumed(), again.frames().toString());
    LongPollClient.Answer displaced = held.join();
    assertEquals(200, displaced.status());
    assertFalse(
        displaced.frames().stream().anyMatch(ServerFrame::hasClose),
        "a displaced socket never tells its client to stop: " + displaced.frames());
    List<ServerFrame> after = client.poll(node, 10);
    assertTrue(after.stream().allMatch(ServerFrame::hasRecovery), "the session goes on: " + after);
  }

  private static LongPollClient.Answer reopenAsOwner(LongPollClient client, ClientFrame resume) {
    // The first open used a random user; the resume must carry the same user's token.
    String user = userOf(client);
    return client.open(node, TestTokens.valid(user), Map.of(), resume);
  }

  private static String userOf(LongPollClient client) {
    return node.session(client.sessionId()).userId();
  }

  @Test
  void anAbandonedSessionExpiresLikeADetachedOne() {
    LongPollClient client = opened();
    String sessionId = client.sessionId();
    assertTrue(node.session(sessionId).attached());
    TestProbe<Object> probe = TestProbe.create(node.system());
    probe.awaitAssert(
        Duration.ofSeconds(20),
        Duration.ofMillis(250),
        () -> {
          assertFalse(node.session(sessionId).active(), "ended after idle + detached timeouts");
          return null;
        });
    LongPollClient.Answer poll =
        client.post(node, "poll", LongPollClient.json(client.request().build()), null, Map.of());
    assertEquals(ErrorCode.SESSION_NOT_FOUND, poll.frames().get(0).getError().getCode());
  }

  private static List<Delivery> deliveries(List<ServerFrame> frames) {
    return frames.stream().filter(ServerFrame::hasDelivery).map(ServerFrame::getDelivery).toList();
  }
}
