package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.TestNode;
import io.switchboard.node.auth.TestTokens;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Long-poll across two nodes of one cluster, with no sticky load balancing: polls and sends
 * alternate between the nodes while a backend publishes, and every message arrives exactly once, in
 * order; when the node holding the session's socket lets it go, a poll without credentials on the
 * other node resumes the session from its cursors.
 */
@ExtendWith(LogCapturingExtension.class)
class LongPollClusterIT {
  private static final String API_KEY = "lp-cluster-" + UUID.randomUUID();
  private static TestNode first;
  private static TestNode second;

  @BeforeAll
  static void startCluster() throws IOException {
    String config =
        """
        switchboard.auth.mode = jwt
        switchboard.auth.hmac-secret = "%s"
        switchboard.api.keys = ["%s"]
        switchboard.edge.client-publish = any
        switchboard.edge.frames-per-second = 10000
        switchboard.edge.frame-burst = 10000
        switchboard.edge.long-poll-hold = 2s
        switchboard.edge.long-poll-idle-timeout = 2s
        """
            .formatted(TestTokens.SECRET, API_KEY);
    int seedPort = TestNode.freePort();
    first = TestNode.start(config + "switchboard.remote.port = " + seedPort);
    second =
        TestNode.start(config + "switchboard.node.seed-nodes = \"127.0.0.1:" + seedPort + "\"");
    // Each node learns of the other's long-poll registry through the receptionist's gossip; until
    // then it takes calls over instead of relaying them (correct, but not what this test checks).
    for (TestNode node : List.of(first, second)) {
      TestProbe<org.apache.pekko.actor.typed.receptionist.Receptionist.Listing> probe =
          TestProbe.create(node.system());
      probe.awaitAssert(
          Duration.ofSeconds(20),
          Duration.ofMillis(200),
          () -> {
            node.system()
                .receptionist()
                .tell(
                    org.apache.pekko.actor.typed.receptionist.Receptionist.find(
                        LongPollSessions.KEY, probe.getRef()));
            assertEquals(
                2, probe.receiveMessage().getServiceInstances(LongPollSessions.KEY).size());
            return null;
          });
    }
  }

  @AfterAll
  static void stopCluster() {
    second.close();
    first.close();
  }

  @Test
  void pollsAndSendsSpreadOverBothNodesDeliverEveryMessageOnceInOrder() throws Exception {
    String room = "room:" + UUID.randomUUID();
    LongPollClient client = new LongPollClient();
    assertEquals(200, client.open(first, TestTokens.valid("spread")).status());
    ClientFrame join = client.join(room);
    ServerFrame joined = client.send(second, join).get(0);
    assertEquals(join.getId(), joined.getId());
    assertEquals(0, joined.getJoined().getHead(), "joined through the other node");

    int byApi = 150;
    int byClient = 50;
    CompletableFuture<Void> backend = CompletableFuture.runAsync(() -> publishByApi(room, byApi));
    int sent = 0;
    int callsToSecond = 1; // the join
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    for (int i = 0; client.cursors().getOrDefault(room, 0L) < byApi + byClient; i++) {
      assertTrue(System.nanoTime() < deadline, "all delivered in time: " + client.cursors());
      TestNode polled = i % 2 == 0 ? first : second;
      TestNode other = polled == first ? second : first;
      List<ServerFrame> frames = client.poll(polled, 300);
      callsToSecond += polled == second ? 1 : 0;
      assertFalse(frames.stream().anyMatch(f -> f.hasClose() || f.hasError()), frames.toString());
      client.accept(frames); // no gap and no duplicate after the cursors, whichever node answered
      if (sent < byClient && i % 2 == 0) {
        ClientFrame publish = client.publish(room, "client-" + sent++);
        ServerFrame published = client.send(other, publish).get(0);
        callsToSecond += other == second ? 1 : 0;
        assertEquals(publish.getId(), published.getId());
        assertTrue(published.hasPublished(), published.toString());
      }
    }
    backend.get(30, TimeUnit.SECONDS);
    assertEquals(byApi + byClient, client.cursors().get(room));
    // The socket stayed on the first node: the second passed every one of its calls there.
    assertEquals(
        callsToSecond, NodeMetrics.get(second.system()).longPollRelays.sum(), "calls relayed");
    assertEquals(0, resumes(), "no socket moved back and forth");

    // The client pauses: the node holding its socket ends it, and the session is detached.
    String sessionId = client.sessionId();
    TestProbe<Object> probe = TestProbe.create(first.system());
    probe.awaitAssert(
        Duration.ofSeconds(20),
        Duration.ofMillis(200),
        () -> {
          assertFalse(first.session(sessionId).attached(), "idle socket ended");
          return null;
        });
    publishByApi(room, 20);
    // A poll on the other node, without a token: that node resumes the session from the cursors.
    long total = byApi + byClient + 20;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.cursors().get(room) < total && System.nanoTime() < until) {
      List<ServerFrame> frames = client.poll(second, 500);
      assertFalse(frames.stream().anyMatch(ServerFrame::hasClose), frames.toString());
      client.accept(frames);
    }
    assertEquals(total, client.cursors().get(room));
    assertTrue(first.session(sessionId).attached(), "attached again, to the other node's socket");
    assertEquals(1, resumes(), "resumed once, by the second node");
  }

  private static long resumes() {
    return NodeMetrics.get(first.system()).longPollResumes.sum()
        + NodeMetrics.get(second.system()).longPollResumes.sum();
  }

  /** Publishes {@code count} messages through the HTTP/JSON API, alternating between the nodes. */
  private static void publishByApi(String room, int count) {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicInteger failures = new AtomicInteger();
    for (int i = 0; i < count; i++) {
      TestNode node = i % 2 == 0 ? first : second;
      String payload =
          Base64.getEncoder().encodeToString(("api-" + i).getBytes(StandardCharsets.UTF_8));
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/Publish"))
              .header("authorization", "Bearer " + API_KEY)
              .header("content-type", "application/json")
              .timeout(Duration.ofSeconds(20))
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      "{\"group\":\"%s\",\"payload\":\"%s\"}".formatted(room, payload)))
              .build();
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          failures.incrementAndGet();
        }
      } catch (IOException e) {
        failures.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    assertEquals(0, failures.get(), "every publication acknowledged");
  }
}
