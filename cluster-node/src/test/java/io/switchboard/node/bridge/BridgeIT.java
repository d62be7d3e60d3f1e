package io.switchboard.node.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.edge.WebSocketITSupport;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Close;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Message;
import io.switchboard.protocol.v1.ServerFrame;
import io.switchboard.protocol.v1.UpstreamStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bridge routes end to end: a two-node cluster in this JVM in front of real upstream WebSocket
 * servers (Pekko HTTP on loopback, killed and restarted by the tests). Messages flow both ways with
 * the configured headers; an upstream killed mid-stream loses and reorders nothing in either
 * direction (replay id one way, held messages the other); a browser that drops resumes on the other
 * node while the upstream keeps sending; the retry window and the grace period end as documented;
 * plain WebSocket clients are passed through.
 */
@ExtendWith(LogCapturingExtension.class)
class BridgeIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");

  private static TestUpstream upstream;
  private static TestUpstream doomed;
  private static TestNode first;
  private static TestNode second;

  @BeforeAll
  static void startCluster() throws IOException {
    upstream = TestUpstream.start();
    doomed = TestUpstream.start();
    int seedPort = TestNode.freePort();
    first = TestNode.start(config() + "switchboard.remote.port = " + seedPort);
    second =
        TestNode.start(config() + "switchboard.node.seed-nodes = \"127.0.0.1:" + seedPort + "\"");
  }

  @AfterAll
  static void stopCluster() {
    second.close();
    first.close();
    upstream.close();
    doomed.close();
  }

  private static String config() {
    return """
        switchboard.bridge.routes {
          up {
            upstream = "ws://127.0.0.1:%d/up"
            pass-headers = ["Cookie", "Authorization"]
            add-headers { "X-Api-Key" = "k-1" }
            replay-header = "X-Last-Id"
            replay-id = "json:id"
            session-id-header = "X-Session"
            retry-window = 30s
            min-backoff = 100ms
            max-backoff = 400ms
            grace-period = %dms
          }
          doomed {
            upstream = "ws://127.0.0.1:%d/up"
            replay-header = "X-Last-Id"
            replay-id = "json:id"
            retry-window = 1500ms
            min-backoff = 100ms
            max-backoff = 200ms
          }
          echo {
            upstream = "ws://127.0.0.1:%d/echo"
            pass-headers = ["Cookie"]
            user-id-header = "X-User"
          }
        }
        """
        .formatted(upstream.port(), GRACE.toMillis(), doomed.port(), upstream.port());
  }

  @Test
  void messagesFlowBothWaysWithPassedAndAddedHeaders() {
    upstream.clearReceived();
    try (WsClient client =
        WsClient.open(
            bridge(first, "up"),
            true,
            Map.of("Cookie", "sid=abc", "Authorization", "Bearer up-token"))) {
      Connected connected = client.connect();
      awaitStatus(client, UpstreamStatus.State.UP, null);
      Map<String, String> headers = upgradeOf(connected.getSessionId(), 1);
      assertEquals("sid=abc", headers.get("cookie"));
      assertEquals("Bearer up-token", headers.get("authorization"));
      assertEquals("k-1", headers.get("x-api-key"));
      assertFalse(headers.containsKey("x-last-id"), "nothing to replay on the first connection");

      int base = upstream.head();
      upstream.emit(20);
      List<Delivery> inbox = client.deliveriesUntil("@", 20, WAIT, null);
      WebSocketITSupport.assertSequence(inbox, 1, 20);
      assertEquals(range(base + 1, base + 20), ids(inbox));

      for (int i = 1; i <= 20; i++) {
        send(client, "b-" + i);
      }
      assertEquals(strings("b-", 1, 20), upstream.received(20, WAIT));
      end(client);
    }
  }

  @Test
  void upstreamKilledAndRestartedMidStreamLosesAndReordersNothingEitherWay() {
    upstream.clearReceived();
    boolean killed = false;
    try (WsClient client = WsClient.open(bridge(first, "up"), true)) {
      Connected connected = client.connect();
      awaitStatus(client, UpstreamStatus.State.UP, null);
      for (int i = 1; i <= 5; i++) {
        send(client, "b-" + i);
      }
      assertEquals(strings("b-", 1, 5), upstream.received(5, WAIT));

      int base = upstream.head();
      upstream.emit(50);
      // Once the first has arrived (the session has an id to replay from), while the others are
      // on their way.
      List<ServerFrame> frames = new ArrayList<>();
      frames.add(client.expect(ServerFrame.KindCase.DELIVERY));
      upstream.kill();
      killed = true;
      UpstreamStatus reconnecting = awaitStatus(client, UpstreamStatus.State.RECONNECTING, frames);
      assertTrue(reconnecting.getRetryUntilMs() > System.currentTimeMillis());
      for (int i = 6; i <= 15; i++) {
        send(client, "b-" + i); // held until the upstream is back
      }
      upstream.emit(30); // produced while the bridge cannot reach the upstream
      upstream.restart();
      killed = false;

      List<Delivery> inbox = inboxOf(frames);
      if (inbox.isEmpty() || inbox.get(inbox.size() - 1).getOffset() < 80) {
        inbox.addAll(client.deliveriesUntil("@", 80, WAIT, frames));
      }
      WebSocketITSupport.assertSequence(inbox, 1, 80);
      assertEquals(
          range(base + 1, base + 80), ids(inbox), "every upstream message, once, in order");
      assertEquals(strings("b-", 6, 15), upstream.received(10, WAIT), "held messages, in order");
      if (frames.stream().noneMatch(f -> isStatus(f, UpstreamStatus.State.UP))) {
        awaitStatus(client, UpstreamStatus.State.UP, null);
      }
      List<Integer> connections = upstream.connectionsWith("x-session", connected.getSessionId());
      assertTrue(connections.size() >= 2, "reconnected");
      String replayed =
          upstream.upgrades().get(connections.get(connections.size() - 1) - 1).get("x-last-id");
      int lastId = Integer.parseInt(replayed);
      assertTrue(lastId >= base && lastId <= base + 80, "replay id " + lastId);
      end(client);
    } finally {
      if (killed) {
        upstream.restart();
      }
    }
  }

  @Test
  void browserResumesOnTheOtherNodeWhileTheUpstreamKeepsSending() {
    upstream.clearReceived();
    Connected connected;
    int base;
    try (WsClient client = WsClient.open(bridge(first, "up"), true)) {
      connected = client.connect();
      awaitStatus(client, UpstreamStatus.State.UP, null);
      base = upstream.head();
      upstream.emit(10);
      WebSocketITSupport.assertSequence(client.deliveriesUntil("@", 10, WAIT, null), 1, 10);
      client.abort();
    }
    upstream.emit(10); // the browser is away: journaled in the session's inbox

    try (WsClient resumed = WsClient.open(bridge(second, "up"), true)) {
      resumed.resume(connected.getSessionId(), connected.getResumeToken(), Map.of("@", 10L));
      assertTrue(resumed.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
      List<Delivery> missed = resumed.deliveriesUntil("@", 20, WAIT, null);
      WebSocketITSupport.assertSequence(missed, 11, 20);
      assertEquals(range(base + 11, base + 20), ids(missed));

      upstream.emit(10);
      List<Delivery> live = resumed.deliveriesUntil("@", 30, WAIT, null);
      WebSocketITSupport.assertSequence(live, 21, 30);
      assertEquals(range(base + 21, base + 30), ids(live));

      send(resumed, "from-the-other-node");
      assertEquals(List.of("from-the-other-node"), upstream.received(1, WAIT));
      assertEquals(
          1,
          upstream.connectionsWith("x-session", connected.getSessionId()).size(),
          "the session's upstream connection outlived the browser's");
      end(resumed);
    }
  }

  @Test
  void gracePeriodKeepsTheUpstreamThenClosesItAndResumeReopensIt() {
    Connected connected;
    int base;
    try (WsClient client = WsClient.open(bridge(first, "up"), true)) {
      connected = client.connect();
      awaitStatus(client, UpstreamStatus.State.UP, null);
      base = upstream.head();
      upstream.emit(3);
      WebSocketITSupport.assertSequence(client.deliveriesUntil("@", 3, WAIT, null), 1, 3);
      client.abort();
    }
    long droppedAt = System.nanoTime();
    upstream.emit(3); // within the grace period: journaled
    int connection = upgradeNumberOf(connected.getSessionId(), 1);
    TestUpstream.Ended ended = upstream.awaitEnded(connection, WAIT);
    long keptMs = TimeUnit.NANOSECONDS.toMillis(ended.atNanos() - droppedAt);
    assertTrue(keptMs >= GRACE.toMillis() - 100, "kept for the grace period, was " + keptMs);
    assertTrue(keptMs < GRACE.toMillis() + 10_000, "closed after the grace period: " + keptMs);

    try (WsClient resumed = WsClient.open(bridge(first, "up"), true)) {
      resumed.resume(connected.getSessionId(), connected.getResumeToken(), Map.of("@", 3L));
      assertTrue(resumed.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
      List<ServerFrame> others = new ArrayList<>();
      List<Delivery> missed = resumed.deliveriesUntil("@", 6, WAIT, others);
      WebSocketITSupport.assertSequence(missed, 4, 6);
      assertEquals(range(base + 4, base + 6), ids(missed));
      Map<String, String> reopened = upgradeOf(connected.getSessionId(), 2);
      assertEquals(Integer.toString(base + 6), reopened.get("x-last-id"));
      if (others.stream().noneMatch(f -> isStatus(f, UpstreamStatus.State.UP))) {
        awaitStatus(resumed, UpstreamStatus.State.UP, null);
      }
      end(resumed);
    }
  }

  @Test
  void retryWindowRunsOutWithUpstreamLostAndTheSessionEnds() {
    try (WsClient client = WsClient.open(bridge(first, "doomed"), true)) {
      Connected connected = client.connect();
      awaitStatus(client, UpstreamStatus.State.UP, null);
      doomed.kill();
      long lostAt = System.nanoTime();
      awaitStatus(client, UpstreamStatus.State.RECONNECTING, null);
      ServerFrame close = client.next(WAIT);
      while (!close.hasClose()) {
        close = client.next(WAIT);
      }
      assertEquals(CloseCode.UPSTREAM_LOST.code(), close.getClose().getCode());
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lostAt);
      assertTrue(tookMs >= 1_300, "retried for the window, gave up after " + tookMs + " ms");
      awaitSessionEnded(connected.getSessionId());
      // A plain client of the same route is refused while the upstream is down.
      assertEquals(502, WsClient.upgradeStatus(bridge(first, "doomed"), Map.of()));
    }
  }

  @Test
  void plainWebSocketClientIsPassedThrough() throws Exception {
    BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    int before = upstream.upgrades().size();
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .subprotocols("echo.v1")
            .header("Cookie", "sid=raw")
            .buildAsync(
                bridge(second, "echo"),
                new WebSocket.Listener() {
                  private final StringBuilder text = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                      texts.add(text.toString());
                      text.setLength(0);
                    }
                    ws.request(1);
                    return null;
                  }
                })
            .get(10, TimeUnit.SECONDS);
    try {
      assertEquals("echo.v1", socket.getSubprotocol(), "the upstream's subprotocol");
      socket.sendText("hello", true).get(10, TimeUnit.SECONDS);
      socket.sendText("world", true).get(10, TimeUnit.SECONDS);
      assertEquals("echo:hello", texts.poll(10, TimeUnit.SECONDS));
      assertEquals("echo:world", texts.poll(10, TimeUnit.SECONDS));
      Map<String, String> headers = upstream.awaitUpgrades(before + 1, WAIT);
      assertEquals("sid=raw", headers.get("cookie"));
      assertEquals("anonymous", headers.get("x-user"));
    } finally {
      socket.abort();
    }
  }

  @Test
  void unknownRouteIsNotFoundAndMessagesOnPlainSessionsStayWithBackends() {
    assertEquals(404, WsClient.upgradeStatus(bridge(first, "nowhere"), Map.of()));
    try (WsClient client = WsClient.open(first.wsUri(), true)) {
      client.connect();
      client.send(
          ClientFrame.newBuilder()
              .setId(client.nextId())
              .setMessage(Message.newBuilder().setPath("/nothing").setBody(ByteString.EMPTY))
              .build());
      ServerFrame answer = client.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.NO_ROUTE, answer.getError().getCode());
    }
  }

  // ---- helpers

  private static URI bridge(TestNode node, String route) {
    return URI.create("ws://127.0.0.1:" + node.httpPort() + "/bridge/" + route);
  }

  private static void send(WsClient client, String body) {
    client.send(
        ClientFrame.newBuilder()
            .setId(client.nextId())
            .setMessage(Message.newBuilder().setBody(ByteString.copyFromUtf8(body)))
            .build());
  }

  /** Ends the session with a client Close (its upstream is closed at once). */
  private static void end(WsClient client) {
    client.send(ClientFrame.newBuilder().setClose(Close.getDefaultInstance()).build());
    client.closed().orTimeout(10, TimeUnit.SECONDS).join();
  }

  /** Reads frames until an UpstreamStatus in {@code state}; other frames go to {@code others}. */
  private static UpstreamStatus awaitStatus(
      WsClient client, UpstreamStatus.State state, List<ServerFrame> others) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      ServerFrame frame = client.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (isStatus(frame, state)) {
        return frame.getUpstreamStatus();
      }
      if (frame.hasClose()) {
        fail("closed while waiting for upstream " + state + ": " + frame);
      }
      if (others != null) {
        others.add(frame);
      }
    }
  }

  private static boolean isStatus(ServerFrame frame, UpstreamStatus.State state) {
    return frame.hasUpstreamStatus() && frame.getUpstreamStatus().getState() == state;
  }

  private static List<Delivery> inboxOf(List<ServerFrame> frames) {
    List<Delivery> out = new ArrayList<>();
    for (ServerFrame f : frames) {
      if (f.hasDelivery() && f.getDelivery().getStream().equals("@")) {
        out.add(f.getDelivery());
      }
    }
    return out;
  }

  private static List<Integer> ids(List<Delivery> deliveries) {
    List<Integer> out = new ArrayList<>();
    for (Delivery d : deliveries) {
      Matcher m = ID.matcher(d.getPayload().toStringUtf8());
      assertTrue(m.find(), () -> "an upstream message: " + d);
      out.add(Integer.parseInt(m.group(1)));
    }
    return out;
  }

  private static List<Integer> range(int from, int to) {
    return IntStream.rangeClosed(from, to).boxed().toList();
  }

  private static List<String> strings(String prefix, int from, int to) {
    return IntStream.rangeClosed(from, to).mapToObj(i -> prefix + i).toList();
  }

  /** Headers of the {@code nth} upstream connection of a session (waits for it). */
  private static Map<String, String> upgradeOf(String sessionId, int nth) {
    int number = upgradeNumberOf(sessionId, nth);
    return upstream.upgrades().get(number - 1);
  }

  private static int upgradeNumberOf(String sessionId, int nth) {
    return upstream.awaitConnectionsWith("x-session", sessionId, nth, WAIT).get(nth - 1);
  }

  private static void awaitSessionEnded(String sessionId) {
    TestProbe.create(first.system())
        .awaitAssert(
            WAIT,
            Duration.ofMillis(50),
            () -> {
              assertFalse(first.session(sessionId).active(), "session " + sessionId + " ended");
              return null;
            });
  }
}
