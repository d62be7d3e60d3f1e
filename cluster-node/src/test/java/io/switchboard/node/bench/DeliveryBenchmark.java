package io.switchboard.node.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Delivery benchmark of one node (issue 2). Not a test: a {@code main} that starts a node as a
 * separate JVM (so its CPU time and RSS can be read from /proc alone), drives it over loopback
 * WebSockets from this JVM and prints:
 *
 * <ul>
 *   <li>memory per idle connection: node RSS before and after opening K connected, unjoined
 *       sessions that answer pings, and the node's heap after a full GC before and after;
 *   <li>for N subscribers of one group and fixed publish rates R (deliveries/s = R × N) up to
 *       saturation: offered and delivered deliveries/s, publish→delivery latency p50/p99/max, the
 *       node's CPU time per delivery, and the CPU of the node, of this load generator and of
 *       everything else on the machine during the window.
 * </ul>
 *
 * <p>Each step publishes for a warm-up, then a measured window, then stops and waits until every
 * subscriber got every publication (or reports what is missing). A step is saturated when less than
 * 90% of the offered deliveries arrive within the window, p99 exceeds {@code --max-p99-ms},
 * publications could not be offered, or a connection was lost; the scenario stops there.
 *
 * <p>Run {@code scripts/bench-delivery.sh --help} for the options.
 */
public final class DeliveryBenchmark {
  private static final int CONCURRENT_OPENS = 200;
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final Options options;
  private final PrintStream out;
  private final Stats stats = new Stats();
  private final List<StepResult> results = new ArrayList<>();
  private final List<String> memoryReport = new ArrayList<>();
  private ScheduledExecutorService scheduler;
  private WsConnection.Client client;
  private NodeProcess node;
  private int nextStep = 1;
  private Double idleKbPerConnection;

  private DeliveryBenchmark(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Runs the benchmark; see {@code --help}. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(Options.USAGE);
      return;
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    int code = new DeliveryBenchmark(options, out).run();
    System.exit(code);
  }

  private int run() throws Exception {
    header();
    scheduler = Executors.newScheduledThreadPool(2, daemon("bench-scheduler"));
    try {
      client = createClient();
      out.println("load generator: " + client.name());
      Path work = options.workDir.resolve(STAMP.format(Instant.now()));
      node =
          NodeProcess.start(
              new NodeProcess.Spec(
                  options.nodeClasspath,
                  options.journal,
                  options.snapshotPlugin,
                  options.nodeJvmOptions,
                  work),
              Duration.ofSeconds(options.nodeStartTimeoutSeconds));
      out.println("node: pid " + node.pid() + ", log " + node.log());
      out.println("node command: " + node.command());
      out.println();
      warmUp();
      if (options.jfr != null) {
        out.println(
            "JFR: "
                + node.jcmd(
                        "JFR.start",
                        "name=bench",
                        "settings=profile",
                        "filename=" + options.jfr.toAbsolutePath())
                    .lines()
                    .reduce((a, b) -> b)
                    .orElse(""));
      }
      if (options.idle > 0) {
        idleMemory(options.idle);
      }
      out.println();
      out.println(StepResult.HEADER);
      for (int n : options.subscribers) {
        scenario(n);
      }
      if (options.jfr != null) {
        node.jcmd("JFR.stop", "name=bench");
        out.println("JFR recording: " + options.jfr.toAbsolutePath());
      }
      summary();
      return 0;
    } catch (Exception e) {
      out.println("FAILED: " + e);
      if (node != null) {
        out.println("node log tail:\n" + node.logTail(30));
      }
      summary();
      return 1;
    } finally {
      if (client != null) {
        client.close();
      }
      if (node != null) {
        node.close();
      }
      scheduler.shutdownNow();
    }
  }

