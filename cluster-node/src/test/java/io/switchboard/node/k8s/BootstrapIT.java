package io.switchboard.node.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.node.TestNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Nodes started the way the StatefulSet starts them — no seed nodes, cluster bootstrap through
 * Pekko Discovery, a required number of contact points, management bound apart from the advertised
 * host — form one cluster. Discovery is adapted from the Kubernetes API to a static list of the
 * nodes' management endpoints on loopback, which is what the API would return for the pods.
 */
@ExtendWith(LogCapturingExtension.class)
class BootstrapIT {

  @Test
  void nodesStartedInParallelFormOneClusterThroughBootstrap() throws IOException {
    int[] management = {TestNode.freePort(), TestNode.freePort()};
    String endpoints =
        "[{host = \"127.0.0.1\", port = %d}, {host = \"127.0.0.1\", port = %d}]"
            .formatted(management[0], management[1]);
    List<CompletableFuture<TestNode>> starting =
        List.of(start(management[0], endpoints), start(management[1], endpoints));
    List<TestNode> nodes = starting.stream().map(CompletableFuture::join).toList();
    try {
      for (TestNode n : nodes) {
        TestProbe.<Void>create(n.system())
            .awaitAssert(
                Duration.ofSeconds(30),
                () -> {
                  var members = Cluster.get(n.system()).state().getMembers();
                  int up = 0;
                  for (var m : members) {
                    if (m.status() == MemberStatus.up()) {
                      up++;
                    }
                  }
                  assertEquals(2, up, "both nodes are Up in one cluster");
                  return null;
                });
      }
    } finally {
      nodes.forEach(TestNode::close);
    }
  }

  private static CompletableFuture<TestNode> start(int managementPort, String endpoints) {
    String config =
        """
        switchboard.management.port = %d
        switchboard.management.interface = "0.0.0.0"
        switchboard.discovery.method = "config"
        switchboard.discovery.service-name = "switchboard"
        switchboard.discovery.required-contact-points = 2
        pekko.discovery.config.services.switchboard.endpoints = %s
        # On Kubernetes every pod uses the same management port; here each node has its own.
        pekko.management.cluster.bootstrap.contact-point.filter-on-fallback-port = false
        pekko.management.cluster.bootstrap.contact-point-discovery.stable-margin = 1s
        """
            .formatted(managementPort, endpoints);
    return CompletableFuture.supplyAsync(() -> TestNode.start(config));
  }
}
