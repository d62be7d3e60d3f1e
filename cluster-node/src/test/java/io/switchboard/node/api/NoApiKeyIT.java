package io.switchboard.node.api;

import static io.switchboard.node.api.ApiTestKit.await;
import static io.switchboard.node.api.ApiTestKit.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.switchboard.node.TestNode;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.InfoRequest;
import io.switchboard.protocol.v1.PublishRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A node with no API key configured refuses every API call: the API is never open by default. */
@ExtendWith(LogCapturingExtension.class)
class NoApiKeyIT {

  @Test
  void everyCallIsRefusedWhenNoKeyIsConfigured() {
    try (TestNode node = TestNode.start("switchboard.api.keys = []\nswitchboard.api.key = \"\"")) {
      GatewayClient withSomeKey = ApiTestKit.grpc(node.system(), node.httpPort(), "any-key");
      try {
        StatusRuntimeException refused =
            (StatusRuntimeException)
                org.junit.jupiter.api.Assertions.assertThrows(
                        CompletionException.class,
                        () ->
                            withSomeKey
                                .info(InfoRequest.getDefaultInstance())
                                .toCompletableFuture()
                                .join())
                    .getCause();
        assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
        assertTrue(
            refused.getStatus().getDescription().contains("no API key is configured"),
            refused.getStatus().getDescription());
        assertEquals(
            io.grpc.Status.Code.UNAUTHENTICATED,
            ApiTestKit.failureOf(
                withSomeKey.publish(PublishRequest.newBuilder().setGroup("g").build())));
      } finally {
        await(withSomeKey.close());
      }
      HttpResponse<String> http = post(node, "Publish", "{\"group\":\"g\"}", "any-key");
      assertEquals(401, http.statusCode());
      assertTrue(http.body().contains("no API key is configured"), http.body());
      assertEquals(0, node.group("g").head(), "nothing was published");
    }
  }
}
