package io.switchboard.node.bench;

import com.google.protobuf.ByteString;
import com.typesafe.config.ConfigFactory;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.Register;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.RoutePattern;
import io.switchboard.protocol.v1.ServerFrame;
import io.switchboard.protocol.v1.WorkerFrame;
import io.switchboard.protocol.v1.WorkerReply;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The backend API's benchmark: starts a node as a separate JVM ({@link NodeProcess}), connects one
 * Serve worker from this JVM (the generated gRPC client) that answers every request at once, then
 *
 * <ol>
 *   <li>N WebSocket clients each keep one Request in flight (closed loop) through the worker: round
 *       trips per second and latency percentiles, browser → node → worker → node → browser;
 *   <li>P concurrent gRPC callers publish in closed loops (one group each): publishes per second
 *       and latency percentiles, acknowledged after the journal write.
 * </ol>
 *
 * Run it with {@code scripts/bench-api.sh}; options: {@code --clients 64 --publishers 16 --duration
 * 10 --warmup 3 --journal redis|inmem}.
 */
public final class RequestReplyBenchmark {
  private RequestReplyBenchmark() {}

  /** Latencies of one phase, in microseconds. */
  private static final class Latencies {
    private long[] values = new long[1 << 16];
    private int size;

    synchronized void add(long micros) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = micros;
    }

    synchronized String summary() {
      long[] sorted = Arrays.copyOf(values, size);
      Arrays.sort(sorted);
      return "p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          .formatted(at(sorted, 0.50), at(sorted, 0.99), at(sorted, 1.0));
    }

