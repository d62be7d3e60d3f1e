package io.switchboard.node.edge;

import io.switchboard.node.backend.Backend;
import io.switchboard.node.backend.BackendRouterActor;
import io.switchboard.node.backend.Backends;
import io.switchboard.node.config.BackendSettings;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Message;
import io.switchboard.protocol.v1.Reply;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.pattern.StatusReply;

/**
 * The requests of one connection that involve backends, both ways, for its {@link ConnectionActor}:
 * the client's Requests routed to workers (at most {@code max-pending-requests} waiting, each
 * answered by exactly one Reply or Error with the frame's id), its one-way Messages, the cluster's
 * requests to the client (the API's Ask: at most {@code max-pending-asks} waiting, each answered by
 * the client's Reply, or failed at once when the connection closes), and the lifecycle events
 * workers may subscribe to. Used only on the connection actor's thread.
 */
final class ClientRequests {

  /** What the connection actor hands back to {@link #onResult}. */
  sealed interface Result extends Socket.Command {}

  /** A routed request ended; {@code answer} is null when none came in time. */
  record Answered(long frameId, Backend.Answer answer, Duration timeout) implements Result {}

  /** A one-way message went nowhere. */
  record MessageRefused(Backend.Refusal refusal) implements Result {}

  private record PendingAsk(ActorRef<StatusReply<Socket.AskReply>> replyTo, long deadlineNanos) {}

  private final ActorContext<Socket.Command> context;
  private final String nodeName;
  private final Consumer<ServerFrame> out;
  private final BackendSettings settings;
  private final ActorRef<BackendRouterActor.Command> router;
  // Made at the first one-way message: an adapter is a child ref of the connection actor, which
  // most connections never need.
  private ActorRef<Backend.Refusal> refusals;
  private final Map<Long, PendingAsk> asks = new HashMap<>();
  private int pendingRequests;
  private long nextAskId;
  private String sessionId = "";
  private String userId = "";
  private boolean connected;

  ClientRequests(ActorContext<Socket.Command> context, String nodeName, Consumer<ServerFrame> out) {
    this.context = context;
    this.nodeName = nodeName;
    this.out = out;
    Backends backends = Backends.get(context.getSystem());
    this.settings = backends.settings();
    this.router = backends.router();
  }

  // ---- client → backend

  void request(long frameId, Request request) {
    if (!validRoute(frameId, request.getMethod(), request.getPath(), true)) {
      return;
    }
    if (pendingRequests >= settings.maxPendingRequests()) {
      out.accept(
          ServerFrames.error(
              frameId,
              ErrorCode.LIMIT_EXCEEDED,
              "more than " + settings.maxPendingRequests() + " requests waiting"));
      return;
    }
    pendingRequests++;
    Duration timeout = settings.timeoutFor(request.getTimeoutMs());
    Backend.ClientRequest routed =
        new Backend.ClientRequest(
            request.getMethod(),
            request.getPath(),
            request.getHeadersMap(),
            request.getBody(),
            userId,
            sessionId);
    context.ask(
        Backend.Answer.class,
        router,
        timeout,
        replyTo -> new BackendRouterActor.RouteRequest(routed, timeout.toMillis(), replyTo),
        (answer, failure) -> new Answered(frameId, answer, timeout));
  }

  void message(long frameId, Message message) {
    if (validRoute(frameId, "MESSAGE", message.getPath(), false)) {
      if (refusals == null) {
        refusals = context.messageAdapter(Backend.Refusal.class, MessageRefused::new);
      }
      router.tell(
          new BackendRouterActor.RouteMessage(
              frameId,
              new Backend.ClientMessage(
                  message.getPath(), message.getHeadersMap(), message.getBody(), userId, sessionId),
              refusals));
    }
  }

  /** A routed request's answer, or a message's refusal, arrived. */
  void onResult(Result result) {
    if (result instanceof Answered answered) {
      pendingRequests = Math.max(0, pendingRequests - 1);
      out.accept(answerFrame(answered));
    } else if (result instanceof MessageRefused refused) {
      out.accept(
          ServerFrames.error(
              refused.refusal().frameId(), ErrorCode.NO_ROUTE, refused.refusal().reason()));
    }
  }

