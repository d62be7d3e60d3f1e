package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static io.switchboard.node.api.ApiTestKit.browser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.IncomingMessage;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.Leave;
import io.switchboard.protocol.v1.LifecycleEvent;
import io.switchboard.protocol.v1.Message;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Reply;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Browser requests through Serve workers on a running node: routing with path parameters and the
 * caller's identity, the most specific route, no route, timeout, balancing over two workers, a
 * worker lost with requests in flight, one-way messages, lifecycle events and the limits.
 */
@ExtendWith(LogCapturingExtension.class)
class ServeIT {
  private static final String KEY = "key-" + UUID.randomUUID();
  private static TestNode node;
  private static GatewayClient gateway;
  private final List<TestWorker> workers = new ArrayList<>();

  @BeforeAll
  static void startNode() {
    node =
        TestNode.start(
            ApiTestKit.nodeConfig(KEY) + "switchboard.backend.max-pending-requests = 4\n");
    gateway = ApiTestKit.grpc(node.system(), node.httpPort(), KEY);
  }

  @AfterAll
  static void stopNode() {
    await(gateway.close());
    node.close();
  }

  @AfterEach
  void closeWorkers() {
    workers.forEach(TestWorker::close);
  }

  /** A worker serving {@code routes} (each "METHOD /template") under a fresh path prefix. */
  private TestWorker worker(List<String> routes, LifecycleEvent.Kind... events) {
    TestWorker worker = TestWorker.open(node.system(), gateway, KEY);
    workers.add(worker);
    worker.register(routes, events);
    return worker;
  }

