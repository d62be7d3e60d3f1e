package io.switchboard.node.edge;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.auth.TokenVerifier;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.LimitSettings;
import io.switchboard.node.config.LongPollSettings;
import io.switchboard.protocol.ProtoJson;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.FrameBatch;
import io.switchboard.protocol.v1.LongPollRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;

/**
 * {@code POST /lp/open}, {@code /lp/poll} and {@code /lp/send}: the long-poll transport (see
 * protocol/README.md). Bodies are a {@code LongPollRequest} in canonical Protobuf JSON, or Protobuf
 * binary under {@code application/x-protobuf}; every 200 answer is a {@code FrameBatch} in the same
 * encoding. The open is admitted exactly like a WebSocket upgrade (the {@link Gatekeeper}, the
 * {@link ConnectHook}), except that the token of its Connect or Resume is checked at once: 401 or
 * 403, and no session, when refused. Polls and sends are authenticated by the session id and resume
 * token; a token they carry as well is used when a new socket must resume the session. A malformed
 * body is 400, a body over the frame size limit 413.
 */
public final class LongPollRoutes {
  private LongPollRoutes() {}

  private static final ContentType PROTOBUF =
      ContentTypes.create(MediaTypes.applicationBinary("x-protobuf", false));
  private static final JsonFormat.Printer JSON_PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  /** A body that is not a LongPollRequest. */
  private static final class BadBody extends Exception {
    private static final long serialVersionUID = 1L;

    BadBody(String message) {
      super(message);
    }
  }

  /** The routes of the long-poll transport. */
  public static Route create(
      ActorSystem<?> system,
      EdgeSettings edge,
      LongPollSettings settings,
      LimitSettings limits,
      ActorRef<LongPollSessions.Command> sessions,
      Gatekeeper gate) {
    LongPollCalls calls = new LongPollCalls(system, edge, settings);
    Materializer materializer = Materializer.matFromSystem(system);
    Duration requestTimeout = calls.longest().plusSeconds(15);
    return Directives.pathPrefix(
        settings.path(),
        () ->
            LongPollCors.wrap(
                gate,
                () ->
                    Directives.post(
                        () ->
                            Directives.extractRequest(
                                request ->
                                    timedOutAfter(
                                        request,
                                        requestTimeout,
                                        () ->
                                            Directives.concat(
                                                Directives.path(
                                                    "open",
                                                    () ->
                                                        body(
                                                            request,
                                                            edge,
                                                            materializer,
                                                            b ->
                                                                open(
                                                                    system, gate, sessions, calls,
                                                                    request, b))),
                                                Directives.path(
                                                    "poll",
                                                    () ->
                                                        body(
                                                            request,
                                                            edge,
                                                            materializer,
                                                            b ->
                                                                call(
                                                                    false, system, gate, limits,
                                                                    sessions, calls, request, b))),
                                                Directives.path(
                                                    "send",
                                                    () ->
                                                        body(
                                                            request,
                                                            edge,
                                                            materializer,
                                                            b ->
                                                                call(
                                                                    true, system, gate, limits,
                                                                    sessions, calls, request,
                                                                    b)))))))));
  }

  /**
   * A held poll or a send waiting for a backend outlasts the server's request timeout (20 s by
   * default): HTTP/1.1 requests get a longer one. HTTP/2 requests have none to extend.
   */
  private static Route timedOutAfter(HttpRequest request, Duration timeout, Supplier<Route> inner) {
    return request.getHeader(TimeoutAccess.class).isPresent()
        ? Directives.withRequestTimeout(timeout, inner)
        : inner.get();
  }

  /** Reads the whole body, at most the frame size limit (413 beyond), and parses it (400). */
  private static Route body(
      HttpRequest request,
      EdgeSettings edge,
      Materializer materializer,
      java.util.function.Function<LongPollRequest, Route> inner) {
    CompletionStage<byte[]> bytes =
        request
            .entity()
            .toStrict(10_000, edge.maxFrameSize(), materializer)
            .thenApply(strict -> strict.getData().toArray());
    return Directives.onComplete(
        bytes,
        tried -> {
          if (tried.isFailure()) {
            boolean tooLarge = false;
            for (Throwable t = tried.failed().get(); t != null; t = t.getCause()) {
              // A declared length over the limit fails as EntityStreamException, a streamed body
              // that grows past it as EntityStreamSizeException.
              tooLarge |=
                  t instanceof EntityStreamSizeException
                      || (t instanceof EntityStreamException
                          && String.valueOf(t.getMessage()).contains("too large"));
            }
            return tooLarge
                ? text(413, "body exceeds " + edge.maxFrameSize() + " bytes")
                : text(400, "body could not be read");
          }
          try {
            return inner.apply(parse(request, tried.get()));
          } catch (BadBody e) {
            return text(400, e.getMessage());
          }
        });
  }

