package io.switchboard.node.bridge;

import io.switchboard.node.ClusterMessage;
import java.util.Map;

/**
 * What makes a new session a bridge session: the route it was opened on and the upstream request
 * headers taken from the browser's upgrade (the route's pass-headers). Journaled with the session,
 * so any node can reconnect upstream on its behalf.
 *
 * @param route the bridge route's name
 * @param headers header name (lower case) to value
 */
public record BridgeBinding(String route, Map<String, String> headers) implements ClusterMessage {
  /** A binding; the headers are copied. */
  public BridgeBinding {
    headers = Map.copyOf(headers);
  }
}
