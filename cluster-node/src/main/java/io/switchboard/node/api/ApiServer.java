package io.switchboard.node.api;

import io.switchboard.node.HttpServer;
import io.switchboard.node.config.ApiSettings;
import io.switchboard.node.config.NodeSettings;
import io.switchboard.protocol.v1.GatewayPowerApi;
import io.switchboard.protocol.v1.GatewayPowerApiHandlerFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The backend API's endpoints: gRPC under {@code /switchboard.v1.Gateway/} and HTTP/JSON under
 * {@code /api/}, both backed by one {@link GatewayServiceImpl}. They share the node's HTTP port
 * (HTTP/2 is enabled there); with {@code switchboard.api.grpc-port} set to another port they are
 * also bound there. A node without an API key logs a warning: its API refuses every call.
 */
public final class ApiServer {
  private ApiServer() {}

  /** The API's route, for the node's HTTP server (and the separate binding, if any). */
  public static Route route(ActorSystem<?> system, ApiSettings settings) {
    GatewayServiceImpl gateway = new GatewayServiceImpl(system, settings);
    if (!gateway.hasKeys()) {
      system
          .log()
          .warn(
              "No API key configured (switchboard.api.keys, SWITCHBOARD_API_KEY): the backend API"
                  + " refuses every call");
    }
    var grpc = GatewayPowerApiHandlerFactory.create(gateway, system);
    return Directives.concat(
        ApiRoutes.create(gateway, settings),
        Directives.pathPrefix(GatewayPowerApi.name, () -> Directives.handle(grpc)));
  }

  /** Binds {@code route} on the API's own port, when one is configured apart from HTTP's. */
  public static void start(
      ActorSystem<?> system, NodeSettings node, ApiSettings settings, Route route) {
    if (!settings.separateGrpcPort(node.httpPort())) {
      system
          .log()
          .info(
              "Switchboard backend API (gRPC switchboard.v1.Gateway, HTTP/JSON /api/<Call>) on the"
                  + " HTTP port {}",
              node.httpPort());
      return;
    }
    HttpServer.bind(
        system,
        node.httpInterface(),
        settings.grpcPort(),
        route,
        "backend API (gRPC, HTTP/JSON /api/<Call>)");
  }
}