    private static double at(long[] sorted, double q) {
      return sorted.length == 0
          ? 0
          : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1000.0;
    }
  }

  public static void main(String[] args) throws Exception {
    String classpath = option(args, "--node-classpath", System.getProperty("java.class.path"));
    Path workDir = Path.of(option(args, "--work-dir", "target/bench-api"));
    int clients = Integer.parseInt(option(args, "--clients", "64"));
    int publishers = Integer.parseInt(option(args, "--publishers", "16"));
    int seconds = Integer.parseInt(option(args, "--duration", "10"));
    int warmup = Integer.parseInt(option(args, "--warmup", "3"));
    boolean redis = option(args, "--journal", "redis").equals("redis");
    String key = "bench-" + UUID.randomUUID();

    NodeProcess.Spec spec =
        new NodeProcess.Spec(
            classpath,
            redis ? "switchboard.persistence.journal" : "pekko.persistence.journal.inmem",
            redis
                ? "switchboard.persistence.snapshot-store"
                : "pekko.persistence.snapshot-store.local",
            List.of(
                "-Xms1g",
                "-Xmx1g",
                "-Dswitchboard.api.key=" + key,
                "-Dswitchboard.auth.mode=anonymous",
                "-Dswitchboard.backend.max-pending-requests=1000"),
            workDir);
    System.out.printf(
        "Backend API benchmark, %s, %d cores, %s journal%n",
        Instant.now(), Runtime.getRuntime().availableProcessors(), redis ? "Redis" : "in-memory");
    // The load generator is a plain client: no cluster, no remoting.
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "bench",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try (NodeProcess node = NodeProcess.start(spec, Duration.ofSeconds(90))) {
      int port = node.wsUri().getPort();
      GatewayClient gateway =
          GatewayClient.create(
              GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system).withTls(false),
              system);
      echoWorker(system, gateway, key);

      double cpu0 = node.cpuSeconds();
      requestReply(node.wsUri(), clients, warmup, seconds);
      double cpu1 = node.cpuSeconds();
      publish(gateway, key, publishers, warmup, seconds);
      double cpu2 = node.cpuSeconds();
      System.out.printf(
          "node CPU: %.1f s during request/reply, %.1f s during publishing%n",
          cpu1 - cpu0, cpu2 - cpu1);
      gateway.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      system.terminate();
    }
  }

  /** One Serve worker that answers every request with its body at once. */
  private static void echoWorker(ActorSystem<?> system, GatewayClient gateway, String key)
      throws Exception {
    Materializer mat = Materializer.matFromSystem(system);
    Pair<BoundedSourceQueue<WorkerFrame>, Source<WorkerFrame, NotUsed>> out =
        Source.<WorkerFrame>queue(65_536).preMaterialize(mat);
    BoundedSourceQueue<WorkerFrame> replies = out.first();
    replies.offer(
        WorkerFrame.newBuilder()
            .setRegister(
                Register.newBuilder()
                    .setName("bench echo worker")
                    .addRoutes(RoutePattern.newBuilder().setMethod("GET").setPath("/bench/:n")))
            .build());
    CompletableFuture<Void> registered = new CompletableFuture<>();
    gateway
        .serve()
        .addHeader("authorization", "Bearer " + key)
        .invoke(out.second())
        .runWith(
            Sink.foreach(
                (GatewayFrame frame) -> {
                  if (frame.hasRegistered()) {
                    registered.complete(null);
                  } else if (frame.hasRequest()) {
                    replies.offer(
                        WorkerFrame.newBuilder()
                            .setReply(
                                WorkerReply.newBuilder()
                                    .setRequestId(frame.getRequest().getRequestId())
                                    .setStatus(200)
                                    .setBody(frame.getRequest().getBody()))
                            .build());
                  }
                }),
            mat);
    registered.get(30, TimeUnit.SECONDS);
  }

  // ---- request/reply through the worker

  private static void requestReply(URI ws, int clients, int warmup, int seconds) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Latencies latencies = new Latencies();
    AtomicLong replies = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    List<LoopClient> loops = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      loops.add(LoopClient.open(http, ws, i, latencies, replies, errors));
    }
    for (LoopClient loop : loops) {
      loop.connected.get(30, TimeUnit.SECONDS);
    }
    loops.forEach(LoopClient::start);
    Pause.millis(warmup * 1000L);
    loops.forEach(l -> l.measuring = true);
    long from = replies.get();
    long t0 = System.nanoTime();
    Pause.millis(seconds * 1000L);
    long done = replies.get() - from;
    double elapsed = (System.nanoTime() - t0) / 1e9;
    loops.forEach(l -> l.running = false);
    System.out.printf(
        "request/reply: %d WebSocket clients, 1 in flight each, 1 Serve worker: "
            + "%.0f round trips/s over %.0f s; %s; %d errors%n",
        clients, done / elapsed, elapsed, latencies.summary(), errors.get());
    for (LoopClient loop : loops) {
      loop.close();
    }
  }

  /** A browser that sends its next Request as soon as the previous one is answered. */
  private static final class LoopClient implements WebSocket.Listener {
    final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final int index;
    private final Latencies latencies;
    private final AtomicLong replies;
    private final AtomicLong errors;
    private final ByteString body = ByteString.copyFrom(new byte[64]);
    private ByteBuffer partial = ByteBuffer.allocate(0);
    private WebSocket socket;
    private CompletionStage<?> sending = CompletableFuture.completedFuture(null);
    private long sentAt;
    private long nextId = 1;
    volatile boolean measuring;
    volatile boolean running = true;

    private LoopClient(int index, Latencies latencies, AtomicLong replies, AtomicLong errors) {
      this.index = index;
      this.latencies = latencies;
      this.replies = replies;
      this.errors = errors;
    }

    static LoopClient open(
        HttpClient http, URI ws, int index, Latencies l, AtomicLong replies, AtomicLong errors) {
      LoopClient client = new LoopClient(index, l, replies, errors);
      client.socket = http.newWebSocketBuilder().buildAsync(ws, client).join();
      client.send(
          ClientFrame.newBuilder().setId(0).setConnect(Connect.getDefaultInstance()).build());
      return client;
    }

    void start() {
      sendRequest();
    }

    private void sendRequest() {
      sentAt = System.nanoTime();
      send(
          ClientFrame.newBuilder()
              .setId(nextId++)
              .setRequest(
                  Request.newBuilder()
                      .setMethod("GET")
                      .setPath("/bench/" + index)
                      .setBody(body)
                      .setTimeoutMs(10_000))
              .build());
    }

    private synchronized void send(ClientFrame frame) {
      ByteBuffer bytes = ByteBuffer.wrap(frame.toByteArray());
      sending = sending.thenCompose(x -> socket.sendBinary(bytes, true));
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      ByteBuffer joined = ByteBuffer.allocate(partial.remaining() + data.remaining());
      partial = joined.put(partial).put(data).flip();
      if (last) {
        byte[] bytes = new byte[partial.remaining()];
        partial.get(bytes);
        partial = ByteBuffer.allocate(0);
        try {
          received(ServerFrame.parseFrom(bytes));
        } catch (IOException e) {
          errors.incrementAndGet();
        }
      }
      ws.request(1);
      return null;
    }

    private void received(ServerFrame frame) {
      switch (frame.getKindCase()) {
        case CONNECTED -> connected.complete(null);
        case REPLY -> {
          long micros = (System.nanoTime() - sentAt) / 1000;
          replies.incrementAndGet();
          if (measuring && running) {
            latencies.add(micros);
          }
          if (running) {
            sendRequest();
          }
        }
        case ERROR -> {
          errors.incrementAndGet();
          if (running && frame.getId() != 0) {
            sendRequest();
          }
        }
        default -> {}
      }
    }

    void close() {
      socket.abort();
    }
  }

  // ---- publishing through gRPC

  private static void publish(GatewayClient gateway, String key, int callers, int warmup, int secs)
      throws Exception {
    PublishLoops loops = new PublishLoops(gateway, key, callers);
    for (int i = 0; i < callers; i++) {
      loops.next("bench-" + i + "-" + UUID.randomUUID());
    }
    Pause.millis(warmup * 1000L);
    loops.measuring = true;
    long from = loops.published.get();
    long t0 = System.nanoTime();
    Pause.millis(secs * 1000L);
    long done = loops.published.get() - from;
    double elapsed = (System.nanoTime() - t0) / 1e9;
    loops.running = false;
    loops.stopped.await(30, TimeUnit.SECONDS);
    System.out.printf(
        "publish: %d concurrent gRPC callers, one group each: %.0f publishes/s over %.0f s; %s;"
            + " %d failed%n",
        callers, done / elapsed, elapsed, loops.latencies.summary(), loops.failed.get());
  }

  /** Callers that publish their next message as soon as the previous one is acknowledged. */
  private static final class PublishLoops {
    final Latencies latencies = new Latencies();
    final AtomicLong published = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final CountDownLatch stopped;
    private final GatewayClient gateway;
    private final String key;
    private final ByteString payload = ByteString.copyFrom(new byte[64]);
    volatile boolean measuring;
    volatile boolean running = true;

    PublishLoops(GatewayClient gateway, String key, int callers) {
      this.gateway = gateway;
      this.key = key;
      this.stopped = new CountDownLatch(callers);
    }

    void next(String group) {
      long t0 = System.nanoTime();
      gateway
          .publish()
          .addHeader("authorization", "Bearer " + key)
          .invoke(PublishRequest.newBuilder().setGroup(group).setPayload(payload).build())
          .whenComplete(
              (response, failure) -> {
                if (failure != null) {
                  failed.incrementAndGet();
                } else {
                  published.incrementAndGet();
                  if (measuring && running) {
                    latencies.add((System.nanoTime() - t0) / 1000);
                  }
                }
                if (running) {
                  next(group);
                } else {
                  stopped.countDown();
                }
              });
    }
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
