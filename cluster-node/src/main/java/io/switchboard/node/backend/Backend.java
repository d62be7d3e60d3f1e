package io.switchboard.node.backend;

import com.google.protobuf.ByteString;
import io.switchboard.node.ClusterMessage;
import java.util.Map;

/**
 * What connections, routers and workers tell each other about browser requests: the request, its
 * answer, one-way messages and connection lifecycle events. Records only (they cross nodes).
 */
public final class Backend {
  private Backend() {}

  /** A browser's request and who sent it. */
  public record ClientRequest(
      String method,
      String path,
      Map<String, String> headers,
      ByteString body,
      String userId,
      String sessionId) {}

  /** A browser's one-way message and who sent it. */
  public record ClientMessage(
      String path, Map<String, String> headers, ByteString body, String userId, String sessionId) {}

  /** How a request ended. */
  public enum Outcome {
    /** A worker answered. */
    REPLIED,
    /** No worker serves the request's method and path. */
    NO_ROUTE,
    /** The worker handling the request went away before answering. */
    BACKEND_GONE
  }

  /** The one answer to a request. */
  public record Answer(
      Outcome outcome, int status, Map<String, String> headers, ByteString body, String reason)
      implements ClusterMessage {

    /** A worker's reply. */
    public static Answer replied(int status, Map<String, String> headers, ByteString body) {
      return new Answer(Outcome.REPLIED, status, headers, body, "");
    }

    /** A request that no worker answered. */
    public static Answer failed(Outcome outcome, String reason) {
      return new Answer(outcome, 0, Map.of(), ByteString.EMPTY, reason);
    }
  }

  /** A one-way message of frame {@code frameId} went nowhere. */
  public record Refusal(long frameId, String reason) {}

  /** What happened to a browser connection. */
  public enum EventKind {
    CONNECTED,
    DISCONNECTED,
    JOINED,
    LEFT
  }

  /** A lifecycle event of a connection; {@code groupId} is empty unless JOINED or LEFT. */
  public record Event(
      EventKind kind, String sessionId, String userId, String groupId, boolean resumed, String node)
      implements ClusterMessage {}

  /** A route pattern a worker registered (method upper-case or "*", path template). */
  public record Route(String method, String path) {}

  /** A route pattern and how many workers serve it. */
  public record RouteCount(String method, String path, int workers) {}
}
