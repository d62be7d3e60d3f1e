package io.switchboard.node.edge;

import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.FrameCodec;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.stream.StreamSupport;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Cookie;
import org.apache.pekko.http.javadsl.model.headers.HttpCookiePair;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * {@code GET /ws}: upgrades to a WebSocket speaking the client protocol, binary Protobuf by default
 * or canonical JSON under the subprotocol {@value FrameCodec#JSON_SUBPROTOCOL}. Before upgrading,
 * the {@link Gatekeeper} checks the {@code Origin} (HTTP 403 when foreign) and the token of the
 * {@code Authorization: Bearer} header, the token query parameter or the token cookie (HTTP 401
 * when it does not verify) — or, without a token, asks the {@link ConnectHook} when one is
 * configured; no socket is opened for a refused request. Each socket gets a {@link
 * ConnectionActor}; its inbound side is backpressured frame by frame, its outbound side is a
 * bounded {@link WebSocketTransport}.
 */
public final class WebSocketRoutes {
  private WebSocketRoutes() {}

  /** The route of the WebSocket endpoint. */
  public static Route create(
      ActorSystem<?> system,
      EdgeSettings settings,
      ActorRef<ConnectionRegistryActor.Command> connections,
      Gatekeeper gate) {
    return Directives.path(
        settings.websocketPath(),
        () ->
            Directives.extractWebSocketUpgrade(
                upgrade ->
                    admit(
                        system,
                        gate,
                        identity ->
                            socket(system, settings, connections, upgrade, identity, null))));
  }

  /**
   * Lets the {@link Gatekeeper} (and the connect hook, when the upgrade carries no token) decide on
   * the request: a refusal is answered with its HTTP status, an admission goes on to {@code
   * admitted} with the identity proven so far ({@link Identity#UNAUTHENTICATED} when the token is
   * to come in Connect or Resume). Shared by every WebSocket endpoint of the node.
   */
  public static Route admit(
      ActorSystem<?> system, Gatekeeper gate, Function<Identity, Route> admitted) {
    return Directives.extractRequest(
        request -> {
          Gatekeeper.UpgradeDecision decision = gate.admitUpgrade(upgradeRequest(request, gate));
          if (decision instanceof Gatekeeper.Proceed proceed
              && !proceed.identity().authenticated()
              && gate.usesConnectHook()) {
            return Directives.onSuccess(
                ConnectHook.decide(system, gate, request),
                hooked -> decided(system, hooked, admitted));
          }
          return decided(system, decision, admitted);
        });
  }

  private static Route decided(
      ActorSystem<?> system,
      Gatekeeper.UpgradeDecision decision,
      Function<Identity, Route> admitted) {
    if (decision instanceof Gatekeeper.Refuse refuse) {
      return refused(system, refuse);
    }
    return admitted.apply(((Gatekeeper.Proceed) decision).identity());
  }

  /** What the {@link Gatekeeper} decides on: the request's origin, host and credentials. */
  static Gatekeeper.UpgradeRequest upgradeRequest(HttpRequest request, Gatekeeper gate) {
    Optional<String> cookie =
        gate.cookieName().isEmpty()
            ? Optional.empty()
            : request
                .getHeader(Cookie.class)
                .flatMap(
                    c ->
                        StreamSupport.stream(c.getCookies().spliterator(), false)
                            .filter(pair -> pair.name().equals(gate.cookieName()))
                            .map(HttpCookiePair::value)
                            .findFirst());
    return new Gatekeeper.UpgradeRequest(
        header(request, "Origin"),
        header(request, "Host"),
        header(request, "Authorization"),
        request.getUri().query().get(gate.queryParameter()),
        cookie);
  }

  /** Whether the client asked for {@code protocol} among its subprotocols. */
  public static boolean requested(WebSocketUpgrade upgrade, String protocol) {
    return StreamSupport.stream(upgrade.getRequestedProtocols().spliterator(), false)
        .anyMatch(protocol::equals);
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  private static Route refused(ActorSystem<?> system, Gatekeeper.Refuse refuse) {
    system.log().debug("WebSocket upgrade refused ({}): {}", refuse.status(), refuse.reason());
    HttpResponse response =
        HttpResponse.create().withStatus(refuse.status()).withEntity(refuse.reason() + "\n");
    if (refuse.status() == 401) {
      response = response.addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer"));
    }
    return Directives.complete(response);
  }

  /**
   * Upgrades to a socket speaking the client protocol, served by a new {@link ConnectionActor};
   * {@code bridge} (null elsewhere) makes it a connection of that bridge route.
   */
  public static Route socket(
      ActorSystem<?> system,
      EdgeSettings settings,
      ActorRef<ConnectionRegistryActor.Command> connections,
      WebSocketUpgrade upgrade,
      Identity identity,
      BridgeBinding bridge) {
    Materializer materializer = Materializer.matFromSystem(system);
    boolean json = requested(upgrade, FrameCodec.JSON_SUBPROTOCOL);
    String subprotocol =
        json
            ? FrameCodec.JSON_SUBPROTOCOL
            : requested(upgrade, FrameCodec.BINARY_SUBPROTOCOL)
                ? FrameCodec.BINARY_SUBPROTOCOL
                : null;
    WebSocketTransport transport =
        WebSocketTransport.create(materializer, json, settings.outboundBuffer());
    CompletionStage<ActorRef<Socket.Command>> spawned =
        AskPattern.ask(
            connections,
            replyTo -> new ConnectionRegistryActor.Spawn(transport, identity, bridge, replyTo),
            Duration.ofSeconds(5),
            system.scheduler());
    return Directives.onSuccess(
        spawned,
        connection -> {
          Flow<Message, Message, NotUsed> flow =
              Flow.fromSinkAndSourceCoupled(
                  inbound(connection, settings, materializer), transport.source());
          return Directives.complete(
              subprotocol == null
                  ? upgrade.handleMessagesWith(flow)
                  : upgrade.handleMessagesWith(flow, subprotocol));
        });
  }

  private static Sink<Message, NotUsed> inbound(
      ActorRef<Socket.Command> connection, EdgeSettings settings, Materializer materializer) {
    return InboundFrames.decoder(settings.maxFrameSize(), materializer)
        .to(
            ActorSink.actorRefWithBackpressure(
                connection,
                ConnectionActor.InboundFrame::new,
                ConnectionActor.InboundStarted::new,
                ConnectionActor.StreamAck.INSTANCE,
                ConnectionActor.InboundCompleted.INSTANCE,
                ConnectionActor.InboundFailed::new));
  }
}
