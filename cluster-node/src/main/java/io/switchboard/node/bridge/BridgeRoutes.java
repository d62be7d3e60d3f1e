package io.switchboard.node.bridge;

import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.config.BridgeSettings;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.edge.ConnectionRegistryActor;
import io.switchboard.node.edge.WebSocketRoutes;
import io.switchboard.protocol.FrameCodec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;

/**
 * {@code GET /bridge/<name>}: a WebSocket in front of the route's upstream, admitted by the {@link
 * Gatekeeper} exactly like {@code /ws}. The requested subprotocol decides the mode:
 *
 * <ul>
 *   <li>{@value FrameCodec#BINARY_SUBPROTOCOL} or {@value FrameCodec#JSON_SUBPROTOCOL}: the client
 *       protocol, with a resumable bridge session (Connect/Resume; upstream messages are deliveries
 *       of the inbox stream "@", client {@code Message} frames go upstream);
 *   <li>anything else (or none): a plain passthrough: the upstream is connected first (its refusal
 *       is HTTP 502), then frames are copied both ways as they are, the upstream's subprotocol
 *       answers the client's, and either side closing closes the other. No session, no resume; the
 *       token must come with the upgrade (401 otherwise).
 * </ul>
 *
 * An unknown route is HTTP 404.
 */
public final class BridgeRoutes {
  private BridgeRoutes() {}

  /** The bridge routes of this node (none configured: a route that answers 404). */
  public static Route create(
      ActorSystem<?> system,
      EdgeSettings edge,
      ActorRef<ConnectionRegistryActor.Command> connections,
      Gatekeeper gate) {
    BridgeSettings settings = Bridges.get(system).settings();
    return Directives.path(
        PathMatchers.segment(settings.pathPrefix()).slash(PathMatchers.segment()),
        name ->
            settings
                .route(name)
                .map(
                    route ->
                        Directives.extractWebSocketUpgrade(
                            upgrade ->
                                WebSocketRoutes.admit(
                                    system,
                                    gate,
                                    identity ->
                                        Directives.extractRequest(
                                            request ->
                                                serve(
                                                    system,
                                                    edge,
                                                    connections,
                                                    route,
                                                    upgrade,
                                                    request,
                                                    identity)))))
                .orElseGet(
                    () ->
                        Directives.complete(
                            StatusCodes.NOT_FOUND, "no bridge route named " + name + "\n")));
  }

  private static Route serve(
      ActorSystem<?> system,
      EdgeSettings edge,
      ActorRef<ConnectionRegistryActor.Command> connections,
      BridgeSettings.Route route,
      WebSocketUpgrade upgrade,
      HttpRequest request,
      Identity identity) {
    Map<String, String> headers = passedHeaders(request, route);
    if (WebSocketRoutes.requested(upgrade, FrameCodec.BINARY_SUBPROTOCOL)
        || WebSocketRoutes.requested(upgrade, FrameCodec.JSON_SUBPROTOCOL)) {
      return WebSocketRoutes.socket(
          system, edge, connections, upgrade, identity, new BridgeBinding(route.name(), headers));
    }
    if (!identity.authenticated()) {
      return Directives.complete(
          HttpResponse.create()
              .withStatus(StatusCodes.UNAUTHORIZED)
              .addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer"))
              .withEntity("a plain WebSocket client needs its token with the upgrade\n"));
    }
    return passthrough(system, route, upgrade, headers, identity);
  }

  /** The route's pass-headers found in the browser's request (repeated ones joined). */
  static Map<String, String> passedHeaders(HttpRequest request, BridgeSettings.Route route) {
    Map<String, String> out = new LinkedHashMap<>();
    for (HttpHeader h : request.getHeaders()) {
      String name = h.lowercaseName();
      if (route.passHeaders().contains(name)) {
        out.merge(name, h.value(), (a, b) -> a + (name.equals("cookie") ? "; " : ", ") + b);
      }
    }
    return out;
  }

  private static Route passthrough(
      ActorSystem<?> system,
      BridgeSettings.Route route,
      WebSocketUpgrade upgrade,
      Map<String, String> headers,
      Identity identity) {
    Materializer materializer = Materializer.matFromSystem(system);
    // Both ends of the copy exist before either socket: the upstream's is connected first.
    Pair<Subscriber<Message>, Source<Message, NotUsed>> fromClient =
        Source.<Message>asSubscriber().preMaterialize(materializer);
    Pair<Publisher<Message>, Sink<Message, NotUsed>> toClient =
        Sink.<Message>asPublisher(AsPublisher.WITHOUT_FANOUT).preMaterialize(materializer);
    WebSocketRequest request = WebSocketRequest.create(route.upstream().toString());
    for (Map.Entry<String, String> h : headers.entrySet()) {
      request = request.addHeader(HttpHeader.parse(h.getKey(), h.getValue()));
    }
    for (Map.Entry<String, String> h : route.addHeaders().entrySet()) {
      request = request.addHeader(HttpHeader.parse(h.getKey(), h.getValue()));
    }
    if (!route.userIdHeader().isEmpty()) {
      request = request.addHeader(HttpHeader.parse(route.userIdHeader(), identity.userId()));
    }
    List<String> protocols =
        StreamSupport.stream(upgrade.getRequestedProtocols().spliterator(), false).toList();
    if (!protocols.isEmpty()) {
      request = request.requestSubprotocol(String.join(", ", protocols));
    }
    CompletionStage<WebSocketUpgradeResponse> upstream =
        Http.get(system)
            .singleWebSocketRequest(
                request,
                Flow.fromSinkAndSourceCoupled(toClient.second(), fromClient.second()),
                materializer)
            .first();
    return Directives.onComplete(
        upstream,
        answer -> {
          if (answer.isFailure() || !answer.get().isValid()) {
            String why =
                answer.isFailure()
                    ? answer.failed().get().getMessage()
                    : "HTTP " + answer.get().response().status().intValue();
            system.log().info("Bridge [{}] passthrough refused: upstream {}", route.name(), why);
            Source.<Message>empty().runWith(Sink.fromSubscriber(fromClient.first()), materializer);
            Source.fromPublisher(toClient.first()).runWith(Sink.cancelled(), materializer);
            return Directives.complete(StatusCodes.BAD_GATEWAY, "upstream unavailable\n");
          }
          Flow<Message, Message, NotUsed> copy =
              Flow.fromSinkAndSourceCoupled(
                  Sink.fromSubscriber(fromClient.first()), Source.fromPublisher(toClient.first()));
          return Directives.complete(
              answer
                  .get()
                  .chosenSubprotocol()
                  .map(p -> upgrade.handleMessagesWith(copy, p))
                  .orElseGet(() -> upgrade.handleMessagesWith(copy)));
        });
  }
}