  private static Route open(
      ActorSystem<?> system,
      Gatekeeper gate,
      ActorRef<LongPollSessions.Command> sessions,
      LongPollCalls calls,
      HttpRequest request,
      LongPollRequest body) {
    if (body.getFramesCount() == 0
        || !(body.getFrames(0).hasConnect() || body.getFrames(0).hasResume())) {
      return text(400, "the first frame of an open must be Connect or Resume");
    }
    ClientFrame hello = body.getFrames(0);
    String token =
        hello.hasConnect() ? hello.getConnect().getToken() : hello.getResume().getToken();
    Gatekeeper.UpgradeDecision decision =
        gate.admitUpgrade(WebSocketRoutes.upgradeRequest(request, gate));
    if (decision instanceof Gatekeeper.Proceed proceed
        && !proceed.identity().authenticated()
        && token.isBlank()
        && gate.usesConnectHook()) {
      return Directives.onSuccess(
          ConnectHook.decide(system, gate, request),
          hooked -> admitted(system, gate, sessions, calls, body, token, hooked));
    }
    return admitted(system, gate, sessions, calls, body, token, decision);
  }

  private static Route admitted(
      ActorSystem<?> system,
      Gatekeeper gate,
      ActorRef<LongPollSessions.Command> sessions,
      LongPollCalls calls,
      LongPollRequest body,
      String token,
      Gatekeeper.UpgradeDecision decision) {
    if (decision instanceof Gatekeeper.Refuse refuse) {
      return refused(system, refuse.status(), refuse.reason());
    }
    Identity identity = ((Gatekeeper.Proceed) decision).identity();
    TokenVerifier.Result verified = gate.atHello(identity, token);
    if (verified instanceof TokenVerifier.Rejected rejected) {
      return refused(system, 401, rejected.reason());
    }
    Identity proven = ((TokenVerifier.Verified) verified).identity();
    CompletionStage<FrameBatch> answer =
        AskPattern.ask(
            sessions,
            replyTo -> new LongPollSessions.Open(proven, body.getFramesList(), replyTo),
            calls.sendDeadline(body.getFramesList()).plusSeconds(10),
            system.scheduler());
    return Directives.onComplete(
        answer,
        tried ->
            tried.isSuccess()
                ? batch(tried.get())
                : text(503, "the session could not be opened in time, retry"));
  }

  private static Route call(
      boolean send,
      ActorSystem<?> system,
      Gatekeeper gate,
      LimitSettings limits,
      ActorRef<LongPollSessions.Command> sessions,
      LongPollCalls calls,
      HttpRequest request,
      LongPollRequest body) {
    if (body.getCursorsCount() > limits.maxCursors()) {
      return text(400, "more than " + limits.maxCursors() + " cursors");
    }
    Gatekeeper.UpgradeDecision decision =
        gate.admitUpgrade(WebSocketRoutes.upgradeRequest(request, gate));
    if (decision instanceof Gatekeeper.Refuse refuse && refuse.status() == 403) {
      return refused(system, 403, refuse.reason());
    }
    // A token of the request is optional here (the resume token authenticates the call); a bad
    // one is ignored rather than failing a call the session's own secret proves.
    Identity credentials =
        decision instanceof Gatekeeper.Proceed proceed && proceed.identity().authenticated()
            ? proceed.identity()
            : null;
    LongPollSessions.Call call = new LongPollSessions.Call(send, body, credentials, null);
    CompletionStage<FrameBatch> answer =
        AskPattern.ask(
            sessions,
            replyTo -> new LongPollSessions.Call(send, body, credentials, replyTo),
            calls.deadline(call).plusSeconds(10),
            system.scheduler());
    return Directives.onComplete(
        answer,
        tried -> {
          if (tried.isSuccess()) {
            return batch(tried.get());
          }
          return send
              ? text(503, "no answer in time, retry")
              : batch(FrameBatch.getDefaultInstance());
        });
  }

  private static LongPollRequest parse(HttpRequest request, byte[] bytes) throws BadBody {
    if (binary(request)) {
      try {
        return LongPollRequest.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new BadBody("not a Protobuf LongPollRequest: " + e.getMessage());
      }
    }
    try {
      LongPollRequest.Builder builder = LongPollRequest.newBuilder();
      ProtoJson.merge(new String(bytes, StandardCharsets.UTF_8), builder, true);
      return builder.build();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new BadBody("not a JSON LongPollRequest: " + e.getMessage());
    }
  }

  private static boolean binary(HttpRequest request) {
    String subType = request.entity().getContentType().mediaType().subType();
    return subType.equals("x-protobuf") || subType.equals("protobuf");
  }

  private static Route batch(FrameBatch batch) {
    return Directives.extractRequest(
        request -> {
          if (binary(request)) {
            return Directives.complete(
                HttpResponse.create().withEntity(PROTOBUF, batch.toByteArray()));
          }
          try {
            return Directives.complete(
                HttpResponse.create()
                    .withEntity(ContentTypes.APPLICATION_JSON, JSON_PRINTER.print(batch)));
          } catch (InvalidProtocolBufferException e) {
            return text(500, "answer could not be encoded");
          }
        });
  }

  private static Route refused(ActorSystem<?> system, int status, String reason) {
    system.log().debug("Long-poll call refused ({}): {}", status, reason);
    HttpResponse response = HttpResponse.create().withStatus(status).withEntity(reason + "\n");
    if (status == 401) {
      response = response.addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer"));
    }
    return Directives.complete(response);
  }

  private static Route text(int status, String reason) {
    return Directives.complete(HttpResponse.create().withStatus(status).withEntity(reason + "\n"));
  }
}
