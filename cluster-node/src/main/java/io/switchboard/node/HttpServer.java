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
    return bind(
        system, settings.httpInterface(), settings.httpPort(), route, "HTTP (WebSocket /ws)");
  }

  /**
   * Binds {@code route} at {@code host:port}, unbinding with coordinated shutdown; a failed bind
   * terminates the node. {@code what} names the binding in the log.
   */
  public static CompletionStage<ServerBinding> bind(
      ActorSystem<?> system, String host, int port, Route route, String what) {
    return Http.get(system)
        .newServerAt(host, port)
        .bind(route)
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system))
        .whenComplete(
            (binding, failure) -> {
              if (binding != null) {
                InetSocketAddress address = binding.localAddress();
                system
                    .log()
                    .info(
                        "Switchboard {} at http://{}:{}/",
                        what,
                        address.getHostString(),
                        address.getPort());
              } else {
                system.log().error("Failed to bind " + what + ", terminating", failure);
                system.terminate();
              }
            });
  }
}
