package io.switchboard.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.NodeSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.persistence.embedded.EmbeddedRedis;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a Switchboard node: reads {@code switchboard { }} settings (with SWITCHBOARD_* environment
 * overrides), starts an embedded Redis when the Redis journal is used and no Redis is configured,
 * derives Pekko's ports, host and seed nodes, and starts the actor system.
 */
public final class Main {
  static {
    // Scala's CompletionStage wrappers (what Pekko's Java API returns for asks and futures) run
    // every callback asynchronously on the default executor, and with a common pool of parallelism
    // 1 (any machine with 2 cores) CompletableFuture's default executor starts a new thread per
    // callback: thousands of threads a second under load. Before anything touches that class:
    String parallelism = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(parallelism) == null) {
      System.setProperty(
          parallelism, Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
  }

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  /** Runs a node until it is stopped (SIGTERM leaves the cluster gracefully). */
  public static void main(String[] args) {
    Config config = ConfigFactory.load();
    ActorSystem<Void> system = start(config);
    // One per process (tests start several nodes in one JVM, without it).
    HeapTrim.start(config.getDuration("switchboard.node.heap-trim-interval"));
    system.getWhenTerminated().toCompletableFuture().join();
    System.exit(0);
  }

  /**
   * Starts a node with the given configuration (tests start several in one JVM). An embedded Redis
   * started here is stopped once the actor system has terminated.
   */
  public static ActorSystem<Void> start(Config config) {
    PersistenceSettings persistence = PersistenceSettings.create(config);
    Map<String, Object> overrides = new HashMap<>();
    EmbeddedRedis redis = null;
    if (persistence.needsEmbeddedRedis()) {
      redis =
          EmbeddedRedis.builder()
              .port(persistence.embeddedRedisPort())
              .dataDirectory(persistence.embeddedRedisDir().toAbsolutePath())
              .appendFsync(
                  EmbeddedRedis.AppendFsync.valueOf(
                      persistence.embeddedRedisAppendFsync().toUpperCase(Locale.ROOT)))
              .build()
              .start();
      log.info(
          "Started embedded Redis at {} (append-only file in {}); other nodes on this machine: "
              + "SWITCHBOARD_REDIS_URL={}",
          redis.url(),
          redis.dataDirectory(),
          redis.url());
      overrides.put("switchboard.redis.url", redis.url());
    }
    Config full = withDerivedPekkoSettings(ConfigFactory.parseMap(overrides).withFallback(config));
    ActorSystem<Void> system =
        ActorSystem.create(Guardian.create(), NodeSettings.SYSTEM_NAME, full);
    if (redis != null) {
      EmbeddedRedis started = redis;
      system.getWhenTerminated().thenRun(started::stop);
    }
    return system;
  }

  /** Pekko's own keys that follow from Switchboard's settings. */
  static Config withDerivedPekkoSettings(Config config) {
    NodeSettings node = NodeSettings.create(config);
    Config sb = config.getConfig("switchboard");
    Map<String, Object> derived = new HashMap<>();
    derived.put("pekko.remote.artery.canonical.hostname", node.host());
    derived.put("pekko.remote.artery.canonical.port", node.remotePort());
    derived.put("pekko.management.http.hostname", node.host());
    derived.put("pekko.management.http.bind-hostname", node.managementInterface());
    derived.put("pekko.management.http.port", node.managementPort());
    derived.put("pekko.persistence.journal.plugin", sb.getString("persistence.journal-plugin"));
    derived.put(
        "pekko.persistence.snapshot-store.plugin", sb.getString("persistence.snapshot-plugin"));
    if (node.usesBootstrap()) {
      String discovery = "pekko.management.cluster.bootstrap.contact-point-discovery.";
      derived.put("pekko.cluster.seed-nodes", java.util.List.of());
      derived.put(discovery + "service-name", node.serviceName());
      derived.put(discovery + "discovery-method", node.discoveryMethod());
      derived.put(discovery + "required-contact-point-nr", node.requiredContactPoints());
      derived.put(
          "pekko.management.cluster.bootstrap.contact-point.fallback-port", node.managementPort());
    } else {
      derived.put("pekko.cluster.seed-nodes", node.seedAddresses());
    }
    return ConfigFactory.parseMap(derived).withFallback(config).resolve();
  }
}
