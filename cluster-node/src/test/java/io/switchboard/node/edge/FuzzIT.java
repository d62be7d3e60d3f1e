package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.auth.TestTokens;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.ServerFrame;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Throws {@value #FRAMES} hostile frames — random bytes and text, mutated binary and JSON frames,
 * JSON of the right shape with wrong values, resumes of a victim's session, oversized frames — at a
 * running node over {@value #CONNECTIONS} sockets, while a well-behaved client in a group receives
 * {@value #PUBLICATIONS} publications made during the run. Afterwards the node must still be ready,
 * every fuzzing socket must be either open and answering a Ping or closed with a documented code
 * (none stuck), the heap must not have grown beyond a generous bound, and the well-behaved client
 * must have every publication, in order, with no gap. Seeded: the seed is printed, and {@code
 * -Dfuzz.seed=N} replays a run.
 */
@ExtendWith(LogCapturingExtension.class)
class FuzzIT {
  private static final int CONNECTIONS = 8;
  private static final int FRAMES = 120_000;
  private static final int PUBLICATIONS = 300;
  private static final int SYNC = 256;
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final long HEAP_GROWTH_BOUND = 256L << 20;
  private static final String GROUP = "good:0";
  private static final Set<Integer> DOCUMENTED =
      Arrays.stream(CloseCode.values()).map(CloseCode::code).collect(Collectors.toSet());

  @Test
  void hostileFramesNeverHurtTheNodeOrAWellBehavedClient() throws Exception {
    // A fixed default keeps CI reproducible; -Dfuzz.seed=<n> replays another run, and
    // -Dfuzz.seed=random explores. The default seed once stalled a connection for minutes: its
    // JSON frame with a number like 1e999999999 cost protobuf's JSON parser that long (ProtoJson
    // now refuses such numbers at once).
    String configured = System.getProperty("fuzz.seed", "8237296211675008520");
    long seed =
        configured.equals("random") ? new SecureRandom().nextLong() : Long.parseLong(configured);
    String run = "fuzz seed " + seed + " (replay with -Dfuzz.seed=" + seed + ")";
    System.out.println("FuzzIT: " + run);
    try (TestNode node =
        TestNode.start(
            """
            switchboard.auth.mode = jwt
            switchboard.auth.hmac-secret = "%s"
            switchboard.edge.frames-per-second = 1000000
            switchboard.edge.frame-burst = 1000000
            switchboard.edge.websocket.max-frame-size = 16KiB
            switchboard.edge.max-groups-per-session = 20
            switchboard.edge.client-publish = any
            switchboard.limits.per-user.frames-per-second = 0
            switchboard.limits.per-user.connections = 0
            switchboard.session.detached-timeout = 5s
            switchboard.edge.heartbeat.interval = 60s
            switchboard.edge.heartbeat.timeout = 120s
            """
                .formatted(TestTokens.SECRET))) {
      Map<String, String> good = bearer("good", List.of("good:*"));
      try (WsClient listener = WsClient.open(node.wsUri(), false, good);
          WsClient publisher = WsClient.open(node.wsUri(), true, good)) {
        String victim = listener.connect().getSessionId();
        listener.join(GROUP);
        publisher.connect();
        long heapBefore = usedHeapAfterGc();

        Semaphore pacer = new Semaphore(0);
        AtomicLong handled = new AtomicLong();
        Map<Integer, AtomicInteger> closes = new ConcurrentHashMap<>();
        List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicIntegerArray progress =
            new java.util.concurrent.atomic.AtomicIntegerArray(CONNECTIONS);
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS);
        List<Future<FuzzSocket>> fuzzers = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
          int n = i;
          fuzzers.add(
              pool.submit(
                  () ->
                      fuzz(
                          node.wsUri(),
                          n,
                          new FuzzFrames(seed + n, List.of(victim), 20 * 1024),
                          handled,
                          pacer,
                          closes,
                          problems,
                          progress,
                          deadline)));
        }
        for (int i = 1; i <= PUBLICATIONS; i++) {
          while (!pacer.tryAcquire(1, TimeUnit.SECONDS)) {
            for (Future<FuzzSocket> f : fuzzers) {
              if (f.isDone()) {
                f.get(); // a fuzzing thread that failed fails the test with its cause
              }
            }
            if (System.nanoTime() > deadline) {
              fail(
                  "fuzzing stalled before publication "
                      + i
                      + "; frames handled per connection "
                      + progress
                      + "; problems "
                      + problems
                      + "; "
                      + run);
            }
          }
          publisher.publishAsync(GROUP, "m" + i);
        }
        List<FuzzSocket> last = new ArrayList<>();
        for (Future<FuzzSocket> f : fuzzers) {
          last.add(f.get(DEADLINE.toSeconds() + 30, TimeUnit.SECONDS));
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(
            "FuzzIT: %d frames handled over %d connections in %.1f s (%.0f/s), %s; closes %s%n",
            handled.get(),
            CONNECTIONS,
            seconds,
            handled.get() / seconds,
            run,
            new TreeMap<>(closes));

        // The publications were all acknowledged, and the bystander has every one, in order.
        for (int acked = 0; acked < PUBLICATIONS; ) {
          ServerFrame f = publisher.next(Duration.ofSeconds(30));
          if (f.hasError()) {
            fail("publish refused: " + f.getError() + "; " + run);
          }
          acked += f.hasPublished() ? 1 : 0;
        }
        List<Delivery> got =
            listener.deliveriesUntil(GROUP, PUBLICATIONS, Duration.ofSeconds(30), null);
        WebSocketITSupport.assertSequence(got, 1, PUBLICATIONS);
        for (int i = 0; i < PUBLICATIONS; i++) {
          assertEquals("m" + (i + 1), got.get(i).getPayload().toStringUtf8(), run);
        }

        // Every fuzzing socket is open and answering, or closed with a documented code.
        for (int i = 0; i < last.size(); i++) {
          FuzzSocket s = last.get(i);
          var pong = s.ping(0x5EED0000L + i);
          try {
            java.util.concurrent.CompletableFuture.anyOf(pong, s.closed).get(15, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException e) {
            fail("fuzzing socket " + i + " neither answers a Ping nor is closed; " + run);
          }
          if (!pong.isDone()) {
            record(closes, problems, s.closed.getNow(-3));
          }
          s.abort();
        }
        assertTrue(readiness(node), "the node is still ready; " + run);

        long heapAfter = usedHeapAfterGc();
        System.out.printf(
            "FuzzIT: all closes %s; heap %d MiB before, %d MiB after%n",
            new TreeMap<>(closes), heapBefore >> 20, heapAfter >> 20);
        assertTrue(problems.isEmpty(), () -> problems + "; " + run);
        assertTrue(handled.get() >= 100_000, "handled " + handled.get() + " frames; " + run);
        assertTrue(
            heapAfter - heapBefore < HEAP_GROWTH_BOUND,
            "heap grew from " + (heapBefore >> 20) + " to " + (heapAfter >> 20) + " MiB; " + run);
      }
    }
  }

  /**
   * One fuzzing connection: sends its share, reopening the socket whenever the node closes it.
   * Every {@value #SYNC} frames it pings and waits for the Pong, so frames are counted only once
   * the node has handled them (frames still in flight when the node closes a socket are not
   * counted), and the node is never more than {@value #SYNC} frames behind.
   */
  private static FuzzSocket fuzz(
      URI uri,
      int n,
      FuzzFrames frames,
      AtomicLong handled,
      Semaphore pacer,
      Map<Integer, AtomicInteger> closes,
      List<String> problems,
      java.util.concurrent.atomic.AtomicIntegerArray progress,
      long deadline)
      throws InterruptedException, java.util.concurrent.ExecutionException {
    Map<String, String> headers = bearer("fuzz-" + n, List.of("fuzz:*"));
    // One socket has the node answer in JSON; all of them send binary and JSON alike.
    boolean json = n == CONNECTIONS - 1;
    FuzzSocket socket = openConnected(uri, json, headers);
    int share = FRAMES / CONNECTIONS;
    int perPublication = FRAMES / PUBLICATIONS;
    long syncId = Long.MIN_VALUE + ((long) n << 40);
    int mine = 0;
    int pending = 0;
    while (mine < share && System.nanoTime() < deadline) {
      boolean open;
      if (pending < SYNC) {
        open = socket.send(frames.next());
        pending += open ? 1 : 0;
      } else {
        var pong = socket.ping(syncId++);
        try {
          java.util.concurrent.CompletableFuture.anyOf(pong, socket.closed)
              .get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          problems.add(
              "connection "
                  + n
                  + " neither answered a Ping nor closed within 20 s; "
                  + socket.recent());
          return socket;
        }
        open = pong.isDone();
        if (open) {
          long before = handled.getAndAdd(pending);
          pacer.release((int) ((before + pending) / perPublication - before / perPublication));
          mine += pending;
          progress.set(n, mine);
          pending = 0;
        }
      }
      if (!open) {
        int code;
        try {
          code = socket.closed.get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          problems.add("connection " + n + ": a send failed and the socket did not close");
          code = -3;
        }
        record(closes, problems, code);
        socket.abort();
        socket = openConnected(uri, json, headers);
        pending = 0;
      }
    }
    return socket;
  }

  private static FuzzSocket openConnected(URI uri, boolean json, Map<String, String> headers) {
    FuzzSocket socket = FuzzSocket.open(uri, json, headers);
    socket.send(new FuzzFrames.Fuzz(FuzzFrames.connect().toByteArray(), null));
    return socket;
  }

  private static void record(Map<Integer, AtomicInteger> closes, List<String> problems, int code) {
    closes.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
    if (!DOCUMENTED.contains(code)) {
      problems.add("closed with undocumented code " + code);
    }
  }

  private static Map<String, String> bearer(String user, List<String> groups) {
    return Map.of(
        "Authorization",
        "Bearer "
            + TestTokens.hs256(
                TestTokens.SECRET, TestTokens.claims(user, groups, groups, Duration.ofHours(1))));
  }

  private static boolean readiness(TestNode node) throws Exception {
    HttpResponse<String> ready =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.managementPort() + "/ready"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return ready.statusCode() == 200;
  }

  private static long usedHeapAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