  private void header() {
    String model = Proc.run("sh", "-c", "lscpu | sed -n 's/^Model name: *//p' | head -1").trim();
    long memMb =
        Proc.run("sh", "-c", "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo").isEmpty()
            ? -1
            : Long.parseLong(
                    Proc.run(
                        "sh", "-c", "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo"))
                / 1024;
    out.println("Switchboard delivery benchmark, " + Instant.now());
    out.println(
        "machine: "
            + Runtime.getRuntime().availableProcessors()
            + " cores ("
            + model
            + "), "
            + memMb
            + " MB RAM, "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + ", Java "
            + System.getProperty("java.runtime.version")
            + "; load average at start: "
            + Proc.run("cat", "/proc/loadavg"));
    out.println(
        "settings: subscribers "
            + options.subscribers
            + ", journal "
            + options.journal
            + (options.snapshotPlugin.isEmpty() ? "" : ", snapshots " + options.snapshotPlugin)
            + ", payload "
            + options.payloadBytes
            + " B, steps of "
            + options.warmupSeconds
            + " s warm-up + "
            + options.durationSeconds
            + " s measured, idle connections "
            + options.idle);
  }

  private WsConnection.Client createClient() throws IOException {
    return switch (options.client) {
      case "nio" -> new NioWebSockets(options.ioThreads);
      case "jdk" -> new JdkWebSockets(options.ioThreads);
      case "pekko" -> new PekkoWebSockets();
      default -> throw new IllegalArgumentException("unknown client " + options.client);
    };
  }

  // ---- phases

  /** JIT-warms node and generator on a small group, then ends those sessions. */
  private void warmUp() throws Exception {
    int n = Math.min(500, options.subscribers.stream().mapToInt(i -> i).max().orElse(500));
    double rate = 100;
    out.printf(
        Locale.ROOT,
        "warm-up: %d subscribers, %.0f publications/s for %d s ...%n",
        n,
        rate,
        options.warmupSeconds * 3);
    String group = "bench-warmup";
    List<BenchSocket> subs = openSockets(n, BenchSocket.Role.SUBSCRIBER, group);
    BenchSocket pubSocket = openSockets(1, BenchSocket.Role.PUBLISHER, group).get(0);
    Publisher publisher = new Publisher(pubSocket, scheduler, options.payloadBytes);
    ScheduledFuture<?> acks = ackTicker(subs);
    long before = stats.delivered.sum();
    publisher.start(rate, 0);
    Pause.millis(options.warmupSeconds * 3000L);
    publisher.stop();
    drain(before, publisher.sent() * n, Duration.ofSeconds(10));
    acks.cancel(false);
    closeAll(subs, pubSocket);
    awaitNodeQuiet();
  }

