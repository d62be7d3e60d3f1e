package io.switchboard.node.edge;

import io.switchboard.node.auth.Gatekeeper;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Cross-origin long-poll for browser pages served from another origin: the same {@code Origin} rule
 * as the WebSocket upgrade (the configured {@code switchboard.auth.allowed-origins}, else the
 * node's own host) decides, and an allowed origin gets the CORS answer — the preflight ({@code
 * OPTIONS}) for JSON bodies with an {@code Authorization} header, and {@code
 * Access-Control-Allow-Origin} (with credentials, so a token cookie works) on every call. A foreign
 * origin's preflight is 403, as its calls are.
 */
final class LongPollCors {
  private static final long PREFLIGHT_MAX_AGE_SECONDS = 600;

  private LongPollCors() {}

  /** Answers preflights, and adds the CORS headers to {@code inner}'s answers. */
  static Route wrap(Gatekeeper gate, Supplier<Route> inner) {
    return Directives.extractRequest(
        request -> {
          Optional<String> origin = header(request, "Origin");
          if (origin.isEmpty()) {
            return inner.get();
          }
          boolean allowed = gate.allowsOrigin(origin, header(request, "Host"));
          List<HttpHeader> cors =
              List.of(
                  HttpHeader.parse("Access-Control-Allow-Origin", origin.get()),
                  HttpHeader.parse("Access-Control-Allow-Credentials", "true"),
                  HttpHeader.parse("Vary", "Origin"));
          return Directives.concat(
              Directives.options(
                  () ->
                      Directives.complete(
                          allowed
                              ? HttpResponse.create()
                                  .withStatus(StatusCodes.NO_CONTENT)
                                  .addHeaders(cors)
                                  .addHeader(
                                      HttpHeader.parse("Access-Control-Allow-Methods", "POST"))
                                  .addHeader(
                                      HttpHeader.parse(
                                          "Access-Control-Allow-Headers",
                                          "authorization, content-type"))
                                  .addHeader(
                                      HttpHeader.parse(
                                          "Access-Control-Max-Age",
                                          Long.toString(PREFLIGHT_MAX_AGE_SECONDS)))
                              : HttpResponse.create()
                                  .withStatus(StatusCodes.FORBIDDEN)
                                  .withEntity("origin not allowed\n"))),
              allowed ? Directives.respondWithHeaders(cors, inner) : inner.get());
        });
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }
}
