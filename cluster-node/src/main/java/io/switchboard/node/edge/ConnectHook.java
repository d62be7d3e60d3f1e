package io.switchboard.node.edge;

import com.google.protobuf.ByteString;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.backend.Backend;
import io.switchboard.node.backend.BackendRouterActor;
import io.switchboard.node.backend.Backends;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The connect hook: asks the backend worker serving {@code CONNECT <hook path>} (through the node's
 * backend router, so the worker may sit behind any node) to decide on an upgrade that carries no
 * token, from its headers, cookies and query. The {@link Gatekeeper} turns the answer into a
 * decision; no worker, a worker gone or no answer in time is HTTP 503. Never fails its future.
 */
final class ConnectHook {
  private ConnectHook() {}

  static CompletionStage<Gatekeeper.UpgradeDecision> decide(
      ActorSystem<?> system, Gatekeeper gate, HttpRequest request) {
    Map<String, String> headers = new HashMap<>();
    for (HttpHeader h : request.getHeaders()) {
      String name = h.lowercaseName().toLowerCase(Locale.ROOT);
      if (!name.startsWith("sec-websocket-")) {
        headers.merge(name, h.value(), (a, b) -> a + (name.equals("cookie") ? "; " : ", ") + b);
      }
    }
    String path =
        gate.connectHookPath() + request.getUri().rawQueryString().map(q -> "?" + q).orElse("");
    Backend.ClientRequest hook =
        new Backend.ClientRequest("CONNECT", path, headers, ByteString.EMPTY, "", "");
    Duration timeout = gate.connectHookTimeout();
    return AskPattern.<BackendRouterActor.Command, Backend.Answer>ask(
            Backends.get(system).router(),
            replyTo -> new BackendRouterActor.RouteRequest(hook, timeout.toMillis(), replyTo),
            timeout.plusSeconds(1),
            system.scheduler())
        .handle(
            (answer, failure) -> {
              if (answer == null) {
                return gate.hookUnavailable("no answer in time");
              }
              return switch (answer.outcome()) {
                case REPLIED -> gate.hookAnswer(answer.status(), answer.headers());
                case NO_ROUTE ->
                    gate.hookUnavailable("no worker serves CONNECT " + gate.connectHookPath());
                case BACKEND_GONE -> gate.hookUnavailable("the worker went away");
              };
            });
  }
}
