package io.switchboard.loadtest;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The system under test, started on loopback as separate processes: a Redis ({@code redis-server}
 * from the PATH on a free port, else the first node's embedded Redis), {@code loadtest.nodes}
 * Switchboard nodes ({@code java -cp <node classpath> io.switchboard.node.Main}, configured through
 * their documented environment variables, the first one the seed), optionally the example worker;
 * or, with {@code loadtest.target=baseline}, the bare broadcast server. Everything is stopped by
 * {@link #close()} or, if the JVM ends first, by a shutdown hook. Logs go to {@code
 * loadtest.workDir}.
 */
final class LocalTarget implements AutoCloseable {
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

  /** One started node. */
  record Node(Process process, int httpPort, int remotePort, int managementPort, Path log) {}

  final boolean baseline;
  final String apiKey = "loadtest-" + UUID.randomUUID();
  final Tokens tokens = new Tokens();
  final Path workDir;
  private final String classpath;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Process> others = new ArrayList<>();
  private final Set<Integer> ports = new HashSet<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread hook = new Thread(this::stopAll, "loadtest-target-stopper");
  private String redisUrl = "";
  private int baselinePort;

  private LocalTarget(boolean baseline, Path workDir, String classpath) {
    this.baseline = baseline;
    this.workDir = workDir;
    this.classpath = classpath;
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts what the parameters ask for and waits until it serves. */
  static LocalTarget start(int nodeCount, boolean worker) {
    String target = Params.string("target", "switchboard");
    Path workDir =
        Path.of(Params.string("workDir", "target/loadtest-work"))
            .resolve(target + "-" + System.currentTimeMillis())
            .toAbsolutePath();
    LocalTarget started = new LocalTarget(target.equals("baseline"), workDir, classpath());
    try {
      Files.createDirectories(workDir);
      if (started.baseline) {
        started.startBaseline();
      } else {
        started.startRedis();
        for (int i = 0; i < nodeCount; i++) {
          started.startNode(i);
        }
        if (worker) {
          started.startWorker();
        }
      }
      return started;
    } catch (IOException | RuntimeException e) {
      started.close();
      throw new IllegalStateException("could not start the system under test: " + e, e);
    }
  }

  /** The launcher module's classes and runtime classpath (node, worker, baseline). */
  private static String classpath() {
    String file = Params.string("launcherClasspath", "launcher/target/launcher-classpath.txt");
    String classes = Params.string("launcherClasses", "launcher/target/classes");
    try {
      return new File(classes).getAbsolutePath()
          + File.pathSeparator
          + Files.readString(Path.of(file)).trim();
    } catch (IOException e) {
      throw new IllegalStateException(
          "no node classpath at "
              + file
              + " (build the launcher module first: mvn -pl loadtest/launcher -am package)",
          e);
    }
  }

  int nodeCount() {
    return baseline ? 1 : nodes.size();
  }

  String httpUrl(int node) {
    int port = baseline ? baselinePort : nodes.get(node % nodes.size()).httpPort();
    return "http://127.0.0.1:" + port;
  }

  String wsUrl(int node) {
    return httpUrl(node).replace("http://", "ws://");
  }

  /** The WebSocket path with a token for {@code user} (the baseline ignores it). */
  String wsPath(String user) {
    return "/ws?token=" + tokens.token(user);
  }

  long pid(int node) {
    return nodes.get(node).process().pid();
  }

  boolean isAlive(int node) {
    return nodes.get(node).process().isAlive();
  }

  /** SIGKILL: the node vanishes without leaving the cluster. */
  void kill(int node) {
    nodes.get(node).process().destroyForcibly();
  }

  /** Runs a full GC in the process under test and returns its heap in use after it (bytes). */
  long heapUsedAfterGc(int node) {
    long pid = baseline ? others.get(0).pid() : pid(node);
    jcmd(pid, "GC.run");
    Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  /** Resident set size of the process under test (bytes), from /proc; -1 elsewhere. */
  long rssBytes(int node) {
    long pid = baseline ? others.get(0).pid() : pid(node);
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** A gauge or counter of the node's Prometheus metrics; -1 when unknown. */
  double metric(int node, String name) {
    try {
      String text = get("http://127.0.0.1:" + nodes.get(node).managementPort() + "/metrics").body();
      for (String line : text.split("\n")) {
        if (line.startsWith(name + " ")) {
          return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not available
    }
    return -1;
  }

  /** A backend API call (HTTP/JSON) to the first live node; the response body. */
  String api(String call, String json) throws IOException {
    for (int i = 0; i < nodes.size(); i++) {
      if (!isAlive(i)) {
        continue;
      }
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(httpUrl(i) + "/api/" + call))
              .header("authorization", "Bearer " + apiKey)
              .header("content-type", "application/json")
              .timeout(Duration.ofSeconds(10))
              .POST(HttpRequest.BodyPublishers.ofString(json))
              .build();
      return send(request).body();
    }
    throw new IOException("no live node");
  }

  private void startRedis() throws IOException {
    String server = Params.string("redisServer", onPath("redis-server"));
    if (server.isEmpty()) {
      return; // the first node starts its embedded Redis
    }
    int port = freePort();
    Path dir = Files.createDirectories(workDir.resolve("redis"));
    Process redis =
        new ProcessBuilder(
                server,
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                Params.string("redisAppendfsync", "always"))
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("redis.log").toFile())
            .start();
    others.add(redis);
    redisUrl = "redis://127.0.0.1:" + port;
    await("Redis at " + redisUrl, Duration.ofSeconds(20), redis, () -> redisPing(port));
  }

  private void startNode(int index) throws IOException {
    int httpPort = freePort();
    int remotePort = freePort();
    int managementPort = freePort();
    Path dir = Files.createDirectories(workDir.resolve("node" + index));
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin("java"));
    for (String option : Params.string("nodeJvm", "-Xms512m -Xmx1g -XX:+UseG1GC").split("\\s+")) {
      cmd.add(option);
    }
    cmd.add("-Dlogback.configurationFile=" + logback(dir));
    cmd.add("-Dswitchboard.redis.embedded.port=" + freePort());
    cmd.add("-Dswitchboard.redis.embedded.data-dir=" + dir.resolve("redis"));
    cmd.add("-Dpekko.persistence.snapshot-store.local.dir=" + dir.resolve("snapshots"));
    for (String option : Params.string("nodeOpts", "").split("\\s+")) {
      if (!option.isEmpty()) {
        cmd.add(option);
      }
    }
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add("io.switchboard.node.Main");
    ProcessBuilder builder =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("node.log").toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
    env.put("SWITCHBOARD_HOST", "127.0.0.1");
    env.put("SWITCHBOARD_HTTP_INTERFACE", "127.0.0.1");
    env.put("SWITCHBOARD_MANAGEMENT_INTERFACE", "127.0.0.1");
    env.put("SWITCHBOARD_HTTP_PORT", Integer.toString(httpPort));
    env.put("SWITCHBOARD_REMOTE_PORT", Integer.toString(remotePort));
    env.put("SWITCHBOARD_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("SWITCHBOARD_GRPC_PORT", "0");
    env.put("SWITCHBOARD_PORT_OFFSET", "0");
    env.put(
        "SWITCHBOARD_SEED_NODES",
        "127.0.0.1:" + (nodes.isEmpty() ? remotePort : nodes.get(0).remotePort()));
    env.put("SWITCHBOARD_API_KEY", apiKey);
    env.put("SWITCHBOARD_AUTH_HMAC_SECRET", tokens.nodeSecret());
    if (!redisUrl.isEmpty()) {
      env.put("SWITCHBOARD_REDIS_URL", redisUrl);
    }
    Process process = builder.start();
    Node node = new Node(process, httpPort, remotePort, managementPort, dir.resolve("node.log"));
    nodes.add(node);
    await(
        "node " + index + " /ready (log " + node.log() + ")",
        Duration.ofSeconds(Params.integer("nodeStartSeconds", 120)),
        process,
        () -> status("http://127.0.0.1:" + managementPort + "/ready") == 200);
    if (redisUrl.isEmpty()) {
      String log = Files.readString(node.log());
      Matcher m = Pattern.compile("redis://127\\.0\\.0\\.1:\\d+").matcher(log);
      if (m.find()) {
        redisUrl = m.group(); // the first node's embedded Redis serves the others
      }
    }
  }

  private void startWorker() throws IOException {
    Node first = nodes.get(0);
    Process worker =
        new ProcessBuilder(
                javaBin("java"),
                "-Xmx256m",
                "-cp",
                classpath,
                "io.switchboard.examples.worker.VotesWorker",
                "--host",
                "127.0.0.1",
                "--port",
                Integer.toString(first.httpPort()),
                "--key",
                apiKey)
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("worker.log").toFile())
            .start();
    others.add(worker);
    await(
        "the example worker's routes",
        Duration.ofSeconds(60),
        worker,
        () -> {
          try {
            return api("Info", "{}").contains("/echo/");
          } catch (IOException e) {
            return false;
          }
        });
  }

  private void startBaseline() throws IOException {
    baselinePort = freePort();
    Process server =
        new ProcessBuilder(
                javaBin("java"),
                "-Xms512m",
                "-Xmx1g",
                "-cp",
                classpath,
                "io.switchboard.loadtest.baseline.BroadcastServer",
                Integer.toString(baselinePort))
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("baseline.log").toFile())
            .start();
    others.add(server);
    await(
        "the baseline server",
        Duration.ofSeconds(60),
        server,
        () -> status("http://127.0.0.1:" + baselinePort + "/") == 200);
  }

  private Path logback(Path dir) throws IOException {
    Path file = dir.resolve("logback.xml");
    Files.writeString(
        file,
        """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%date{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder>
          </appender>
          <logger name="io.switchboard" level="INFO"/>
          <root level="WARN"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
    return file;
  }

  /**
   * Blocks on one future completed by whichever comes first: {@code ready} passing (checked on a
   * timer: a starting process has nothing to signal with), the process exiting, or the timeout.
   * (The node's tests use persistence's ProcessReadiness for the same; this module keeps nothing of
   * the node on its classpath.)
   */
  private void await(String what, Duration timeout, Process process, Supplier<Boolean> ready)
      throws IOException {
    CompletableFuture<Void> done = new CompletableFuture<>();
    process
        .onExit()
        .thenAccept(
            p ->
                done.completeExceptionally(
                    new IOException(what + ": the process exited with " + p.exitValue())));
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    timer.scheduleWithFixedDelay(
        () -> {
          if (ready.get()) {
            done.complete(null);
          }
        },
        0,
        250,
        TimeUnit.MILLISECONDS);
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IOException(what + ": not ready within " + timeout, e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(what, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } finally {
      timer.shutdownNow();
    }
  }

  private int status(String url) {
    try {
      return get(url).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  private HttpResponse<String> get(String url) throws IOException {
    return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build());
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static boolean redisPing(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      socket.setSoTimeout(1000);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] answer = new byte[7];
      int n = in.read(answer);
      return n > 0 && new String(answer, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  private static String onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File file = new File(dir, program);
      if (file.canExecute()) {
        return file.getAbsolutePath();
      }
    }
    return "";
  }

  private static String javaBin(String tool) {
    return Path.of(System.getProperty("java.home"), "bin", tool).toString();
  }

  private static String jcmd(long pid, String command) {
    try {
      Process p = new ProcessBuilder(javaBin("jcmd"), Long.toString(pid), command).start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = in.readAllBytes();
      }
      p.waitFor(60, TimeUnit.SECONDS);
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private int freePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (ports.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      }
    }
    throw new IOException("no free port");
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs anyway
    }
  }

  /**
   * SIGTERM to the nodes (graceful leave) and their children, then to the rest; SIGKILL after 20 s.
   */
  private synchronized void stopAll() {
    List<ProcessHandle> first = new ArrayList<>();
    for (Node node : nodes) {
      first.add(node.process().toHandle());
      first.addAll(node.process().descendants().toList());
    }
    List<ProcessHandle> then = new ArrayList<>();
    for (Process other : others) {
      then.add(other.toHandle());
      then.addAll(other.descendants().toList());
    }
    stop(first);
    stop(then);
    nodes.clear();
    others.clear();
  }

  private static void stop(List<ProcessHandle> processes) {
    processes.forEach(ProcessHandle::destroy);
    for (ProcessHandle process : processes) {
      try {
        process.onExit().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        process.destroyForcibly();
      }
    }
  }
}
