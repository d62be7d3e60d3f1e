package io.switchboard.persistence.embedded;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

/**
 * A Redis server process on 127.0.0.1, for running without an external Redis. It persists with an
 * append-only file ({@code appendonly yes}, no RDB snapshots) in its data directory, so a {@link
 * #stop()} and {@link #start()} — or a {@link #kill()} with {@link AppendFsync#ALWAYS} — keeps
 * every acknowledged write. The binary is {@code redis-server} from the PATH if there is one, else
 * the Redis 6.2 binary bundled in {@code com.github.codemonstur:embedded-redis}. It binds to the
 * loopback address only and uses a free port unless given one, and never port 6379 unless asked for
 * it. The process is stopped cleanly when the JVM exits; a server this JVM could not stop (it was
 * killed) is shut down and replaced by the next start on the same port and data directory.
 * Thread-safe; the lifecycle methods block until the server is up or gone.
 */
public final class EmbeddedRedis implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedRedis.class);
  private static final String HOST = "127.0.0.1";
  private static final int DEFAULT_REDIS_PORT = 6379;
  private static Path bundledExecutable;

  /** How often Redis forces the append-only file to disk. */
  public enum AppendFsync {
    /** Before every acknowledgement: a crash loses nothing acknowledged. Slowest. */
    ALWAYS,
    /** Once a second: a crash of the machine may lose up to a second of writes. */
    EVERYSEC,
    /** When the operating system decides. */
    NO
  }

  private final int port;
  private final Path dataDirectory;
  private final AppendFsync appendFsync;
  private final Path executable;
  private final Duration startupTimeout;
  private final List<String> extraSettings;
  private Process process;
  private Thread shutdownHook;

  private EmbeddedRedis(Builder builder) {
    this.port = builder.port != 0 ? builder.port : freePort();
    this.dataDirectory = builder.dataDirectory != null ? builder.dataDirectory : tempDirectory();
    this.appendFsync = builder.appendFsync;
    this.executable = builder.executable != null ? builder.executable : findExecutable();
    this.startupTimeout = builder.startupTimeout;
    this.extraSettings = List.copyOf(builder.extraSettings);
  }

  /**
   * A builder with a free port, a fresh temporary data directory and {@code appendfsync always}.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The URL to give Redisson, e.g. {@code redis://127.0.0.1:41234}. Known before start. */
  public String url() {
    return "redis://" + HOST + ":" + port;
  }

  /** The TCP port, fixed for the life of this object (restarts reuse it). */
  public int port() {
    return port;
  }

  /** Where the append-only file and the server log live. */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /** The {@code redis-server} binary this instance runs. */
  public Path executable() {
    return executable;
  }

  /** True while the server process is alive. */
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Starts the server and waits until it answers PING (after loading its append-only file). Does
   * nothing if it is running.
   *
   * @throws IllegalStateException if the server exits or does not answer within the startup
   *     timeout; the message holds the end of its log
   */
  public synchronized EmbeddedRedis start() {
    if (isRunning()) return this;
    try {
      Files.createDirectories(dataDirectory);
      replaceServerLeftRunning();
      ProcessBuilder pb =
          new ProcessBuilder(command())
              .directory(dataDirectory.toFile())
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(
                      dataDirectory.resolve("redis-stdout.log").toFile()));
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start " + executable, e);
    }
    awaitReady();
    Process started = process;
    shutdownHook = new Thread(() -> terminate(started), "embedded-redis-shutdown-" + port);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    log.info(
        "Embedded Redis started on {} (data in {}, appendfsync {}, binary {})",
        url(),
        dataDirectory,
        appendFsync.name().toLowerCase(Locale.ROOT),
        executable);
    return this;
  }

  /**
   * Stops the server cleanly with SHUTDOWN, which flushes the append-only file, and waits for it to
   * exit. Does nothing if it is not running.
   */
  public synchronized void stop() {
    if (!isRunning()) return;
    Optional<String> refusal = shutdown();
    refusal.ifPresent(
        reply ->
            log.warn("Embedded Redis on {} refused SHUTDOWN ({}), terminating it", url(), reply));
    if (refusal.isPresent() || !waitForExit(process, Duration.ofSeconds(10))) terminate(process);
    forget();
    log.info("Embedded Redis on {} stopped", url());
  }

  /**
   * Kills the server with SIGKILL, as a crash would: nothing is flushed. For fault tests. Does
   * nothing if it is not running.
   */
  public synchronized void kill() {
    if (process == null) return;
    process.destroyForcibly();
    waitForExit(process, Duration.ofSeconds(10));
    forget();
    log.info("Embedded Redis on {} killed", url());
  }

  /**
   * Freezes the server with SIGSTOP: connections stay open but nothing is answered, as with a hung
   * or overloaded Redis. For fault tests; {@link #resume()} undoes it. POSIX systems only.
   */
  public synchronized void suspend() {
    signal("STOP");
  }

  /** Lets a {@link #suspend() suspended} server run again with SIGCONT. */
  public synchronized void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    if (!isRunning())
      throw new IllegalStateException("Embedded Redis on " + url() + " is not running");
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException(
            "kill -" + name + " of embedded Redis on " + url() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot signal embedded Redis on " + url(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while signalling embedded Redis", e);
    }
  }

  /** Stops the server if it runs, then starts it again on the same port and data directory. */
  public synchronized EmbeddedRedis restart() {
    stop();
    return start();
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "EmbeddedRedis[" + url() + ", " + dataDirectory + "]";
  }

  private List<String> command() {
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    addOption(command, "port", Integer.toString(port));
    addOption(command, "bind", HOST);
    addOption(command, "protected-mode", "yes");
    addOption(command, "daemonize", "no");
    addOption(command, "dir", dataDirectory.toAbsolutePath().toString());
    addOption(command, "appendonly", "yes");
    addOption(command, "appendfsync", appendFsync.name().toLowerCase(Locale.ROOT));
    addOption(command, "save", "");
    addOption(command, "logfile", "redis.log");
    addOption(command, "loglevel", "notice");
    command.addAll(extraSettings);
    return command;
  }

  private static void addOption(List<String> command, String name, String value) {
    command.add("--" + name);
    command.add(value);
  }

  private void awaitReady() {
    try {
      ProcessReadiness.await(
          "Embedded Redis on " + url(),
          process,
          startupTimeout,
          Duration.ofMillis(20),
          () -> {
            Optional<String> reply = ping();
            if (reply.filter("+PONG"::equals).isEmpty()) {
              return ProcessReadiness.Check.notYet("last answer: " + reply.orElse("no answer"));
            }
            // the port may belong to another server: only ours, by process id, counts as ready
            return answersAs(process.pid())
                ? ProcessReadiness.Check.ok()
                : ProcessReadiness.Check.notYet("PONG from another process");
          });
    } catch (ProcessReadiness.NotReady e) {
      terminate(process);
      forget();
      throw new IllegalStateException(e.getMessage() + ": " + logTail(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      terminate(process);
      forget();
      throw new IllegalStateException("Interrupted while starting embedded Redis", e);
    }
  }

  /**
   * A server already on this port with this data directory was started by an earlier process whose
   * JVM died without its shutdown hook (SIGKILL, a crash): the server outlives it, and ours would
   * fail to bind. It holds this instance's data, so it is shut down (SHUTDOWN keeps the append-only
   * file) and ours starts in its place. A server of another directory is left alone (ours then
   * fails to start, saying why).
   */
  private void replaceServerLeftRunning() throws IOException {
    Optional<String> dir = configDir();
    if (dir.isEmpty() || !dir.get().equals(dataDirectory.toRealPath().toString())) return;
    Optional<ProcessHandle> server = serverPid().flatMap(ProcessHandle::of);
    log.warn(
        "Embedded Redis on {}: a server of this data directory is still running (pid {}), left by"
            + " an earlier process; shutting it down (its append-only file is kept) and starting"
            + " anew",
        url(),
        server.map(h -> Long.toString(h.pid())).orElse("unknown"));
    Optional<String> refusal = shutdown();
    if (refusal.isPresent()) {
      throw new IllegalStateException(
          "Embedded Redis on " + url() + ": the server left running refused " + refusal.get());
    }
    if (server.isPresent()) {
      try {
        server.get().onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(
            "Embedded Redis on " + url() + ": the server left running did not exit", e);
      }
    }
  }

  /**
   * Sends SHUTDOWN (Redis flushes its append-only file and exits) to the server on this port;
   * returns its reply if it refused.
   */
  private Optional<String> shutdown() {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write("SHUTDOWN\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Redis closes the connection as it exits; a reply only comes when shutdown failed.
      return Optional.ofNullable(
          new BufferedReader(new InputStreamReader(socket.getInputStream())).readLine());
    } catch (IOException e) {
      log.debug("SHUTDOWN of the Redis on {} ended with {}", url(), e.toString());
      return Optional.empty();
    }
  }

  /** The data directory of the server answering on this port, if one does. */
  private Optional<String> configDir() {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("CONFIG GET dir\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      // *2, $3, dir, $<length>, <directory>
      if (!"*2".equals(in.readLine())) return Optional.empty();
      in.readLine();
      in.readLine();
      in.readLine();
      return Optional.ofNullable(in.readLine());
    } catch (IOException nothingThere) {
      return Optional.empty();
    }
  }

  private Optional<String> ping() {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      return Optional.ofNullable(
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
              .readLine());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private boolean answersAs(long pid) {
    return serverPid().filter(p -> p == pid).isPresent();
  }

  /** The process id of the server answering on this port, if one does. */
  private Optional<Long> serverPid() {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("INFO server\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      String header = in.readLine();
      if (header == null || !header.startsWith("$")) return Optional.empty();
      for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
        if (line.startsWith("process_id:")) {
          return Optional.of(Long.parseLong(line.substring("process_id:".length()).trim()));
        }
      }
      return Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(HOST, port), 1000);
    socket.setSoTimeout(5000);
    return socket;
  }

  private String logTail() {
    try {
      Path logFile = dataDirectory.resolve("redis.log");
      Path stdout = dataDirectory.resolve("redis-stdout.log");
      List<String> lines = new ArrayList<>();
      if (Files.exists(stdout)) lines.addAll(Files.readAllLines(stdout));
      if (Files.exists(logFile)) lines.addAll(Files.readAllLines(logFile));
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private void forget() {
    process = null;
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down and runs the hook itself
      }
      shutdownHook = null;
    }
  }

  /** SIGTERM (Redis then flushes its append-only file and exits), SIGKILL if it lingers. */
  private static void terminate(Process p) {
    if (p == null || !p.isAlive()) return;
    p.destroy();
    if (!waitForExit(p, Duration.ofSeconds(5))) {
      p.destroyForcibly();
      waitForExit(p, Duration.ofSeconds(5));
    }
  }

  private static boolean waitForExit(Process p, Duration timeout) {
    try {
      return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    }
  }

  private static int freePort() {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
        int candidate = socket.getLocalPort();
        if (candidate != DEFAULT_REDIS_PORT) return candidate;
      } catch (IOException e) {
        throw new UncheckedIOException("No free loopback port", e);
      }
    }
    throw new IllegalStateException("No free loopback port other than " + DEFAULT_REDIS_PORT);
  }

  private static Path tempDirectory() {
    try {
      return Files.createTempDirectory("switchboard-redis-");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a data directory for embedded Redis", e);
    }
  }

  /** {@code redis-server} from the PATH, else the binary bundled in embedded-redis. */
  static Path findExecutable() {
    return onPath("redis-server").orElseGet(EmbeddedRedis::bundled);
  }

  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) return Optional.empty();
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) continue;
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The Redis 6.2 binary shipped in the embedded-redis jar, extracted once per JVM. */
  static synchronized Path bundled() {
    if (bundledExecutable == null) {
      try {
        Path dir = Files.createTempDirectory("switchboard-redis-bin-");
        dir.toFile().deleteOnExit();
        File binary = ExecutableProvider.newJarResourceProvider(dir.toFile()).get();
        binary.deleteOnExit();
        bundledExecutable = binary.toPath();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot extract the bundled redis-server binary", e);
      }
    }
    return bundledExecutable;
  }

  /** Configures an {@link EmbeddedRedis}; every setting has a default. */
  public static final class Builder {
    private int port;
    private Path dataDirectory;
    private AppendFsync appendFsync = AppendFsync.ALWAYS;
    private Path executable;
    private Duration startupTimeout = Duration.ofSeconds(10);
    private final List<String> extraSettings = new ArrayList<>();

    private Builder() {}

    /**
     * Any other server setting, as in redis.conf, e.g. {@code setting("maxmemory", "64mb")}. The
     * port, bind address, directory and persistence settings are this builder's own.
     */
    public Builder setting(String name, String value) {
      if (List.of("port", "bind", "dir", "daemonize").contains(name)) {
        throw new IllegalArgumentException(
            "Set " + name + " through the builder, not as a setting");
      }
      extraSettings.add("--" + name);
      extraSettings.add(value);
      return this;
    }

    /** A fixed port; 0 (the default) picks a free one, never 6379. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) throw new IllegalArgumentException("Invalid port " + port);
      this.port = port;
      return this;
    }

    /** Where the append-only file lives; default a fresh temporary directory. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = dataDirectory;
      return this;
    }

    /** How often the append-only file is forced to disk; default {@link AppendFsync#ALWAYS}. */
    public Builder appendFsync(AppendFsync appendFsync) {
      this.appendFsync = appendFsync;
      return this;
    }

    /**
     * A specific {@code redis-server} binary; default the one on the PATH, else the bundled one.
     */
    public Builder executable(Path executable) {
      this.executable = executable;
      return this;
    }

    /** Use the Redis 6.2 binary bundled in embedded-redis even if the PATH has one. */
    public Builder bundledExecutable() {
      this.executable = bundled();
      return this;
    }

    /** How long {@link #start()} waits for the server to answer; default 10 seconds. */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = startupTimeout;
      return this;
    }

    /** The server, not started yet: its port and URL are already fixed. */
    public EmbeddedRedis build() {
      return new EmbeddedRedis(this);
    }
  }
}
