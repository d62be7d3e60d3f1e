package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.util.Arrays;
import java.util.List;

/** Where this node listens and which cluster it joins ({@code switchboard.node}, ports). */
public record NodeSettings(
    String host,
    String httpInterface,
    int httpPort,
    int remotePort,
    int managementPort,
    String managementInterface,
    List<String> seedNodes,
    String discoveryMethod,
    String serviceName,
    int requiredContactPoints) {

  /** The discovery method that uses {@link #seedNodes} instead of cluster bootstrap. */
  public static final String SEED_NODES = "seed-nodes";

  /** Name of the actor system; every node of a cluster uses the same one. */
  public static final String SYSTEM_NAME = "switchboard";

  /** Reads the settings, applying {@code port-offset} to every port. */
  public static NodeSettings create(Config config) {
    Config sb = config.getConfig("switchboard");
    int offset = sb.getInt("node.port-offset");
    List<String> seeds =
        Arrays.stream(sb.getString("node.seed-nodes").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .toList();
    return new NodeSettings(
        sb.getString("node.host"),
        sb.getString("http.interface"),
        sb.getInt("http.port") + offset,
        sb.getInt("remote.port") + offset,
        sb.getInt("management.port") + offset,
        sb.getString("management.interface").isBlank()
            ? sb.getString("node.host")
            : sb.getString("management.interface"),
        seeds,
        sb.getString("discovery.method"),
        sb.getString("discovery.service-name"),
        sb.getInt("discovery.required-contact-points"));
  }

  /** Whether the node finds the cluster through Pekko Management cluster bootstrap. */
  public boolean usesBootstrap() {
    return !SEED_NODES.equals(discoveryMethod);
  }

  /** Seed node addresses in Pekko's form; this node itself when none are configured. */
  public List<String> seedAddresses() {
    List<String> hostPorts = seedNodes.isEmpty() ? List.of(host + ":" + remotePort) : seedNodes;
    return hostPorts.stream().map(hp -> "pekko://" + SYSTEM_NAME + "@" + hp).toList();
  }
}
