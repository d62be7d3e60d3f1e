package io.switchboard.node.bench;

import io.switchboard.persistence.embedded.ProcessReadiness;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Switchboard node in its own JVM ({@code io.switchboard.node.Main}), on free loopback ports,
 * configured through system properties (which win over HOCON and environment). Its CPU time and RSS
 * are read from /proc, its heap through jcmd. Killed on {@link #close()} and by a shutdown hook if
 * this JVM exits first.
 */
final class NodeProcess implements AutoCloseable {

  /**
   * How to start the node: {@code mainClass} is the node's, or a stand-in that serves the same
   * ports (the delivery benchmark's {@link BareBroadcastServer}).
   */
  record Spec(
      String classpath,
      String journalPlugin,
      String snapshotPlugin,
      List<String> jvmOptions,
      Path workDir,
      String mainClass) {

    Spec(
        String classpath,
        String journalPlugin,
        String snapshotPlugin,
        List<String> jvmOptions,
        Path workDir) {
      this(
          classpath,
          journalPlugin,
          snapshotPlugin,
          jvmOptions,
          workDir,
          "io.switchboard.node.Main");
    }
  }

  private static final Pattern HISTOGRAM_TOTAL =
      Pattern.compile("^Total\\s+\\d+\\s+(\\d+)", Pattern.MULTILINE);
  private static final Pattern HISTOGRAM_LINE =
      Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  private final Process process;
  private final int httpPort;
  private final int managementPort;
  private final Path log;
  private final Thread hook;
  private final String command;
  private long logOffset;

  private NodeProcess(Process process, int httpPort, int managementPort, Path log, String command) {
    this.process = process;
    this.httpPort = httpPort;
    this.managementPort = managementPort;
    this.log = log;
    this.command = command;
    this.hook = new Thread(this::kill, "bench-node-killer");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts the node and waits until it is ready (or fails within {@code timeout}). */
  static NodeProcess start(Spec spec, Duration timeout) throws IOException {
    Set<Integer> taken = new HashSet<>();
    int http = freePort(taken);
    int remote = freePort(taken);
    int management = freePort(taken);
    Files.createDirectories(spec.workDir());
    Path logback = spec.workDir().resolve("logback-node.xml");
    Files.writeString(
        logback,
        """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%date{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder>
          </appender>
          <logger name="io.switchboard" level="INFO"/>
          <root level="WARN"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Dlogback.configurationFile=" + logback);
    cmd.add("-Dswitchboard.node.host=127.0.0.1");
    cmd.add("-Dswitchboard.node.port-offset=0");
    cmd.add("-Dswitchboard.node.seed-nodes=");
    cmd.add("-Dswitchboard.http.interface=127.0.0.1");
    cmd.add("-Dswitchboard.http.port=" + http);
    cmd.add("-Dswitchboard.remote.port=" + remote);
    cmd.add("-Dswitchboard.management.port=" + management);
    cmd.add("-Dswitchboard.management.interface=127.0.0.1");
    // gRPC and the HTTP/JSON API on the HTTP port (loopback), whatever SWITCHBOARD_GRPC_PORT says.
    cmd.add("-Dswitchboard.api.grpc-port=0");
    cmd.add("-Dswitchboard.edge.client-publish=any");
    cmd.add("-Dswitchboard.edge.frames-per-second=1000000");
    cmd.add("-Dswitchboard.edge.frame-burst=1000000");
    if (!spec.journalPlugin().isEmpty()) {
      cmd.add("-Dswitchboard.persistence.journal-plugin=" + spec.journalPlugin());
    }
    if (!spec.snapshotPlugin().isEmpty()) {
      cmd.add("-Dswitchboard.persistence.snapshot-plugin=" + spec.snapshotPlugin());
    }
    // Used only when the node starts a Redis of its own (Redis plugins, no SWITCHBOARD_REDIS_URL):
    // a free port and a fresh directory, never another node's Redis on this machine.
    cmd.add("-Dswitchboard.redis.embedded.port=" + freePort(taken));
    cmd.add("-Dswitchboard.redis.embedded.data-dir=" + spec.workDir().resolve("redis"));
    cmd.add("-Dpekko.persistence.snapshot-store.local.dir=" + spec.workDir().resolve("snapshots"));
    // Last: the caller's options win over the settings above (the last -D of a key counts).
    cmd.addAll(spec.jvmOptions());
    cmd.add("-cp");
    cmd.add(spec.classpath());
    cmd.add(spec.mainClass());
    Path log = spec.workDir().resolve("node.log");
    Process process =
        new ProcessBuilder(cmd)
            .directory(spec.workDir().toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    String shown =
        String.join(" ", cmd)
            .replace(spec.classpath(), "<cluster-node classpath>")
            .replaceAll("(hmac-secret=)\\S+", "$1<random per run>");
    NodeProcess node = new NodeProcess(process, http, management, log, shown);
    try {
      node.awaitOk("http://127.0.0.1:" + management + "/ready", timeout);
      node.awaitOk("http://127.0.0.1:" + http + "/", Duration.ofSeconds(30));
    } catch (RuntimeException | IOException e) {
      node.close();
      throw e;
    }
    return node;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  URI wsUri() {
    return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
  }

  int managementPort() {
    return managementPort;
  }

  Path log() {
    return log;
  }

  String command() {
    return command;
  }

  /** CPU seconds (user + system) the node used so far. */
  double cpuSeconds() {
    return Proc.cpuSeconds(process.pid());
  }

  /** Resident set size in bytes. */
  long rssBytes() {
    return Proc.rssBytes(process.pid());
  }

  /** The Redis server the node started as its child process, if any. */
  java.util.Optional<ProcessHandle> embeddedRedis() {
    return process
        .descendants()
        // Debian's redis-server is a link to redis-check-rdb: match "redis" in the executable.
        .filter(p -> p.info().command().map(c -> c.contains("redis")).orElse(false))
        .findFirst();
  }

  /** Threads of the node process. */
  int threads() {
    return Proc.threads(process.pid());
  }

  /**
   * Live objects after a full GC: bytes of them all ({@code liveBytes}, -1 if unknown) and per
   * class name {instances, bytes}. The histogram's total, unlike the heap's "used" read after a GC,
   * counts nothing the node allocated since; and a class histogram collects fully, where GC.run
   * would be a concurrent cycle under the node's -XX:+ExplicitGCInvokesConcurrent
   * (.mvn/jvm.config).
   */
  record Histogram(long liveBytes, java.util.Map<String, long[]> byClass) {}

  /** Runs a full GC in the node and reads its class histogram. */
  Histogram classHistogram() {
    String out = jcmd("GC.class_histogram");
    java.util.Map<String, long[]> byClass = new java.util.HashMap<>();
    Matcher m = HISTOGRAM_LINE.matcher(out);
    while (m.find()) {
      byClass.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
    }
    Matcher total = HISTOGRAM_TOTAL.matcher(out);
    return new Histogram(total.find() ? Long.parseLong(total.group(1)) : -1, byClass);
  }

  /** Runs a jcmd command against the node and returns its output. */
  String jcmd(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
    cmd.add(Long.toString(process.pid()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = in.readAllBytes();
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "jcmd failed: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "jcmd interrupted";
    }
  }

  /**
   * WARN and ERROR lines the node logged since the previous call: how many, and the most frequent
   * message; empty when none.
   */
  synchronized String newWarnings() {
    String text;
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(log.toFile(), "r")) {
      long end = file.length();
      if (end <= logOffset) {
        return "";
      }
      file.seek(logOffset);
      byte[] bytes = new byte[(int) Math.min(end - logOffset, 256L << 20)];
      file.readFully(bytes);
      logOffset += bytes.length;
      text = new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
    java.util.Map<String, Integer> messages = new java.util.HashMap<>();
    int count = 0;
    for (String line : text.split("\n")) {
      if (line.contains(" WARN ") || line.contains(" ERROR ")) {
        count++;
        int dash = line.indexOf(" - ");
        String message = dash < 0 ? line : line.substring(dash + 3);
        messages.merge(
            message.length() > 140 ? message.substring(0, 140) : message, 1, Integer::sum);
      }
    }
    if (count == 0) {
      return "";
    }
    var top = messages.entrySet().stream().max(java.util.Map.Entry.comparingByValue()).get();
    return "node logged "
        + count
        + " WARN/ERROR lines, "
        + top.getValue()
        + "x \""
        + top.getKey()
        + "\"";
  }

  /** The last lines of the node's log (for failures). */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  private void awaitOk(String url, Duration timeout) throws IOException {
    try {
      ProcessReadiness.await(
          "node at " + url, process, timeout, Duration.ofMillis(200), ProcessReadiness.httpOk(url));
    } catch (ProcessReadiness.NotReady e) {
      throw new IOException(e.getMessage() + "; log:\n" + logTail(40), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** Stops the node: SIGTERM (graceful leave), then SIGKILL after 15 s. */
  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
  }

  private void kill() {
    List<ProcessHandle> children = process.descendants().toList();
    try {
      stop();
    } finally {
      // An embedded Redis outlives a node that had to be killed: never leave one behind.
      for (ProcessHandle child : children) {
        if (child.isAlive()) {
          child.destroy();
          try {
            child.onExit().get(5, TimeUnit.SECONDS);
          } catch (Exception e) {
            child.destroyForcibly();
          }
        }
      }
    }
  }

  private void stop() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort(Set<Integer> taken) throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        int port = socket.getLocalPort();
        if (taken.add(port)) {
          return port;
        }
      }
    }
    throw new IOException("no free port");
  }
}
