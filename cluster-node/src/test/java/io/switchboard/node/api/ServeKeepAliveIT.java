package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.switchboard.node.TestNode;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.InfoRequest;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A quiet Serve stream outlives the HTTP idle timeout: the node pings HTTP/2 connections with open
 * streams (here every second, against an idle timeout of two seconds).
 */
@ExtendWith(LogCapturingExtension.class)
class ServeKeepAliveIT {

  @Test
  void aQuietWorkerStaysConnected() throws Exception {
    String key = "key-" + UUID.randomUUID();
    try (TestNode node =
        TestNode.start(
            ApiTestKit.nodeConfig(key)
                + """
                pekko.http.server.idle-timeout = 2s
                pekko.http.server.http2.ping-interval = 1s
                pekko.http.server.http2.ping-timeout = 1s
                """)) {
      GatewayClient gateway = ApiTestKit.grpc(node.system(), node.httpPort(), key);
      try (TestWorker worker = TestWorker.open(node.system(), gateway, key)) {
        worker.register(List.of("GET /quiet"));
        assertThrows(
            TimeoutException.class,
            () -> worker.ended().get(5, TimeUnit.SECONDS),
            "the stream ended while the worker was quiet");
        assertEquals(
            1, await(gateway.info(InfoRequest.getDefaultInstance())).getRoutes(0).getWorkers());
      } finally {
        await(gateway.close());
      }
    }
  }
}
