package io.switchboard.node.bridge;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A WebSocket server standing in for a bridge's upstream, in its own actor system on a loopback
 * port that survives {@link #kill()} and {@link #restart()}.
 *
 * <p>{@code /up} keeps one log of numbered messages {@code {"id":N,"body":"u-N"}}: a connection
 * with {@code X-Last-Id: K} gets every message after K, then the live ones; a connection without it
 * starts live. Every text message it receives is recorded in order. {@code /echo} answers each text
 * message with {@code echo:<text>} and accepts the subprotocol {@code echo.v1}. Upgrade headers and
 * how each connection ended (close handshake or not) are recorded.
 */
final class TestUpstream implements AutoCloseable {

  /** When one upstream connection ended. */
  record Ended(int connection, long atNanos) {}

  private final ActorSystem<Void> system;
  private final Materializer materializer;
  private final int port;
  private final List<String> log = new ArrayList<>();
  private final Set<BoundedSourceQueue<Message>> live = ConcurrentHashMap.newKeySet();
  private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
  private final List<Map<String, String>> upgrades = new CopyOnWriteArrayList<>();
  private final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile SharedKillSwitch killSwitch;
  private volatile ServerBinding binding;

  private TestUpstream(ActorSystem<Void> system, ServerBinding binding, SharedKillSwitch kill) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.binding = binding;
    this.killSwitch = kill;
    this.port = binding.localAddress().getPort();
  }

  static TestUpstream start() {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "upstream",
            ConfigFactory.parseString(
                    "pekko.actor.provider = local\n"
                        + "pekko.http.server.websocket.periodic-keep-alive-max-idle = infinite")
                .withFallback(ConfigFactory.defaultReference()));
    TestUpstream[] self = new TestUpstream[1];
    SharedKillSwitch kill = KillSwitches.shared("upstream");
    ServerBinding binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(routeOf(self))
            .toCompletableFuture()
            .join();
    self[0] = new TestUpstream(system, binding, kill);
    return self[0];
  }

  private static Route routeOf(TestUpstream[] self) {
    return Directives.extractRequest(
        request ->
            Directives.extractWebSocketUpgrade(
                upgrade ->
                    Directives.concat(
                        Directives.path("up", () -> self[0].up(request, upgrade)),
                        Directives.path("echo", () -> self[0].echo(request, upgrade)))));
  }

  int port() {
    return port;
  }

  /** Appends {@code count} messages to the log and sends them to every live connection. */
  synchronized void emit(int count) {
    for (int i = 0; i < count; i++) {
      int id = log.size() + 1;
      String text = "{\"id\":" + id + ",\"body\":\"u-" + id + "\"}";
      log.add(text);
      for (BoundedSourceQueue<Message> q : live) {
        q.offer(TextMessage.create(text));
      }
    }
  }

  /** Id of the last message in the log. */
  synchronized int head() {
    return log.size();
  }

  /** Drops every connection at once (no close handshake) and stops listening. */
  void kill() {
    killSwitch.abort(new IllegalStateException("upstream killed"));
    live.clear();
    binding.unbind().toCompletableFuture().join();
  }

  /** Listens again on the same port. */
  void restart() {
    killSwitch = KillSwitches.shared("upstream");
    TestUpstream[] self = {this};
    binding =
        Http.get(system)
            .newServerAt("127.0.0.1", port)
            .bind(routeOf(self))
            .toCompletableFuture()
            .join();
  }

  /** The next {@code count} text messages received on /up, in order. */
  List<String> received(int count, Duration timeout) {
    List<String> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (out.size() < count) {
      String next;
      try {
        next = received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (next == null) {
        fail("upstream received only " + out + " within " + timeout);
      }
      out.add(next);
    }
    return out;
  }

  /** Upgrade headers (lower-case names) of every connection so far, in order. */
  List<Map<String, String>> upgrades() {
    return List.copyOf(upgrades);
  }

  /** Waits until there were {@code count} upgrades in all; returns the last one's headers. */
  synchronized Map<String, String> awaitUpgrades(int count, Duration timeout) {
    awaitRecorded(() -> upgrades.size() >= count, timeout, "upstream connections");
    return upgrades.get(count - 1);
  }

  /** Waits until {@code n} upgrades had {@code header: value}; returns their numbers (1-based). */
  synchronized List<Integer> awaitConnectionsWith(
      String header, String value, int n, Duration timeout) {
    awaitRecorded(
        () -> connectionsWith(header, value).size() >= n,
        timeout,
        "upstream connections with " + header + ": " + value);
    return connectionsWith(header, value);
  }

  /** Woken by every recorded upgrade (record notifies); holds this object's monitor. */
  private void awaitRecorded(
      java.util.function.BooleanSupplier done, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!done.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          fail("only " + upgrades.size() + " upgrades within " + timeout + " waiting for " + what);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  int connectionCount() {
    return connections.get();
  }

  /** The next connection to end, within the timeout. */
  Ended nextEnded(Duration timeout) {
    try {
      Ended e = ended.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      if (e == null) {
        fail("no upstream connection ended within " + timeout);
      }
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private Route up(HttpRequest request, WebSocketUpgrade upgrade) {
    int connection = record(request);
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> out =
        Source.<Message>queue(10_000).preMaterialize(materializer);
    synchronized (this) {
      int after =
          request.getHeader("x-last-id").map(h -> Integer.parseInt(h.value())).orElse(log.size());
      for (int i = after; i < log.size(); i++) {
        out.first().offer(TextMessage.create(log.get(i)));
      }
      live.add(out.first());
    }
    Sink<Message, NotUsed> in =
        Sink.<Message>foreach(m -> received.add(text(m)))
            .mapMaterializedValue(
                done -> {
                  watch(connection, done, out.first());
                  return NotUsed.getInstance();
                });
    return Directives.complete(
        upgrade.handleMessagesWith(
            Flow.fromSinkAndSourceCoupled(in, out.second()).via(killSwitch.flow())));
  }

  private Route echo(HttpRequest request, WebSocketUpgrade upgrade) {
    int connection = record(request);
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> out =
        Source.<Message>queue(1_000).preMaterialize(materializer);
    Sink<Message, NotUsed> in =
        Sink.<Message>foreach(m -> out.first().offer(TextMessage.create("echo:" + text(m))))
            .mapMaterializedValue(
                done -> {
                  watch(connection, done, out.first());
                  return NotUsed.getInstance();
                });
    var flow = Flow.fromSinkAndSourceCoupled(in, out.second()).via(killSwitch.flow());
    boolean v1 =
        StreamSupport.stream(upgrade.getRequestedProtocols().spliterator(), false)
            .anyMatch("echo.v1"::equals);
    return Directives.complete(
        v1 ? upgrade.handleMessagesWith(flow, "echo.v1") : upgrade.handleMessagesWith(flow));
  }

  private synchronized int record(HttpRequest request) {
    Map<String, String> headers = new java.util.HashMap<>();
    for (HttpHeader h : request.getHeaders()) {
      headers.put(h.lowercaseName(), h.value());
    }
    upgrades.add(Map.copyOf(headers));
    connections.incrementAndGet();
    notifyAll();
    return upgrades.size();
  }

  /** Numbers (1-based) of the connections whose upgrade had {@code header: value}. */
  List<Integer> connectionsWith(String header, String value) {
    List<Integer> out = new ArrayList<>();
    List<Map<String, String>> all = upgrades();
    for (int i = 0; i < all.size(); i++) {
      if (value.equals(all.get(i).get(header))) {
        out.add(i + 1);
      }
    }
    return out;
  }

  /** Waits for connection {@code connection} to end. */
  Ended awaitEnded(int connection, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Ended> others = new ArrayList<>();
    try {
      while (true) {
        Ended e = nextEnded(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        if (e.connection() == connection) {
          return e;
        }
        others.add(e);
      }
    } finally {
      ended.addAll(others);
    }
  }

  /** Forgets what was received so far (messages of earlier tests). */
  void clearReceived() {
    received.clear();
  }

  private void watch(
      int connection,
      java.util.concurrent.CompletionStage<Done> done,
      BoundedSourceQueue<Message> queue) {
    done.whenComplete(
        (ok, failure) -> {
          live.remove(queue);
          ended.add(new Ended(connection, System.nanoTime()));
        });
  }

  private String text(Message m) {
    if (m.isStrict()) {
      return m.asTextMessage().getStrictText();
    }
    return m.asTextMessage().toStrict(5_000, materializer).toCompletableFuture().join().text();
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