  /** RSS and heap of the node before and after K idle connected sessions. */
  private void idleMemory(int k) throws Exception {
    out.printf(
        Locale.ROOT, "idle connections: %d (connected sessions, not joined, answering pings)%n", k);
    long heap0 = node.heapUsedAfterGc();
    Pause.millis(3000);
    long rss0 = stableRss(Duration.ofSeconds(10));
    int threads0 = node.threads();
    long t0 = System.nanoTime();
    List<BenchSocket> idle = openSockets(k, BenchSocket.Role.IDLE, null);
    double openSeconds = (System.nanoTime() - t0) / 1e9;
    Pause.millis(2000);
    long rss1 = stableRss(Duration.ofSeconds(30));
    int threads1 = node.threads();
    long heap1 = node.heapUsedAfterGc();
    long rssAfterGc = node.rssBytes();
    double rssKb = (rss1 - rss0) / 1024.0 / k;
    double heapKb = heap0 > 0 && heap1 > 0 ? (heap1 - heap0) / 1024.0 / k : Double.NaN;
    idleKbPerConnection = rssKb;
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "idle connections: %d opened in %.1f s; node threads %d -> %d",
            k,
            openSeconds,
            threads0,
            threads1));
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "node RSS: %.1f MB before, %.1f MB with them (%.1f MB after a full GC): %.1f KB per idle connection",
            rss0 / 1048576.0,
            rss1 / 1048576.0,
            rssAfterGc / 1048576.0,
            rssKb));
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "node heap in use after a full GC: %.1f MB before, %.1f MB with them: %.1f KB per idle connection",
            heap0 / 1048576.0,
            heap1 / 1048576.0,
            heapKb));
    memoryReport.forEach(out::println);
    closeAll(idle, null);
    awaitNodeQuiet();
  }

  /** N subscribers of one group, rising publish rates until saturation. */
  private void scenario(int n) throws Exception {
    String group = "bench-" + n + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    out.printf(Locale.ROOT, "-- %d subscribers of group %s: connecting ...%n", n, group);
    long t0 = System.nanoTime();
    List<BenchSocket> subs = openSockets(n, BenchSocket.Role.SUBSCRIBER, group);
    BenchSocket pubSocket = openSockets(1, BenchSocket.Role.PUBLISHER, group).get(0);
    out.printf(
        Locale.ROOT,
        "   connected and joined in %.1f s; node RSS %.0f MB%n",
        (System.nanoTime() - t0) / 1e9,
        node.rssBytes() / 1048576.0);
    Publisher publisher = new Publisher(pubSocket, scheduler, options.payloadBytes);
    ScheduledFuture<?> acks = ackTicker(subs);
    Pause.millis(1000);
    try {
      for (double rate : options.rates(n)) {
        StepResult r = step(n, rate, subs, publisher);
        results.add(r);
        out.println(r.row());
        if (r.note().startsWith("SATURATED") && !options.keepGoing) {
          break;
        }
        if (r.connectionsLost() > 0 || !node.isAlive()) {
          break;
        }
      }
    } finally {
      publisher.stop();
      acks.cancel(false);
      closeAll(subs, pubSocket);
      awaitNodeQuiet();
    }
  }

  private StepResult step(int n, double rate, List<BenchSocket> subs, Publisher publisher) {
    int step = nextStep++;
    long live = subs.stream().filter(BenchSocket::isOpen).count();
    long lost0 = stats.lost.sum();
    long gaps0 = stats.gaps.sum();
    long dups0 = stats.duplicates.sum();
    long errors0 = stats.errors.sum();
    long delivered0 = stats.delivered.sum();
    publisher.start(rate, step);
    Pause.millis(options.warmupSeconds * 1000L);

    double node0 = node.cpuSeconds();
    double gen0 = Proc.selfCpuSeconds();
    double[] box0 = Proc.machineCpuSeconds();
    long windowDelivered0 = stats.delivered.sum();
    long sent0 = publisher.sent();
    long t0 = System.nanoTime();
    publisher.measuring(true);
    Pause.millis(options.durationSeconds * 1000L);
    publisher.measuring(false);
    long t1 = System.nanoTime();
    long windowDelivered1 = stats.delivered.sum();
    long sent1 = publisher.sent();
    double node1 = node.cpuSeconds();
    double gen1 = Proc.selfCpuSeconds();
    double[] box1 = Proc.machineCpuSeconds();
    publisher.stop();

    long expected = publisher.sent() * live;
    long got = drain(delivered0, expected, Duration.ofSeconds(15));
    double seconds = (t1 - t0) / 1e9;
    long deliveredInWindow = windowDelivered1 - windowDelivered0;
    double nodeCpu = node1 - node0;
    double genCpu = gen1 - gen0;
    double boxCpu = box1[0] - box0[0];
    double boxWall = (box1[1] - box0[1]) / Runtime.getRuntime().availableProcessors();
    LogHistogram latency = stats.deliveryLatency(step);
    LogHistogram acks = stats.publishAckLatency(step);
    StepResult r =
        new StepResult(
            n,
            rate,
            (sent1 - sent0) * live / seconds,
            deliveredInWindow / seconds,
            latency.percentile(50) / 1e6,
            latency.percentile(99) / 1e6,
            latency.max() / 1e6,
            latency.count(),
            deliveredInWindow == 0 ? Double.NaN : nodeCpu * 1e6 / deliveredInWindow,
            deliveredInWindow == 0 ? Double.NaN : genCpu * 1e6 / deliveredInWindow,
            nodeCpu / seconds,
            genCpu / seconds,
            boxWall > 0 ? (boxCpu / boxWall) - nodeCpu / seconds - genCpu / seconds : Double.NaN,
            acks.percentile(99) / 1e6,
            Math.max(0, expected - got),
            stats.gaps.sum() - gaps0,
            stats.duplicates.sum() - dups0,
            stats.errors.sum() - errors0,
            stats.lost.sum() - lost0,
            publisher.blocked(),
            "");
    return r.withNote(verdict(r));
  }

  private String verdict(StepResult r) {
    List<String> why = new ArrayList<>();
    if (r.delivered() < 0.9 * r.offered()) {
      why.add("delivered < 90% of offered");
    }
    if (r.p99Ms() > options.maxP99Ms) {
      why.add("p99 > " + options.maxP99Ms + " ms");
    }
    if (r.blocked() > 0) {
      why.add(r.blocked() + " publications not offered (node stopped reading)");
    }
    if (r.connectionsLost() > 0) {
      why.add(r.connectionsLost() + " connections lost: " + stats.lastProblem.get());
    }
    if (r.undelivered() > 0) {
      why.add(r.undelivered() + " deliveries missing after 15 s");
    }
    if (r.errors() > 0) {
      why.add(r.errors() + " errors: " + stats.lastProblem.get());
    }
    return why.isEmpty() ? "" : "SATURATED: " + String.join("; ", why);
  }

  // ---- helpers

  private List<BenchSocket> openSockets(int n, BenchSocket.Role role, String group)
      throws Exception {
    Semaphore permits = new Semaphore(CONCURRENT_OPENS);
    long timeoutNanos = TimeUnit.SECONDS.toNanos(Math.max(60, n / 20));
    long deadline = System.nanoTime() + timeoutNanos;
    URI uri = node.wsUri();
    List<BenchSocket> sockets = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new TimeoutException(
            "opened " + i + " of " + n + " sockets in time; last problem: " + stats.lastProblem);
      }
      BenchSocket s = new BenchSocket(role, group, stats);
      sockets.add(s);
      s.ready().whenComplete((x, e) -> permits.release());
      client.open(uri, s);
    }
    CompletableFuture<Void> all =
        CompletableFuture.allOf(
            sockets.stream().map(BenchSocket::ready).toArray(CompletableFuture[]::new));
    try {
      all.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      long failed = sockets.stream().filter(s -> s.ready().isCompletedExceptionally()).count();
      long pending = sockets.stream().filter(s -> !s.ready().isDone()).count();
      sockets.forEach(BenchSocket::abort);
      throw new IllegalStateException(
          n
              + " "
              + role
              + " sockets: "
              + failed
              + " failed, "
              + pending
              + " not ready; last problem: "
              + stats.lastProblem.get(),
          e);
    }
    return sockets;
  }

  private ScheduledFuture<?> ackTicker(List<BenchSocket> subs) {
    return scheduler.scheduleWithFixedDelay(
        () -> {
          long now = System.nanoTime();
          for (BenchSocket s : subs) {
            s.tick(now);
          }
        },
        250,
        250,
        TimeUnit.MILLISECONDS);
  }

  /** Waits until {@code expected} deliveries arrived since {@code since}; returns how many did. */
  private long drain(long since, long expected, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long last = -1;
    long lastProgress = System.nanoTime();
    while (true) {
      long got = stats.delivered.sum() - since;
      long now = System.nanoTime();
      if (got >= expected || now > deadline) {
        return got;
      }
      if (got != last) {
        last = got;
        lastProgress = now;
      } else if (now - lastProgress > TimeUnit.SECONDS.toNanos(5)) {
        return got;
      }
      Pause.millis(20);
    }
  }

  /** Ends the sessions (Close frame) and waits for the sockets to close; aborts stragglers. */
  private void closeAll(List<BenchSocket> sockets, BenchSocket publisher) {
    List<BenchSocket> all = new ArrayList<>(sockets);
    if (publisher != null) {
      all.add(publisher);
    }
    all.forEach(BenchSocket::closeSession);
    CompletableFuture<Void> closed =
        CompletableFuture.allOf(
            all.stream().map(BenchSocket::closed).toArray(CompletableFuture[]::new));
    try {
      closed.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      all.stream().filter(BenchSocket::isOpen).forEach(BenchSocket::abort);
    }
  }

  /** Waits (at most 30 s) until the node uses less than 10% of a core over a second. */
  private void awaitNodeQuiet() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    double before = node.cpuSeconds();
    while (System.nanoTime() < deadline) {
      Pause.millis(1000);
      double now = node.cpuSeconds();
      if (now - before < 0.1) {
        return;
      }
      before = now;
    }
  }

  /** RSS once three readings a second apart agree within 1% (or at the timeout). */
  private long stableRss(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long a = node.rssBytes();
    Pause.millis(1000);
    long b = node.rssBytes();
    while (System.nanoTime() < deadline) {
      Pause.millis(1000);
      long c = node.rssBytes();
      long lo = Math.min(a, Math.min(b, c));
      long hi = Math.max(a, Math.max(b, c));
      if (hi - lo <= hi / 100) {
        return c;
      }
      a = b;
      b = c;
    }
    return b;
  }

  private void summary() {
    out.println();
    out.println("==== summary ====");
    memoryReport.forEach(out::println);
    if (!results.isEmpty()) {
      out.println(StepResult.HEADER);
      results.forEach(r -> out.println(r.row()));
    }
    out.println();
    out.println("targets (every publication journaled by " + options.journal + "):");
    StepResult best =
        results.stream()
            .filter(r -> !r.note().startsWith("SATURATED"))
            .max((x, y) -> Double.compare(x.delivered(), y.delivered()))
            .orElse(null);
    StepResult at50k =
        results.stream()
            .filter(r -> r.subscribers() == 5000)
            .min(
                (x, y) ->
                    Double.compare(
                        Math.abs(x.rate() * x.subscribers() - 50_000),
                        Math.abs(y.rate() * y.subscribers() - 50_000)))
            .orElse(null);
    if (at50k != null) {
      out.printf(
          Locale.ROOT,
          "  p99 < 20 ms at 50,000 deliveries/s with 5,000 subscribers: p99 %.2f ms at %.0f offered/s -> %s%n",
          at50k.p99Ms(),
          at50k.offered(),
          at50k.p99Ms() < 20 && at50k.note().isEmpty() ? "meets" : "misses");
    }
    if (at50k != null) {
      out.printf(
          Locale.ROOT,
          "  <= 5 us node CPU per delivery: %.2f us at 50,000/s with 5,000 subscribers -> %s%n",
          at50k.nodeUsPerDelivery(),
          at50k.nodeUsPerDelivery() <= 5 ? "meets" : "misses");
    }
    if (best != null) {
      out.printf(
          Locale.ROOT,
          "  node CPU per delivery at the highest unsaturated step: %.2f us (%d subscribers, %.0f delivered/s)%n",
          best.nodeUsPerDelivery(),
          best.subscribers(),
          best.delivered());
      out.printf(
          Locale.ROOT,
          "  >= 200,000 deliveries/s: best unsaturated step delivered %.0f/s -> %s%n",
          best.delivered(),
          best.delivered() >= 200_000 ? "meets" : "misses");
    }
    if (idleKbPerConnection != null) {
      out.printf(
          Locale.ROOT,
          "  <= 16 KB per idle connection (RSS delta): %.1f KB -> %s%n",
          idleKbPerConnection,
          idleKbPerConnection <= 16 ? "meets" : "misses");
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** One measured step. */
  record StepResult(
      int subscribers,
      double rate,
      double offered,
      double delivered,
      double p50Ms,
      double p99Ms,
      double maxMs,
      long samples,
      double nodeUsPerDelivery,
      double genUsPerDelivery,
      double nodeCores,
      double genCores,
      double otherCores,
      double ackP99Ms,
      long undelivered,
      long gaps,
      long duplicates,
      long errors,
      long connectionsLost,
      long blocked,
      String note) {

    static final String HEADER =
        String.format(
                Locale.ROOT,
                "%6s %6s %10s %11s %8s %8s %8s %8s %8s %6s %6s %6s %8s %6s  %s",
                "subs",
                "pub/s",
                "offered/s",
                "delivered/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "node us",
                "gen us",
                "node",
                "gen",
                "other",
                "ack p99",
                "lost",
                "note")
            + "\n"
            + String.format(
                Locale.ROOT,
                "%6s %6s %10s %11s %8s %8s %8s %8s %8s %6s %6s %6s %8s %6s",
                "",
                "",
                "dlv/s",
                "dlv/s",
                "",
                "",
                "",
                "/dlv",
                "/dlv",
                "cores",
                "cores",
                "cores",
                "ms",
                "");

    StepResult withNote(String n) {
      return new StepResult(
          subscribers,
          rate,
          offered,
          delivered,
          p50Ms,
          p99Ms,
          maxMs,
          samples,
          nodeUsPerDelivery,
          genUsPerDelivery,
          nodeCores,
          genCores,
          otherCores,
          ackP99Ms,
          undelivered,
          gaps,
          duplicates,
          errors,
          connectionsLost,
          blocked,
          n);
    }

    String row() {
      String extra =
          (gaps > 0 ? " gaps=" + gaps : "") + (duplicates > 0 ? " duplicates=" + duplicates : "");
      return String.format(
          Locale.ROOT,
          "%6d %6s %10.0f %11.0f %8.2f %8.2f %8.1f %8.2f %8.2f %6.2f %6.2f %6.2f %8.2f %6d  %s%s",
          subscribers,
          rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate),
          offered,
          delivered,
          p50Ms,
          p99Ms,
          maxMs,
          nodeUsPerDelivery,
          genUsPerDelivery,
          nodeCores,
          genCores,
          otherCores,
          ackP99Ms,
          undelivered,
          note,
          extra);
    }
  }

  /** Command-line options. */
  static final class Options {
    static final String USAGE =
        """
        DeliveryBenchmark: deliveries/s, publish->delivery latency, node CPU per delivery and memory
        per idle connection of one Switchboard node started as a separate JVM on loopback ports.

        options (defaults in brackets):
          --subscribers LIST        subscriber counts, one scenario each [1000,5000]
          --rates N=R1,R2,...       publish rates (publications/s) for N subscribers; repeatable
                                    [1000=10,50,100,200,300,400,500,600,800,1000
                                     5000=2,10,20,40,60,80,100,120,160,200;
                                     other N: 10k,50k,100k,150k,200k,300k,400k,600k,800k deliveries/s]
          --duration S              measured seconds per step [10]
          --warmup S                warm-up seconds per step before measuring [3]
          --idle K                  idle connections for the memory figure, 0 to skip [5000]
          --journal PLUGIN          journal plugin id of the node
                                    [pekko.persistence.journal.inmem]; with the Redis journal:
                                    switchboard.persistence.journal
          --snapshot-plugin ID      snapshot store plugin id [the node's default]
          --payload BYTES           publication payload size, at least 24 [64]
          --client nio|jdk|pekko    WebSocket client of the load generator [nio]
          --io-threads N            event loop / executor threads of the client [1]
          --max-p99-ms MS           p99 above which a step counts as saturated [1000]
          --keep-going              do not stop a scenario at its first saturated step
          --node-classpath CP       classpath of the node [this JVM's minus test-classes]
          --node-opt OPT            JVM option or -Dkey=value for the node; repeatable
          --node-start-timeout S    seconds to wait for the node's /ready [120]
          --jfr FILE                record a JFR profile of the node (after warm-up) to FILE
          --work-dir DIR            node log, logback config, snapshots [target/bench]
        The node inherits this process's environment (e.g. SWITCHBOARD_REDIS_URL).
        """;

    boolean help;
    List<Integer> subscribers = List.of(1000, 5000);
    Map<Integer, List<Double>> rates = new LinkedHashMap<>();
    int durationSeconds = 10;
    int warmupSeconds = 3;
    int idle = 5000;
    String journal = "pekko.persistence.journal.inmem";
    String snapshotPlugin = "";
    int payloadBytes = 64;
    String client = "nio";
    int ioThreads = 1;
    double maxP99Ms = 1000;
    boolean keepGoing;
    String nodeClasspath = defaultNodeClasspath();
    List<String> nodeJvmOptions = new ArrayList<>();
    int nodeStartTimeoutSeconds = 120;
    Path jfr;
    Path workDir = Path.of("target", "bench");

    Options() {
      rates.put(1000, doubles("10,50,100,200,300,400,500,600,800,1000"));
      rates.put(5000, doubles("2,10,20,40,60,80,100,120,160,200"));
    }

    List<Double> rates(int n) {
      List<Double> r = rates.get(n);
      if (r != null) {
        return r;
      }
      return Arrays.stream(
              new double[] {10e3, 50e3, 100e3, 150e3, 200e3, 300e3, 400e3, 600e3, 800e3})
          .map(d -> Math.max(1, Math.round(d / n)))
          .distinct()
          .boxed()
          .collect(Collectors.toList());
    }

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = null;
        int eq = a.indexOf('=');
        if (a.startsWith("--") && eq > 0) {
          v = a.substring(eq + 1);
          a = a.substring(0, eq);
        }
        switch (a) {
          case "-h", "--help" -> o.help = true;
          case "--keep-going" -> o.keepGoing = true;
          default -> {
            if (v == null) {
              if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + a);
              }
              v = args[++i];
            }
            o.set(a, v);
          }
        }
      }
      if (o.payloadBytes < BenchSocket.HEADER_BYTES) {
        throw new IllegalArgumentException(
            "--payload must be at least " + BenchSocket.HEADER_BYTES);
      }
      return o;
    }

    private void set(String option, String v) {
      switch (option) {
        case "--subscribers" ->
            subscribers =
                Arrays.stream(v.split(",")).map(String::trim).map(Integer::parseInt).toList();
        case "--rates" -> {
          int eq = v.indexOf('=');
          if (eq < 0) {
            throw new IllegalArgumentException("--rates wants N=R1,R2,...");
          }
          rates.put(Integer.parseInt(v.substring(0, eq).trim()), doubles(v.substring(eq + 1)));
        }
        case "--duration" -> durationSeconds = Integer.parseInt(v);
        case "--warmup" -> warmupSeconds = Integer.parseInt(v);
        case "--idle" -> idle = Integer.parseInt(v);
        case "--journal" -> journal = v;
        case "--snapshot-plugin" -> snapshotPlugin = v;
        case "--payload" -> payloadBytes = Integer.parseInt(v);
        case "--client" -> client = v;
        case "--io-threads" -> ioThreads = Integer.parseInt(v);
        case "--max-p99-ms" -> maxP99Ms = Double.parseDouble(v);
        case "--node-classpath" -> nodeClasspath = v;
        case "--node-opt" -> nodeJvmOptions.add(v);
        case "--node-start-timeout" -> nodeStartTimeoutSeconds = Integer.parseInt(v);
        case "--jfr" -> jfr = Path.of(v);
        case "--work-dir" -> workDir = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }

    private static List<Double> doubles(String csv) {
      return Arrays.stream(csv.split(",")).map(String::trim).map(Double::parseDouble).toList();
    }

    private static String defaultNodeClasspath() {
      return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
          .filter(e -> !e.endsWith("test-classes") && !e.endsWith("test-classes/"))
          .collect(Collectors.joining(File.pathSeparator));
    }
  }
}
