package io.switchboard.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.node.config.NodeSettings;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * A real node in this JVM for end-to-end tests: free loopback ports, in-memory journal, anonymous
 * auth (overrides may set {@code switchboard.auth.mode = jwt}), the given settings on top of the
 * defaults. Waits until the HTTP endpoint answers.
 */
public final class TestNode implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final int httpPort;
  private final int managementPort;

  private TestNode(ActorSystem<Void> system, int httpPort, int managementPort) {
    this.system = system;
    this.httpPort = httpPort;
    this.managementPort = managementPort;
  }

  /** Starts a single-node cluster with {@code overrides} (HOCON) over the test defaults. */
  public static TestNode start(String overrides) {
    try {
      int http = freePort();
      int management = freePort();
      Path snapshots = Files.createTempDirectory("switchboard-snapshots");
      Config config =
          ConfigFactory.parseString(overrides)
              .withFallback(
                  ConfigFactory.parseString(
                      """
                      switchboard.node.host = "127.0.0.1"
                      switchboard.http.interface = "127.0.0.1"
                      switchboard.http.port = %d
                      switchboard.remote.port = %d
                      switchboard.management.port = %d
                      switchboard.node.seed-nodes = ""
                      # Tests that are not about auth run in the documented opt-in anonymous mode.
                      switchboard.auth.mode = anonymous
                      switchboard.persistence.journal-plugin = "pekko.persistence.journal.inmem"
                      switchboard.persistence.snapshot-plugin = "pekko.persistence.snapshot-store.local"
                      pekko.persistence.snapshot-store.local.dir = "%s"
                      """
                          .formatted(http, freePort(), management, snapshots)))
              .withFallback(ConfigFactory.load());
      // Overrides may choose the ports: wait on the ones in effect.
      NodeSettings effective = NodeSettings.create(config.resolve());
      ActorSystem<Void> system = Main.start(config);
      TestNode node = new TestNode(system, effective.httpPort(), effective.managementPort());
      node.awaitOk("http://127.0.0.1:" + effective.managementPort() + "/ready");
      node.awaitOk("http://127.0.0.1:" + effective.httpPort() + "/");
      return node;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public int httpPort() {
    return httpPort;
  }

  /** Port of health checks, cluster HTTP and /metrics. */
  public int managementPort() {
    return managementPort;
  }

  /** The node's WebSocket URI. */
  public URI wsUri() {
    return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
  }

  /** Asks a group entity for its state. */
  public GroupEntity.Info group(String groupId) {
    return ClusterSharding.get(system)
        .entityRefFor(GroupEntity.ENTITY_KEY, groupId)
        .ask(GroupEntity.Inspect::new, Duration.ofSeconds(5))
        .toCompletableFuture()
        .join();
  }

  /** Asks a session entity for its state. */
  public SessionEntity.Info session(String sessionId) {
    return ClusterSharding.get(system)
        .entityRefFor(SessionEntity.ENTITY_KEY, sessionId)
        .ask(SessionEntity.Inspect::new, Duration.ofSeconds(5))
        .toCompletableFuture()
        .join();
  }

  /**
   * Waits until {@code url} answers 200: the readiness check (cluster member, shard regions
   * registered with their coordinators) and the HTTP binding.
   */
  private void awaitOk(String url) {
    HttpClient client = HttpClient.newHttpClient();
    TestProbe.create(system)
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(50),
            () -> {
              HttpResponse<Void> response;
              try {
                response =
                    client.send(
                        HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(1))
                            .build(),
                        HttpResponse.BodyHandlers.discarding());
              } catch (IOException e) {
                throw new AssertionError(url + " not bound yet", e);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
              }
              if (response.statusCode() != 200) {
                throw new AssertionError(url + " answered " + response.statusCode());
              }
              return null;
            });
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  /** A free loopback port (for tests that choose a node's ports themselves). */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
