package io.switchboard.node;

import io.switchboard.node.config.NodeSettings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The node's HTTP binding: WebSocket, the HTTP/JSON API and the demo page on one port. Unbinds with
 * coordinated shutdown; a failed bind terminates the node.
 */
public final class HttpServer {
  private HttpServer() {}

  /** Binds {@code route} at the configured interface and port. */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, NodeSettings settings, Route route) {
    return Http.get(system)
        .newServerAt(settings.httpInterface(), settings.httpPort())
        .bind(route)
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system))
        .whenComplete(
            (binding, failure) -> {
              if (binding != null) {
                InetSocketAddress address = binding.localAddress();
                system
                    .log()
                    .info(
                        "Switchboard HTTP at http://{}:{}/ (WebSocket /ws)",
                        address.getHostString(),
                        address.getPort());
              } else {
                system.log().error("Failed to bind HTTP, terminating", failure);
                system.terminate();
              }
            });
  }
}
