package io.switchboard.node.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 *       sessions that answer pings, and the node's heap after a full GC before and after — with W
 *       idle connections already open before the first reading, so that what opening connections
 *       costs once (the JIT's code for that path) is not counted per connection;
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
  private static final int CONCURRENT_OPENS = 64;
  private static final int OPEN_ATTEMPTS = 3;
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final Options options;
  private final PrintStream out;
  private final Stats stats = new Stats();
  private final Jwt jwt = new Jwt();
  private long userCount;

  /** JIT compiler threads below this many cores count as done compiling. */
  private static final double JIT_QUIET_CORES = 0.02;

  private final List<StepResult> results = new ArrayList<>();
  private final List<StepResult> baselineResults = new ArrayList<>();
  private boolean onBaseline;
  private final List<String> memoryReport = new ArrayList<>();
  private ScheduledExecutorService scheduler;
  private WsConnection.Client client;
  private NodeProcess node;
  private ProcessHandle redis;
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
                  nodeOptions(),
                  work),
              Duration.ofSeconds(options.nodeStartTimeoutSeconds));
      redis = node.embeddedRedis().orElse(null);
      out.println("node: pid " + node.pid() + ", log " + node.log());
      out.println(
          "journal: "
              + options.journalDescription()
              + (redis != null
                  ? "; embedded Redis pid " + redis.pid() + " (its CPU and RSS are reported apart)"
                  : ""));
      out.println("node command: " + node.command());
      out.println();
      warmUp();
      if (options.idle > 0) {
        idleMemory(options.idle);
      }
      out.println();
      out.println(StepResult.HEADER);
      for (int n : options.subscribers) {
        scenario(n);
      }
      if (options.baseline) {
        baseline(work.resolve("baseline"));
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

  /**
   * The same scenarios against {@link BareBroadcastServer} (no journal, no actors, no cursors) on
   * the same ports, generator and JVM options, after the node stopped: the floor of this machine.
   */
  private void baseline(Path work) throws Exception {
    node.close();
    redis = null;
    onBaseline = true;
    node =
        NodeProcess.start(
            new NodeProcess.Spec(
                System.getProperty("java.class.path"),
                "",
                "",
                nodeOptions(),
                work,
                BareBroadcastServer.class.getName()),
            Duration.ofSeconds(options.nodeStartTimeoutSeconds));
    out.println();
    out.println(
        "baseline: bare Netty WebSocket broadcast (no journal, no actors, no cursors, no heartbeat),"
            + " pid "
            + node.pid()
            + ", same generator and JVM options");
    warmUp();
    out.println(StepResult.HEADER);
    for (int n : options.subscribers) {
      scenario(n);
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
            + options.journalDescription()
            + (options.snapshotPlugin.isEmpty() ? "" : ", snapshots " + options.snapshotPlugin)
            + ", payload "
            + options.payloadBytes
            + " B, steps of "
            + options.warmupSeconds
            + " s warm-up + "
            + options.durationSeconds
            + " s measured, idle connections "
            + options.idle
            + " (after "
            + options.idleWarm
            + " already open)"
            + ", acks every "
            + options.ackEvery
            + " deliveries or "
            + options.ackIntervalMs
            + " ms");
  }

  private WsConnection.Client createClient() throws IOException {
    return switch (options.client) {
      case "nio" -> new NioWebSockets(options.ioThreads);
      case "jdk" -> new JdkWebSockets(options.ioThreads);
      case "pekko" -> new PekkoWebSockets();
      default -> throw new IllegalArgumentException("unknown client " + options.client);
    };
  }

  /**
   * The node's options: the benchmark's token secret (every socket is its own user), per-user frame
   * rate limits out of the way like the per-connection ones (the publisher is one user sending up
   * to thousands of frames per second; subscribers send about one ack per second), the JVM options
   * the README's run command gives the node ({@code .mvn/jvm.config}), then the user's.
   */
  private List<String> nodeOptions() {
    List<String> all = new ArrayList<>();
    Path jvmConfig = Path.of(".mvn", "jvm.config");
    if (Files.isRegularFile(jvmConfig)) {
      try {
        for (String option : Files.readString(jvmConfig).trim().split("\\s+")) {
          if (!option.isEmpty()) {
            all.add(option);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    all.add("-Dswitchboard.auth.hmac-secret=" + jwt.nodeSetting());
    all.add("-Dswitchboard.limits.per-user.frames-per-second=1000000");
    all.addAll(options.nodeJvmOptions);
    return all;
  }

  // ---- phases

  /** JIT-warms node and generator on a small group, then ends those sessions. */
  private void warmUp() throws Exception {
    int n = Math.min(500, options.subscribers.stream().mapToInt(i -> i).max().orElse(500));
    double rate = 20;
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
        Locale.ROOT,
        "idle connections: %d (connected sessions, not joined, answering pings), after %d opened"
            + " first%n",
        k,
        options.idleWarm);
    // Open before the first reading and through the measurement: the node has compiled the path
    // that opens connections, as a node in service has.
    List<BenchSocket> warm =
        options.idleWarm > 0
            ? openSockets(options.idleWarm, BenchSocket.Role.IDLE, null)
            : List.of();
    // Both RSS readings are of a settled node (no forced GC before either): the JVM returns heap it
    // no longer needs once it had a quiet while (see .mvn/jvm.config), as a node in service does.
    Pause.millis(options.settleSeconds * 1000L);
    long rss0 = stableRss(Duration.ofSeconds(10));
    boolean nmt =
        options.nodeJvmOptions.stream().anyMatch(o -> o.startsWith("-XX:NativeMemoryTracking="));
    if (nmt) {
      node.jcmd("VM.native_memory", "baseline");
    }
    NodeProcess.Histogram live0 = node.classHistogram();
    long heap0 = live0.liveBytes();
    Map<String, long[]> histogram0 = live0.byClass();
    long redisRss0 = redisRss();
    int threads0 = node.threads();
    double baseCores = nodeCores(Duration.ofSeconds(10));
    Path jfr = null;
    if (options.jfr != null) {
      jfr = options.jfr.toAbsolutePath().resolve("node-idle-" + k + ".jfr");
      node.jcmd("JFR.start", "name=idle", "settings=" + jfrSettings(), "filename=" + jfr);
    }
    long t0 = System.nanoTime();
    List<BenchSocket> idle = openSockets(k, BenchSocket.Role.IDLE, null);
    double openSeconds = (System.nanoTime() - t0) / 1e9;
    if (jfr != null) {
      node.jcmd("JFR.stop", "name=idle");
      out.println("JFR of opening the idle connections: " + jfr);
    }
    Pause.millis(2000);
    long rssStorm = stableRss(Duration.ofSeconds(30));
    Pause.millis(options.settleSeconds * 1000L);
    long rss1 = stableRss(Duration.ofSeconds(30));
    if (nmt) {
      // What the JVM itself committed more, by area (with -XX:NativeMemoryTracking=summary).
      for (String line : node.jcmd("VM.native_memory", "summary.diff").split("\n")) {
        if (line.contains("committed=") && line.contains("+") && line.trim().startsWith("-")) {
          memoryReport.add("  NMT " + line.trim());
        }
      }
    }
    long redisRss1 = redisRss();
    // A full heartbeat cycle (10 s by default) once the connection storm has settled.
    double idleCores = nodeCores(Duration.ofSeconds(10));
    int threads1 = node.threads();
    NodeProcess.Histogram live1 = node.classHistogram();
    long heap1 = live1.liveBytes();
    Map<String, long[]> histogram1 = live1.byClass();
    long rssAfterGc = node.rssBytes();
    double rssKb = (rss1 - rss0) / 1024.0 / k;
    double heapKb = heap0 > 0 && heap1 > 0 ? (heap1 - heap0) / 1024.0 / k : Double.NaN;
    idleKbPerConnection = rssKb;
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "idle connections: %d opened in %.1f s (after %d opened first); node threads %d -> %d",
            k,
            openSeconds,
            options.idleWarm,
            threads0,
            threads1));
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "node CPU while they sit idle (pings, timers): %.3f cores (%.3f without them): %.1f us"
                + " per connection per second",
            idleCores,
            baseCores,
            (idleCores - baseCores) * 1e6 / k));
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "node RSS: %.1f MB before, %.1f MB right after opening them, %.1f MB settled (%d s"
                + " later; %.1f MB after a full GC): %.1f KB per idle connection (%.1f KB right"
                + " after opening)",
            rss0 / 1048576.0,
            rssStorm / 1048576.0,
            rss1 / 1048576.0,
            options.settleSeconds,
            rssAfterGc / 1048576.0,
            rssKb,
            (rssStorm - rss0) / 1024.0 / k));
    memoryReport.add(
        String.format(
            Locale.ROOT,
            "node heap in use after a full GC: %.1f MB before, %.1f MB with them: %.1f KB per idle connection",
            heap0 / 1048576.0,
            heap1 / 1048576.0,
            heapKb));
    if (redis != null) {
      memoryReport.add(
          String.format(
              Locale.ROOT,
              "embedded Redis RSS (journaled session state): %.1f MB before, %.1f MB with them: %.1f KB per idle connection",
              redisRss0 / 1048576.0,
              redisRss1 / 1048576.0,
              (redisRss1 - redisRss0) / 1024.0 / k));
    }
    memoryReport.add("largest heap growth by class, per idle connection (bytes, instances):");
    histogram1.entrySet().stream()
        .map(
            e -> {
              long[] before = histogram0.getOrDefault(e.getKey(), new long[2]);
              return Map.entry(
                  e.getKey(),
                  new long[] {e.getValue()[0] - before[0], e.getValue()[1] - before[1]});
            })
        .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
        .limit(options.histogramLines)
        .forEach(
            e ->
                memoryReport.add(
                    String.format(
                        Locale.ROOT,
                        "  %9.0f B %7.1f  %s",
                        (double) e.getValue()[1] / k,
                        (double) e.getValue()[0] / k,
                        e.getKey())));
    memoryReport.forEach(out::println);
    closeAll(idle, null);
    closeAll(warm, null);
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
        for (int retry = 0;
            retry < options.noisyRetries && r.otherCores() > options.noisyCores;
            retry++) {
          out.println(
              r.row().replaceFirst("\\s*$", "")
                  + String.format(
                      Locale.ROOT,
                      "  <- discarded: other processes used %.2f cores; repeating",
                      r.otherCores()));
          r = step(n, rate, subs, publisher);
        }
        (onBaseline ? baselineResults : results).add(r);
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
    awaitQuietMachine();
    long delivered0 = stats.delivered.sum();
    long refused0 = stats.refused.sum();
    node.newWarnings();
    publisher.start(rate, step);
    Pause.millis(options.warmupSeconds * 1000L);
    awaitJitQuiet();

    Path jfr = null;
    if (options.jfr != null) {
      jfr = options.jfr.toAbsolutePath().resolve("node-" + n + "-" + (long) rate + ".jfr");
      node.jcmd("JFR.start", "name=bench", "settings=" + jfrSettings(), "filename=" + jfr);
    }
    double node0 = node.cpuSeconds();
    double jit0 = Proc.jitCpuSeconds(node.pid());
    double redis0 = redisCpu();
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
    double jit1 = Proc.jitCpuSeconds(node.pid());
    double redis1 = redisCpu();
    double gen1 = Proc.selfCpuSeconds();
    double[] box1 = Proc.machineCpuSeconds();
    publisher.stop();
    if (jfr != null) {
      node.jcmd("JFR.stop", "name=bench");
      out.println("   JFR of the measured window: " + jfr);
    }

    // A publication the node refused (Error, e.g. UNAVAILABLE after its ask timed out) may or may
    // not have been journaled: it is not expected, and if it arrives it is counted anyway.
    long refused = stats.refused.sum() - refused0;
    long expected = Math.max(0, publisher.sent() - refused) * live;
    long got = drain(delivered0, expected, Duration.ofSeconds(15));
    double seconds = (t1 - t0) / 1e9;
    long deliveredInWindow = windowDelivered1 - windowDelivered0;
    double nodeCpu = node1 - node0;
    double redisCpu = redis1 - redis0;
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
            redisCpu / seconds,
            boxWall > 0 ? (boxCpu / boxWall) - (nodeCpu + genCpu + redisCpu) / seconds : Double.NaN,
            acks.percentile(99) / 1e6,
            Math.max(0, expected - got),
            stats.gaps.sum() - gaps0,
            stats.duplicates.sum() - dups0,
            stats.errors.sum() - errors0,
            stats.lost.sum() - lost0,
            publisher.blocked(),
            "");
    String verdict = verdict(r);
    String warnings = node.newWarnings();
    double jitCores = (jit1 - jit0) / seconds;
    if (jitCores >= JIT_QUIET_CORES) {
      // Still compiling in the measured window: part of the node's CPU was the JIT's.
      warnings =
          String.format(Locale.ROOT, "JIT %.2f cores", jitCores)
              + (warnings.isEmpty() ? "" : "; " + warnings);
    }
    return r.withNote(
        warnings.isEmpty() ? verdict : verdict + (verdict.isEmpty() ? "" : "; ") + warnings);
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
      why.add(r.undelivered() + " deliveries missing 15 s after publishing stopped");
    }
    if (r.errors() > 0) {
      why.add(r.errors() + " errors: " + stats.lastProblem.get());
    }
    return why.isEmpty() ? "" : "SATURATED: " + String.join("; ", why).replace('\n', ' ');
  }

  // ---- helpers

  /**
   * Opens {@code n} sockets, {@value #CONCURRENT_OPENS} at a time, each its own user; a socket the
   * node refused or closed before it was ready (e.g. CONNECT_TIMEOUT on a busy machine) is opened
   * again, at most {@value #OPEN_ATTEMPTS} times.
   */
  private List<BenchSocket> openSockets(int n, BenchSocket.Role role, String group)
      throws Exception {
    Semaphore permits = new Semaphore(CONCURRENT_OPENS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(60, n / 20));
    URI uri = node.wsUri();
    BenchSocket[] sockets = new BenchSocket[n];
    String[] users = new String[n];
    int[] attempts = new int[n];
    java.util.concurrent.LinkedBlockingQueue<Integer> failed =
        new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.concurrent.atomic.AtomicInteger ready =
        new java.util.concurrent.atomic.AtomicInteger();
    int retried = 0;
    java.util.function.IntConsumer open =
        i -> {
          attempts[i]++;
          BenchSocket s =
              new BenchSocket(
                  role, group, jwt.token(users[i]), stats, options.ackEvery, options.ackIntervalMs);
          sockets[i] = s;
          s.ready()
              .whenComplete(
                  (x, e) -> {
                    permits.release();
                    if (e == null) {
                      ready.incrementAndGet();
                    } else {
                      s.abort();
                      failed.add(i);
                    }
                  });
          client.open(uri, s);
        };
    for (int i = 0; i < n; i++) {
      users[i] = "bench-" + role.name().toLowerCase(Locale.ROOT) + "-" + (++userCount);
      acquire(permits, deadline, () -> ready.get() + " of " + n + " " + role + " sockets ready");
      open.accept(i);
    }
    while (ready.get() < n) {
      long left = deadline - System.nanoTime();
      Integer again =
          left > 0 ? failed.poll(Math.min(left, 100_000_000L), TimeUnit.NANOSECONDS) : null;
      if (again != null) {
        if (attempts[again] >= OPEN_ATTEMPTS) {
          abortAll(sockets);
          throw new IllegalStateException(
              "a "
                  + role
                  + " socket failed "
                  + OPEN_ATTEMPTS
                  + " times: "
                  + stats.lastProblem.get());
        }
        retried++;
        acquire(permits, deadline, () -> ready.get() + " of " + n + " " + role + " sockets ready");
        open.accept(again);
      } else if (System.nanoTime() > deadline) {
        abortAll(sockets);
        throw new TimeoutException(
            ready.get()
                + " of "
                + n
                + " "
                + role
                + " sockets ready in time; last problem: "
                + stats.lastProblem.get());
      }
    }
    if (retried > 0) {
      out.printf(
          Locale.ROOT,
          "   (%d %s sockets were opened again after: %s)%n",
          retried,
          role,
          stats.lastProblem.get());
    }
    return new ArrayList<>(Arrays.asList(sockets));
  }

  private static void acquire(
      Semaphore permits, long deadline, java.util.function.Supplier<String> progress)
      throws InterruptedException, TimeoutException {
    if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
      throw new TimeoutException("only " + progress.get() + " in time");
    }
  }

  private static void abortAll(BenchSocket[] sockets) {
    for (BenchSocket s : sockets) {
      if (s != null) {
        s.abort();
      }
    }
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

  /** JFR's profile settings with Java method sampling every 1 ms instead of 10 ms. */
  private String jfrSettings() {
    Path settings = options.jfr.toAbsolutePath().resolve("profile-1ms.jfc");
    try {
      if (!java.nio.file.Files.exists(settings)) {
        String profile =
            java.nio.file.Files.readString(
                Path.of(System.getProperty("java.home"), "lib", "jfr", "profile.jfc"));
        java.nio.file.Files.writeString(
            settings,
            profile.replace(
                "control=\"method-sampling-java-interval\">10 ms<",
                "control=\"method-sampling-java-interval\">1 ms<"));
      }
      return settings.toString();
    } catch (IOException e) {
      return "profile";
    }
  }

  /** The node's CPU use over {@code window}, in cores. */
  private double nodeCores(Duration window) {
    double cpu0 = node.cpuSeconds();
    long t0 = System.nanoTime();
    Pause.millis(window.toMillis());
    return (node.cpuSeconds() - cpu0) / ((System.nanoTime() - t0) / 1e9);
  }

  private double redisCpu() {
    return redis == null ? 0 : Proc.cpuSeconds(redis.pid());
  }

  private long redisRss() {
    return redis == null ? 0 : Proc.rssBytes(redis.pid());
  }

  /**
   * With {@code --quiet-wait}, waits (at most that long) until everything on the machine but the
   * node, its Redis and this generator used less than {@code --quiet-cores} over two seconds: other
   * people's builds and tests share the cores and would skew the step.
   */
  private void awaitQuietMachine() {
    if (options.quietWaitSeconds <= 0) {
      return;
    }
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(options.quietWaitSeconds);
    double others = Double.NaN;
    while (System.nanoTime() < deadline) {
      double[] box0 = Proc.machineCpuSeconds();
      double mine0 = node.cpuSeconds() + redisCpu() + Proc.selfCpuSeconds();
      Pause.millis(2000);
      double[] box1 = Proc.machineCpuSeconds();
      double mine1 = node.cpuSeconds() + redisCpu() + Proc.selfCpuSeconds();
      double wall = (box1[1] - box0[1]) / Runtime.getRuntime().availableProcessors();
      others = ((box1[0] - box0[0]) - (mine1 - mine0)) / wall;
      if (others < options.quietCores) {
        break;
      }
    }
    double waited = (System.nanoTime() - start) / 1e9;
    if (waited > 2.5) {
      out.printf(
          Locale.ROOT,
          "   (waited %.0f s for other processes to use less than %.2f cores: %.2f)%n",
          waited,
          options.quietCores,
          others);
    }
  }

  /**
   * Extends a step's warm-up (at most {@code --jit-wait} seconds) until the node's JIT compiler
   * threads used less than {@value #JIT_QUIET_CORES} cores in two 3-second windows in a row: a JVM
   * compiles its hot code for a minute or more under a new load, and that one-time cost is not the
   * per-delivery cost of a node in service. A step measured before the JIT went quiet says so in
   * its note.
   */
  private void awaitJitQuiet() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.jitWaitSeconds);
    int quietWindows = 0;
    while (quietWindows < 2 && System.nanoTime() < deadline) {
      double before = Proc.jitCpuSeconds(node.pid());
      Pause.millis(3000);
      boolean quiet = (Proc.jitCpuSeconds(node.pid()) - before) / 3 < JIT_QUIET_CORES;
      quietWindows = quiet ? quietWindows + 1 : 0;
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
    if (!baselineResults.isEmpty()) {
      out.println("baseline (bare Netty broadcast, same run):");
      out.println(StepResult.HEADER);
      baselineResults.forEach(r -> out.println(r.row()));
      out.println("node against the baseline, step by step:");
      for (StepResult r : results) {
        baselineResults.stream()
            .filter(b -> b.subscribers() == r.subscribers() && b.rate() == r.rate())
            .findFirst()
            .ifPresent(
                b ->
                    out.printf(
                        Locale.ROOT,
                        "  %5d subscribers, %7.0f offered/s: node %6.2f us/delivery, p99 %8.2f ms;"
                            + " baseline %6.2f us/delivery, p99 %8.2f ms (node/baseline CPU %.2f)%n",
                        r.subscribers(),
                        r.offered(),
                        r.nodeUsPerDelivery(),
                        r.p99Ms(),
                        b.nodeUsPerDelivery(),
                        b.p99Ms(),
                        r.nodeUsPerDelivery() / b.nodeUsPerDelivery()));
      }
    }
    out.println();
    out.println("targets (every publication journaled by " + options.journalDescription() + "):");
    StepResult best =
        results.stream()
            .filter(r -> !r.note().startsWith("SATURATED"))
            .max((x, y) -> Double.compare(x.delivered(), y.delivered()))
            .orElse(null);
    StepResult at50k =
        results.stream()
            .filter(r -> r.subscribers() == 5000 && Math.abs(r.rate() * 5000 - 50_000) <= 5_000)
            .findFirst()
            .orElse(null);
    StepResult last5000 =
        results.stream().filter(r -> r.subscribers() == 5000).reduce((a, b) -> b).orElse(null);
    if (at50k != null) {
      out.printf(
          Locale.ROOT,
          "  p99 < 20 ms at 50,000 deliveries/s with 5,000 subscribers: p99 %.2f ms (%.0f of %.0f"
              + " offered/s delivered) -> %s%n",
          at50k.p99Ms(),
          at50k.delivered(),
          at50k.offered(),
          at50k.p99Ms() < 20 && !at50k.note().startsWith("SATURATED") ? "meets" : "misses");
      out.printf(
          Locale.ROOT,
          "  <= 5 us node CPU per delivery: %.2f us at that step -> %s%n",
          at50k.nodeUsPerDelivery(),
          at50k.nodeUsPerDelivery() <= 5 ? "meets" : "misses");
    } else if (last5000 != null) {
      out.printf(
          Locale.ROOT,
          "  p99 < 20 ms at 50,000 deliveries/s with 5,000 subscribers: not reached, the scenario"
              + " saturated at %.0f offered/s (p99 %.2f ms) -> misses%n",
          last5000.offered(),
          last5000.p99Ms());
    }
    if (best != null) {
      out.printf(
          Locale.ROOT,
          "  node CPU per delivery at the highest unsaturated step: %.2f us (%d subscribers, %.0f"
              + " delivered/s) -> %s%n",
          best.nodeUsPerDelivery(),
          best.subscribers(),
          best.delivered(),
          best.nodeUsPerDelivery() <= 5 ? "meets" : "misses");
      out.printf(
          Locale.ROOT,
          "  >= 200,000 deliveries/s: best unsaturated step delivered %.0f/s -> %s%n",
          best.delivered(),
          best.delivered() >= 200_000 ? "meets" : "misses");
    } else if (!results.isEmpty()) {
      out.println("  every step saturated: no unsaturated throughput to report -> misses");
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
      double redisCores,
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
                "%6s %6s %10s %11s %8s %8s %8s %8s %8s %6s %6s %6s %6s %8s %6s",
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
          redisCores,
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
          "%6d %6s %10.0f %11.0f %8.2f %8.2f %8.1f %8.2f %8.2f %6.2f %6.2f %6.2f %6.2f %8.2f %6d  %s%s",
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
          redisCores,
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
                                    [1000=10,20,30,50,75,100,150,200,300,400,600,800,1000
                                     5000=2,4,6,10,15,20,30,40,60,80,120,160,200;
                                     other N: 10k,50k,100k,150k,200k,300k,400k,600k,800k deliveries/s]
          --duration S              measured seconds per step [10]
          --warmup S                warm-up seconds per step before measuring [3]
          --jit-wait S              then up to S more seconds until the node's JIT compiler
                                    threads are quiet (< 0.02 cores); 0 to skip [90]
          --idle K                  idle connections for the memory figure, 0 to skip [5000]
          --idle-warm W             idle connections opened before the first reading and kept
                                    open, so that the JIT's one-off code for opening
                                    connections is not counted per connection; 0: none [1000]
          --settle S                seconds the node sits quiet before each idle RSS reading
                                    (before and with the connections) [45]
          --histogram-lines L       classes listed with their heap growth per idle connection [15]
          --journal PLUGIN          journal plugin id of the node [the node's default, today the
                                    Redis journal switchboard.persistence.journal: the node uses
                                    SWITCHBOARD_REDIS_URL or starts an embedded Redis on a free
                                    port]; pekko.persistence.journal.inmem for memory only
          --snapshot-plugin ID      snapshot store plugin id [the node's default; with the
                                    in-memory journal pekko.persistence.snapshot-store.local]
          --payload BYTES           publication payload size, at least 24 [64]
          --ack-every M             a subscriber acks after M deliveries ... [100]
          --ack-interval-ms T       ... or T ms after its last ack, whichever comes first [1000]
          --client nio|jdk|pekko    WebSocket client of the load generator [nio]
          --io-threads N            event loop / executor threads of the client [1]
          --max-p99-ms MS           p99 above which a step counts as saturated [1000]
          --quiet-wait S            before each step, wait up to S seconds until other processes
                                    use less than --quiet-cores (shared machines) [0: no wait]
          --quiet-cores C           see --quiet-wait [0.2]
          --noisy-retries R         repeat a step (at most R times) when other processes used more
                                    than --noisy-cores during its window [0]
          --noisy-cores C           see --noisy-retries [0.3]
          --keep-going              do not stop a scenario at its first saturated step
          --baseline                then run the same scenarios against a bare Netty broadcast
                                    server (BareBroadcastServer: no journal, no actors): the
                                    floor of this machine, measured in the same run
          --node-classpath CP       classpath of the node [this JVM's minus test-classes]
          --node-opt OPT            JVM option or -Dkey=value for the node; repeatable
          --node-start-timeout S    seconds to wait for the node's /ready [120]
          --jfr DIR                 record a JFR profile of the node during each measured window
                                    into DIR/node-<subscribers>-<rate>.jfr
          --work-dir DIR            node log, logback config, snapshots [target/bench]
        The node inherits this process's environment (e.g. SWITCHBOARD_REDIS_URL).
        """;

    boolean help;
    List<Integer> subscribers = List.of(1000, 5000);
    Map<Integer, List<Double>> rates = new LinkedHashMap<>();
    int durationSeconds = 10;
    int warmupSeconds = 3;
    int settleSeconds = 45;
    int jitWaitSeconds = 90;
    boolean baseline;
    int idle = 5000;
    int idleWarm = 1000;
    String journal = "";
    String snapshotPlugin = "";
    int payloadBytes = 64;
    String client = "nio";
    int ioThreads = 1;
    int histogramLines = 15;
    int quietWaitSeconds;
    double quietCores = 0.2;
    int noisyRetries;
    double noisyCores = 0.3;
    int ackEvery = 100;
    long ackIntervalMs = 1000;
    double maxP99Ms = 1000;
    boolean keepGoing;
    String nodeClasspath = defaultNodeClasspath();
    List<String> nodeJvmOptions = new ArrayList<>();
    int nodeStartTimeoutSeconds = 120;
    Path jfr;
    Path workDir = Path.of("target", "bench");

    Options() {
      rates.put(1000, doubles("10,20,30,50,75,100,150,200,300,400,600,800,1000"));
      rates.put(5000, doubles("2,4,6,10,15,20,30,40,60,80,120,160,200"));
    }

    /** The journal the node uses, and whether that is its default. */
    String journalDescription() {
      if (!journal.isEmpty()) {
        return journal;
      }
      String def;
      try {
        def =
            com.typesafe.config.ConfigFactory.defaultReference()
                .getString("switchboard.persistence.journal-plugin");
      } catch (RuntimeException e) {
        def = "?";
      }
      return def + " (the node's default)";
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
          case "--baseline" -> o.baseline = true;
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
      if (o.journal.equals("pekko.persistence.journal.inmem") && o.snapshotPlugin.isEmpty()) {
        // An in-memory run needs no Redis at all.
        o.snapshotPlugin = "pekko.persistence.snapshot-store.local";
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
        case "--idle-warm" -> idleWarm = Integer.parseInt(v);
        case "--settle" -> settleSeconds = Integer.parseInt(v);
        case "--jit-wait" -> jitWaitSeconds = Integer.parseInt(v);
        case "--journal" -> journal = v;
        case "--snapshot-plugin" -> snapshotPlugin = v;
        case "--payload" -> payloadBytes = Integer.parseInt(v);
        case "--client" -> client = v;
        case "--io-threads" -> ioThreads = Integer.parseInt(v);
        case "--histogram-lines" -> histogramLines = Integer.parseInt(v);
        case "--ack-every" -> ackEvery = Integer.parseInt(v);
        case "--quiet-wait" -> quietWaitSeconds = Integer.parseInt(v);
        case "--quiet-cores" -> quietCores = Double.parseDouble(v);
        case "--noisy-retries" -> noisyRetries = Integer.parseInt(v);
        case "--noisy-cores" -> noisyCores = Double.parseDouble(v);
        case "--ack-interval-ms" -> ackIntervalMs = Long.parseLong(v);
        case "--max-p99-ms" -> maxP99Ms = Double.parseDouble(v);
        case "--node-classpath" -> nodeClasspath = v;
        case "--node-opt" -> nodeJvmOptions.add(v);
        case "--node-start-timeout" -> nodeStartTimeoutSeconds = Integer.parseInt(v);
        case "--jfr" -> {
          jfr = Path.of(v);
          try {
            java.nio.file.Files.createDirectories(jfr);
          } catch (IOException e) {
            throw new IllegalArgumentException("cannot create " + jfr + ": " + e);
          }
        }
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
