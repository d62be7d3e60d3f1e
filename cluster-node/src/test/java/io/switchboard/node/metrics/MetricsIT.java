package io.switchboard.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code /metrics} on the management port reflects real traffic, in Prometheus' format. */
@ExtendWith(LogCapturingExtension.class)
class MetricsIT {
  private static TestNode node;

  @BeforeAll
  static void startNode() {
    node = TestNode.start("switchboard.edge.client-publish = any");
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void metricsCountConnectionsFramesDeliveriesAndEntities() throws Exception {
    Map<String, Double> before = scrape();
    try (WsClient a = WsClient.open(node.wsUri(), false);
        WsClient b = WsClient.open(node.wsUri(), false)) {
      a.connect();
      b.connect();
      b.join("metrics-group");
      a.publishAll("metrics-group", 10, i -> "m" + i);
      b.deliveriesUntil("metrics-group", 10, Duration.ofSeconds(10), null);
      Map<String, Double> during = scrape();
      assertEquals(
          before.get("switchboard_connections") + 2, during.get("switchboard_connections"));
      assertTrue(delta(before, during, "switchboard_deliveries_total") >= 10);
      assertTrue(
          delta(before, during, "switchboard_frames_in_total")
              >= 13); // 2 Connect, Join, 10 Publish
      assertTrue(
          delta(before, during, "switchboard_frames_out_total")
              >= 23); // 2 Connected, Joined, 10 Published, 10 Delivery
      assertEquals(10, delta(before, during, "switchboard_publications_total"));
      assertTrue(delta(before, during, "switchboard_journal_write_seconds_count") >= 10);
      assertTrue(during.get("switchboard_session_entities") >= 2);
      assertTrue(during.get("switchboard_group_entities") >= 1);
      assertTrue(during.get("switchboard_group_shards") >= 1);
      assertEquals(1, during.get("switchboard_cluster_members{status=\"up\"}"));
    }
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(
                  before.get("switchboard_connections"), scrape().get("switchboard_connections"));
              return null;
            });
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String name) {
    return after.get(name) - before.get(name);
  }

  private static Map<String, Double> scrape() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.managementPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }
}