  private static ServerFrame answerFrame(Answered answered) {
    long frameId = answered.frameId();
    Backend.Answer answer = answered.answer();
    if (answer == null) {
      return ServerFrames.error(
          frameId, ErrorCode.TIMEOUT, "no answer within " + answered.timeout().toMillis() + " ms");
    }
    return switch (answer.outcome()) {
      case REPLIED ->
          ServerFrame.newBuilder()
              .setId(frameId)
              .setReply(
                  Reply.newBuilder()
                      .setStatus(answer.status())
                      .putAllHeaders(answer.headers())
                      .setBody(answer.body()))
              .build();
      case NO_ROUTE -> ServerFrames.error(frameId, ErrorCode.NO_ROUTE, answer.reason());
      case BACKEND_GONE -> ServerFrames.error(frameId, ErrorCode.BACKEND_GONE, answer.reason());
    };
  }

  private boolean validRoute(long frameId, String method, String path, boolean needsMethod) {
    if ((needsMethod && method.isBlank()) || !path.startsWith("/")) {
      out.accept(
          ServerFrames.error(
              frameId,
              ErrorCode.INVALID_ARGUMENT,
              needsMethod ? "Request needs a method and a path starting with /" : "bad path"));
      return false;
    }
    return true;
  }

  // ---- cluster → client

  /** The API asks the client something; {@code live}: the connection has a session and is open. */
  void ask(Socket.Ask ask, boolean live) {
    long now = System.nanoTime();
    asks.values().removeIf(p -> now - p.deadlineNanos() > 0); // their asker has given up
    if (!live) {
      ask.replyTo().tell(StatusReply.error(Socket.ASK_NOT_ATTACHED));
      return;
    }
    if (asks.size() >= settings.maxPendingAsks()) {
      ask.replyTo().tell(StatusReply.error(Socket.ASK_TOO_MANY));
      return;
    }
    long requestId = ++nextAskId;
    asks.put(requestId, new PendingAsk(ask.replyTo(), now + ask.timeoutMs() * 1_000_000L));
    out.accept(
        ServerFrame.newBuilder()
            .setRequest(
                Request.newBuilder()
                    .setRequestId(requestId)
                    .setMethod(ask.method())
                    .setPath(ask.path())
                    .putAllHeaders(ask.headers())
                    .setBody(ask.body())
                    .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, ask.timeoutMs())))
            .build());
  }

  /** The client's Reply to one of the cluster's requests. */
  void reply(long frameId, Reply reply) {
    PendingAsk waiting = asks.remove(reply.getRequestId());
    if (waiting == null) {
      out.accept(
          ServerFrames.error(
              frameId, ErrorCode.INVALID_ARGUMENT, "no pending request " + reply.getRequestId()));
      return;
    }
    int status = reply.getStatus() == 0 ? 200 : reply.getStatus();
    waiting
        .replyTo()
        .tell(
            StatusReply.success(
                new Socket.AskReply(status, reply.getHeadersMap(), reply.getBody())));
  }

  // ---- lifecycle

  /** The connection has a session (new or resumed): requests carry its identity from now on. */
  void connected(String sessionId, String userId, boolean resumed) {
    this.sessionId = sessionId;
    this.userId = userId;
    this.connected = true;
    event(Backend.EventKind.CONNECTED, "", resumed);
  }

  /** The session became a member of a group on this connection. */
  void joined(String groupId) {
    event(Backend.EventKind.JOINED, groupId, false);
  }

  /** The session stopped being a member of a group on this connection. */
  void left(String groupId) {
    event(Backend.EventKind.LEFT, groupId, false);
  }

  /** The connection is gone: pending asks fail now, and workers hear DISCONNECTED. */
  void closed() {
    StatusReply<Socket.AskReply> gone = StatusReply.error(Socket.ASK_CLIENT_GONE);
    asks.values().forEach(p -> p.replyTo().tell(gone));
    asks.clear();
    if (connected) {
      connected = false;
      event(Backend.EventKind.DISCONNECTED, "", false);
    }
  }

  private void event(Backend.EventKind kind, String groupId, boolean resumed) {
    router.tell(
        new BackendRouterActor.RouteEvent(
            new Backend.Event(kind, sessionId, userId, groupId, resumed, nodeName)));
  }
}