  private static String prefix() {
    return "/t" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static long request(WsClient browser, String method, String path, int timeoutMs) {
    long id = browser.nextId();
    browser.send(
        ClientFrame.newBuilder()
            .setId(id)
            .setRequest(
                Request.newBuilder()
                    .setMethod(method)
                    .setPath(path)
                    .putHeaders("accept", "text/plain")
                    .setBody(ByteString.copyFromUtf8("body of " + path))
                    .setTimeoutMs(timeoutMs))
            .build());
    return id;
  }

  @Test
  void aRequestReachesTheWorkerWithPathParamsAndIdentityAndTheReplyReachesTheBrowser() {
    String p = prefix();
    TestWorker worker = worker(List.of("GET " + p + "/echo/:word"));
    try (WsClient browser = browser(node, "alice")) {
      Connected session = browser.connect();
      long id = request(browser, "GET", p + "/echo/hello?x=1", 10_000);

      IncomingRequest request = worker.nextRequest();
      assertEquals("GET", request.getMethod());
      assertEquals(p + "/echo/hello?x=1", request.getPath());
      assertEquals(p + "/echo/:word", request.getRoute());
      assertEquals(Map.of("word", "hello"), request.getParamsMap());
      assertEquals("text/plain", request.getHeadersOrThrow("accept"));
      assertEquals("body of " + p + "/echo/hello?x=1", request.getBody().toStringUtf8());
      assertEquals("alice", request.getUserId());
      assertEquals(session.getSessionId(), request.getSessionId());
      assertTrue(request.getTimeoutMs() > 0 && request.getTimeoutMs() <= 10_000);

      worker.reply(request.getRequestId(), 201, "hello!", Map.of("x-worker", "w1"));
      ServerFrame answer = browser.expect(ServerFrame.KindCase.REPLY);
      assertEquals(id, answer.getId());
      Reply reply = answer.getReply();
      assertEquals(201, reply.getStatus());
      assertEquals("hello!", reply.getBody().toStringUtf8());
      assertEquals("w1", reply.getHeadersOrThrow("x-worker"));
    }
  }

  @Test
  void theMostSpecificRouteWinsAndMethodsMatter() {
    String p = prefix();
    TestWorker worker =
        worker(
            List.of(
                "GET " + p + "/votes/:room",
                "GET " + p + "/votes/summary",
                "POST " + p + "/votes/:room",
                "* " + p + "/any/:thing"));
    try (WsClient browser = browser(node, "bob")) {
      browser.connect();
      String[][] cases = {
        {"GET", p + "/votes/summary", p + "/votes/summary"},
        {"GET", p + "/votes/7", p + "/votes/:room"},
        {"POST", p + "/votes/7", p + "/votes/:room"},
        {"DELETE", p + "/any/x", p + "/any/:thing"},
      };
      for (String[] c : cases) {
        long id = request(browser, c[0], c[1], 10_000);
        IncomingRequest request = worker.nextRequest();
        assertEquals(c[2], request.getRoute(), c[0] + " " + c[1]);
        assertEquals(c[0], request.getMethod());
        worker.reply(request.getRequestId(), 200, "ok", Map.of());
        assertEquals(id, browser.expect(ServerFrame.KindCase.REPLY).getId());
      }
      long wrongMethod = request(browser, "DELETE", p + "/votes/7", 10_000);
      ServerFrame error = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(wrongMethod, error.getId());
      assertEquals(ErrorCode.NO_ROUTE, error.getError().getCode());
    }
  }

  @Test
  void aRequestWithoutRouteGetsNoRouteAndOneWithoutAnswerInTimeGetsTimeout() {
    String p = prefix();
    TestWorker silent = worker(List.of("GET " + p + "/slow"));
    try (WsClient browser = browser(node, "carol")) {
      browser.connect();
      long unrouted = request(browser, "GET", p + "/nowhere", 10_000);
      ServerFrame noRoute = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(unrouted, noRoute.getId());
      assertEquals(ErrorCode.NO_ROUTE, noRoute.getError().getCode());

      long slow = request(browser, "GET", p + "/slow", 300);
      IncomingRequest request = silent.nextRequest();
      ServerFrame timeout = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(slow, timeout.getId());
      assertEquals(ErrorCode.TIMEOUT, timeout.getError().getCode());

      // A late reply is dropped: the browser already had its one answer.
      silent.reply(request.getRequestId(), 200, "too late", Map.of());
      assertNextIsPong(browser);
    }
  }

  @Test
  void requestsAreBalancedOverTwoWorkers() {
    String p = prefix();
    TestWorker first = worker(List.of("GET " + p + "/item/:n"));
    TestWorker second = worker(List.of("GET " + p + "/item/:n"));
    try (WsClient browser = browser(node, "dave")) {
      browser.connect();
      Map<Long, String> expected = new HashMap<>();
      Map<Long, String> answered = new HashMap<>();
      for (int pair = 0; pair < 5; pair++) {
        for (int n = 2 * pair; n < 2 * pair + 2; n++) {
          expected.put(request(browser, "GET", p + "/item/" + n, 10_000), "item " + n);
        }
        // In turn: one request of each pair at each worker.
        for (TestWorker w : List.of(first, second)) {
          IncomingRequest r = w.nextRequest();
          w.reply(r.getRequestId(), 200, "item " + r.getParamsOrThrow("n"), Map.of());
        }
        for (int i = 0; i < 2; i++) {
          ServerFrame f = browser.expect(ServerFrame.KindCase.REPLY);
          answered.put(f.getId(), f.getReply().getBody().toStringUtf8());
        }
      }
      assertEquals(expected, answered, "every reply reached the frame it answers");
      assertEquals(0, first.queuedRequests() + second.queuedRequests(), "5 each, in turn");
    }
  }

  @Test
  void aWorkerLostMidRequestFailsItsRequestsAtOnceAndTheOtherWorkerTakesOver() throws Exception {
    String p = prefix();
    TestWorker doomed = worker(List.of("POST " + p + "/job"));
    TestWorker survivor = worker(List.of("POST " + p + "/job"));
    try (WsClient browser = browser(node, "erin")) {
      browser.connect();
      long toDoomed = request(browser, "POST", p + "/job", 30_000);
      doomed.nextRequest();
      long toSurvivor = request(browser, "POST", p + "/job", 30_000);
      IncomingRequest held = survivor.nextRequest();

      long lostAt = System.nanoTime();
      doomed.crash();
      ServerFrame gone = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(toDoomed, gone.getId());
      assertEquals(ErrorCode.BACKEND_GONE, gone.getError().getCode());
      assertTrue(
          System.nanoTime() - lostAt < TimeUnit.SECONDS.toNanos(5),
          "failed at once, not at the 30 s timeout");

      survivor.reply(held.getRequestId(), 200, "done", Map.of());
      assertEquals(toSurvivor, browser.expect(ServerFrame.KindCase.REPLY).getId());
      for (int i = 0; i < 3; i++) {
        long id = request(browser, "POST", p + "/job", 30_000);
        survivor.reply(survivor.nextRequest().getRequestId(), 200, "done", Map.of());
        assertEquals(id, browser.expect(ServerFrame.KindCase.REPLY).getId());
      }
    }
  }

  @Test
  void oneWayMessagesReachAWorkerAndUnroutedOnesAreRefused() {
    String p = prefix();
    TestWorker worker = worker(List.of("POST " + p + "/chat/:room"));
    try (WsClient browser = browser(node, "frank")) {
      Connected session = browser.connect();
      browser.send(
          ClientFrame.newBuilder()
              .setId(browser.nextId())
              .setMessage(
                  Message.newBuilder()
                      .setPath(p + "/chat/lobby")
                      .setBody(ByteString.copyFromUtf8("hi all")))
              .build());
      IncomingMessage message = worker.nextMessage();
      assertEquals(Map.of("room", "lobby"), message.getParamsMap());
      assertEquals("hi all", message.getBody().toStringUtf8());
      assertEquals("frank", message.getUserId());
      assertEquals(session.getSessionId(), message.getSessionId());
      assertNextIsPong(browser); // a delivered message is not answered

      long unrouted = browser.nextId();
      browser.send(
          ClientFrame.newBuilder()
              .setId(unrouted)
              .setMessage(Message.newBuilder().setPath(p + "/nowhere"))
              .build());
      ServerFrame error = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(unrouted, error.getId());
      assertEquals(ErrorCode.NO_ROUTE, error.getError().getCode());
    }
  }

  @Test
  void lifecycleEventsReachAWorkerThatAskedForThem() {
    TestWorker watcher =
        worker(
            List.of(),
            LifecycleEvent.Kind.CONNECTED,
            LifecycleEvent.Kind.JOINED,
            LifecycleEvent.Kind.LEFT,
            LifecycleEvent.Kind.DISCONNECTED);
    String user = "grace-" + UUID.randomUUID();
    String group = "room-" + UUID.randomUUID();
    String sessionId;
    try (WsClient browser = browser(node, user)) {
      sessionId = browser.connect().getSessionId();
      browser.join(group);
      browser.send(
          ClientFrame.newBuilder()
              .setId(browser.nextId())
              .setLeave(Leave.newBuilder().setGroup(group))
              .build());
      browser.expect(ServerFrame.KindCase.LEFT);
      browser.abort();
    }
    // Other tests' connections come and go too: keep this session's events.
    List<LifecycleEvent> mine = new ArrayList<>();
    while (mine.size() < 4) {
      LifecycleEvent event = watcher.nextEvent();
      if (event.getSessionId().equals(sessionId)) {
        mine.add(event);
      }
    }
    assertEquals(
        List.of(
            LifecycleEvent.Kind.CONNECTED,
            LifecycleEvent.Kind.JOINED,
            LifecycleEvent.Kind.LEFT,
            LifecycleEvent.Kind.DISCONNECTED),
        mine.stream().map(LifecycleEvent::getKind).toList());
    assertEquals(user, mine.get(0).getUserId());
    assertEquals(group, mine.get(1).getGroup());
    assertEquals(group, mine.get(2).getGroup());
  }

  @Test
  void pendingRequestsPerConnectionAreBounded() {
    String p = prefix();
    TestWorker silent = worker(List.of("GET " + p + "/wait"));
    try (WsClient browser = browser(node, "heidi")) {
      browser.connect();
      for (int i = 0; i < 4; i++) {
        request(browser, "GET", p + "/wait", 30_000);
        silent.nextRequest();
      }
      long fifth = request(browser, "GET", p + "/wait", 30_000);
      ServerFrame refused = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(fifth, refused.getId());
      assertEquals(ErrorCode.LIMIT_EXCEEDED, refused.getError().getCode());
    }
  }

  @Test
  void aReplyToNoPendingRequestAndAnInvalidRegistrationAreRefused() throws Exception {
    try (WsClient browser = browser(node, "ivan")) {
      browser.connect();
      long id = browser.nextId();
      browser.send(
          ClientFrame.newBuilder()
              .setId(id)
              .setReply(Reply.newBuilder().setRequestId(424242).setStatus(200))
              .build());
      ServerFrame error = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(id, error.getId());
      assertEquals(ErrorCode.INVALID_ARGUMENT, error.getError().getCode());
    }
    TestWorker invalid = TestWorker.open(node.system(), gateway, KEY);
    workers.add(invalid);
    invalid.send(
        io.switchboard.protocol.v1.WorkerFrame.newBuilder()
            .setRegister(
                io.switchboard.protocol.v1.Register.newBuilder()
                    .addRoutes(
                        io.switchboard.protocol.v1.RoutePattern.newBuilder()
                            .setMethod("GET")
                            .setPath("no-leading-slash")))
            .build());
    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> invalid.ended().get(10, TimeUnit.SECONDS));
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        ((StatusRuntimeException) failed.getCause()).getStatus().getCode());
  }

  @Test
  void serveWithoutTheKeyIsRefused() throws Exception {
    GatewayClient keyless = ApiTestKit.grpc(node.system(), node.httpPort(), null);
    try {
      TestWorker intruder = TestWorker.open(node.system(), keyless, "wrong-key");
      workers.add(intruder);
      ExecutionException failed =
          assertThrows(ExecutionException.class, () -> intruder.ended().get(10, TimeUnit.SECONDS));
      assertEquals(
          Status.Code.UNAUTHENTICATED,
          ((StatusRuntimeException) failed.getCause()).getStatus().getCode());
    } finally {
      await(keyless.close());
    }
  }

  /** Sends a Ping: the next frame must be its Pong (nothing else was sent to the browser). */
  private static void assertNextIsPong(WsClient browser) {
    long id = browser.nextId();
    browser.send(ClientFrame.newBuilder().setId(id).setPing(Ping.getDefaultInstance()).build());
    ServerFrame next = browser.next(Duration.ofSeconds(10));
    assertEquals(ServerFrame.KindCase.PONG, next.getKindCase(), () -> "unexpected " + next);
    assertEquals(id, next.getId());
  }
}
