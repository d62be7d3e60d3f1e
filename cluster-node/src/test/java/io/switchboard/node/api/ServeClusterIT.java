package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static io.switchboard.node.api.ApiTestKit.browser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.InfoRequest;
import io.switchboard.protocol.v1.InfoResponse;
import io.switchboard.protocol.v1.NodeInfo;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.RouteInfo;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two nodes in one cluster, one worker connected to each: requests from a browser on the first node
 * are balanced over both workers, the second one's requests fail at once when it is lost, and Info
 * sees both nodes. The second node serves its API on a port of its own ({@code api.grpc-port}).
 */
@ExtendWith(LogCapturingExtension.class)
class ServeClusterIT {
  private static final String KEY = "key-" + UUID.randomUUID();
  private static TestNode first;
  private static TestNode second;
  private static GatewayClient toFirst;
  private static GatewayClient toSecond;

  @BeforeAll
  static void startCluster() throws IOException {
    int seedPort = TestNode.freePort();
    int secondGrpcPort = TestNode.freePort();
    first = TestNode.start(ApiTestKit.nodeConfig(KEY) + "switchboard.remote.port = " + seedPort);
    second =
        TestNode.start(
            ApiTestKit.nodeConfig(KEY)
                + "switchboard.node.seed-nodes = \"127.0.0.1:"
                + seedPort
                + "\"\n"
                // The second node's API also has a port of its own; its worker uses that one.
                + "switchboard.api.grpc-port = "
                + secondGrpcPort);
    toFirst = ApiTestKit.grpc(first.system(), first.httpPort(), KEY);
    toSecond = ApiTestKit.grpc(first.system(), secondGrpcPort, KEY);
  }

  @AfterAll
  static void stopCluster() {
    await(toFirst.close());
    await(toSecond.close());
    second.close();
    first.close();
  }

  @Test
  void requestsAreBalancedOverWorkersOfBothNodesAndALostRemoteWorkerFailsThemAtOnce() {
    String route = "/where/:x";
    try (TestWorker local = TestWorker.open(first.system(), toFirst, KEY);
        TestWorker remote = TestWorker.open(first.system(), toSecond, KEY);
        WsClient browser = browser(first, "judy")) {
      local.register(List.of("GET " + route));
      remote.register(List.of("GET " + route));
      TestProbe<Object> probe = TestProbe.create(first.system());
      probe.awaitAssert(
          Duration.ofSeconds(15),
          () -> {
            InfoResponse info = await(toFirst.info(InfoRequest.getDefaultInstance()));
            assertEquals(
                List.of(
                    RouteInfo.newBuilder().setMethod("GET").setPath(route).setWorkers(2).build()),
                info.getRoutesList(),
                "the first node knows the second node's worker");
            assertEquals(2, info.getNodesCount());
            for (NodeInfo node : info.getNodesList()) {
              assertEquals("Up", node.getStatus());
              assertEquals(1, node.getWorkers(), node.toString());
            }
            return null;
          });

      browser.connect();
      Map<Long, String> answeredBy = new HashMap<>();
      for (int i = 0; i < 6; i++) {
        long id = browser.nextId();
        browser.send(get(id, "/where/" + i, 10_000));
        if (i % 2 == 1) {
          answer(local, "local");
          answer(remote, "remote");
        }
      }
      for (int i = 0; i < 6; i++) {
        ServerFrame reply = browser.expect(ServerFrame.KindCase.REPLY);
        answeredBy.put(reply.getId(), reply.getReply().getBody().toStringUtf8());
      }
      assertEquals(3, answeredBy.values().stream().filter("local"::equals).count());
      assertEquals(3, answeredBy.values().stream().filter("remote"::equals).count());

      // The second node's worker dies while it holds a request of the first node's browser.
      Map<String, Long> frameOf = new HashMap<>();
      for (String path : List.of("/where/held-a", "/where/held-b")) {
        frameOf.put(path, browser.nextId());
        browser.send(get(frameOf.get(path), path, 30_000));
      }
      IncomingRequest atRemote = remote.nextRequest();
      IncomingRequest atLocal = local.nextRequest();
      long lostAt = System.nanoTime();
      remote.crash();
      ServerFrame gone = browser.expect(ServerFrame.KindCase.ERROR);
      assertEquals(frameOf.get(atRemote.getPath()), gone.getId());
      assertEquals(ErrorCode.BACKEND_GONE, gone.getError().getCode());
      assertTrue(System.nanoTime() - lostAt < TimeUnit.SECONDS.toNanos(5), "at once");
      local.reply(atLocal.getRequestId(), 200, "local", Map.of());
      ServerFrame survived = browser.expect(ServerFrame.KindCase.REPLY);
      assertEquals(frameOf.get(atLocal.getPath()), survived.getId());
    }
  }

  private static void answer(TestWorker worker, String name) {
    IncomingRequest request = worker.nextRequest();
    worker.reply(request.getRequestId(), 200, name, Map.of());
  }

  private static ClientFrame get(long id, String path, int timeoutMs) {
    return ClientFrame.newBuilder()
        .setId(id)
        .setRequest(
            Request.newBuilder()
                .setMethod("GET")
                .setPath(path)
                .setBody(ByteString.EMPTY)
                .setTimeoutMs(timeoutMs))
        .build();
  }
}
