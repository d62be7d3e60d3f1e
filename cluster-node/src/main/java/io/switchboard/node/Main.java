package io.switchboard.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.NodeSettings;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Starts a Switchboard node: reads {@code switchboard { }} settings (with SWITCHBOARD_* environment
 * overrides), derives Pekko's ports, host and seed nodes from them, and starts the actor system.
 */
public final class Main {
  private Main() {}

  /** Runs a node until it is stopped (SIGTERM leaves the cluster gracefully). */
  public static void main(String[] args) {
    ActorSystem<Void> system = start(ConfigFactory.load());
    system.getWhenTerminated().toCompletableFuture().join();
    System.exit(0);
  }

  /** Starts a node with the given configuration (tests start several in one JVM). */
  public static ActorSystem<Void> start(Config config) {
    Config full = withDerivedPekkoSettings(config);
    return ActorSystem.create(Guardian.create(), NodeSettings.SYSTEM_NAME, full);
  }

  /** Pekko's own keys that follow from Switchboard's settings. */
  static Config withDerivedPekkoSettings(Config config) {
    NodeSettings node = NodeSettings.create(config);
    Config sb = config.getConfig("switchboard");
    Map<String, Object> derived =
        Map.of(
            "pekko.remote.artery.canonical.hostname", node.host(),
            "pekko.remote.artery.canonical.port", node.remotePort(),
            "pekko.management.http.hostname", node.host(),
            "pekko.management.http.port", node.managementPort(),
            "pekko.cluster.seed-nodes", node.seedAddresses(),
            "pekko.persistence.journal.plugin", sb.getString("persistence.journal-plugin"),
            "pekko.persistence.snapshot-store.plugin", sb.getString("persistence.snapshot-plugin"));
    return ConfigFactory.parseMap(derived).withFallback(config).resolve();
  }
}
