package io.switchboard.persistence.embedded;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that gives a test class a Redis server of its own: an {@link EmbeddedRedis}
 * on a free loopback port (never 6379) with its data in a fresh temporary directory, started before
 * the class's tests and stopped and deleted after them. Register it in a static field:
 *
 * <pre>{@code
 * @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();
 * }</pre>
 *
 * The port and URL are fixed at construction, so an actor system can be configured with {@link
 * #pluginConfig()} before the server starts. Tests may {@link EmbeddedRedis#stop() stop}, {@link
 * EmbeddedRedis#kill() kill} and {@link EmbeddedRedis#start() start} it through {@link #server()}.
 *
 * <p>The system property {@code switchboard.test.redis-server} picks the binary: a path, or {@code
 * bundled} for the Redis 6.2 shipped in embedded-redis; by default {@code redis-server} from the
 * PATH, else the bundled one.
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback {

  private final EmbeddedRedis server;
  private final Path dataDirectory;
  private final boolean cluster;

  private RedisServerExtension(EmbeddedRedis.AppendFsync appendFsync, boolean cluster) {
    this.cluster = cluster;
    try {
      this.dataDirectory = Files.createTempDirectory("switchboard-redis-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EmbeddedRedis.Builder builder =
        EmbeddedRedis.builder().dataDirectory(dataDirectory).appendFsync(appendFsync);
    String binary = System.getProperty("switchboard.test.redis-server", "");
    if (binary.equals("bundled")) builder.bundledExecutable();
    else if (!binary.isEmpty()) builder.executable(Path.of(binary));
    if (cluster) {
      builder
          .setting("cluster-enabled", "yes")
          .setting("cluster-config-file", "nodes.conf")
          .setting("cluster-announce-ip", "127.0.0.1");
    }
    this.server = builder.build();
  }

  /** A server with {@code appendfsync always}: a kill loses nothing acknowledged. */
  public static RedisServerExtension create() {
    return new RedisServerExtension(EmbeddedRedis.AppendFsync.ALWAYS, false);
  }

  /** A server with the given fsync policy. */
  public static RedisServerExtension create(EmbeddedRedis.AppendFsync appendFsync) {
    return new RedisServerExtension(appendFsync, false);
  }

  /**
   * A one-node Redis Cluster holding all 16384 hash slots, so that code meant for Cluster (keys of
   * a script in one slot, MOVED handling by the client) runs against the real protocol. Its {@link
   * #pluginConfig()} reaches it through a Redisson cluster configuration.
   */
  public static RedisServerExtension cluster() {
    return new RedisServerExtension(EmbeddedRedis.AppendFsync.ALWAYS, true);
  }

  /** The server, to stop, kill or restart it. */
  public EmbeddedRedis server() {
    return server;
  }

  /** The server's URL, e.g. {@code redis://127.0.0.1:41234}. */
  public String url() {
    return server.url();
  }

  /**
   * Configuration that makes the Redis journal and snapshot store the default plugins, pointed at
   * this server, with timeouts short enough for fault tests (operation timeout 2 s).
   */
  public Config pluginConfig() {
    Config config = singleServerConfig();
    if (!cluster) return config;
    String yaml =
        """
        clusterServersConfig:
          nodeAddresses: ["%s"]
          timeout: 1000
          retryAttempts: 3
          scanInterval: 1000
        """
            .formatted(url());
    return ConfigFactory.parseString("switchboard.redis.config = \"\"\"" + yaml + "\"\"\"")
        .withFallback(config);
  }

  private Config singleServerConfig() {
    return ConfigFactory.parseString(
        """
        pekko.loglevel = INFO
        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        pekko.persistence.journal.plugin = "switchboard.persistence.journal"
        pekko.persistence.snapshot-store.plugin = "switchboard.persistence.snapshot-store"
        switchboard.redis {
          url = "%s"
          key-prefix = "test"
          connect-timeout = 500ms
          response-timeout = 1s
          retry-attempts = 3
          retry-interval = 200ms
          reconnect-max-delay = 300ms
          operation-timeout = 2s
          connection-minimum-idle-size = 1
        }
        """
            .formatted(url()));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server.start();
    if (cluster) assignAllSlots();
  }

  private void assignAllSlots() {
    RedisCli cli = new RedisCli(server.port());
    String[] command = new String[2 + 16384];
    command[0] = "CLUSTER";
    command[1] = "ADDSLOTS";
    for (int slot = 0; slot < 16384; slot++) command[2 + slot] = Integer.toString(slot);
    cli.call(command);
    // A fresh master reports cluster_state:ok only after a short delay of its own; there is no
    // event to wait on, so poll.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!((String) cli.call("CLUSTER", "INFO")).contains("cluster_state:ok")) {
      if (System.nanoTime() > deadline)
        throw new IllegalStateException("Cluster not ok: " + cli.call("CLUSTER", "INFO"));
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    server.stop();
    try (Stream<Path> files = Files.walk(dataDirectory)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }
}
