package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The backend API ({@code switchboard.api}): accepted API keys, where gRPC listens, and the bounds
 * of its calls. An empty key list means the API refuses every call.
 */
public record ApiSettings(
    List<String> keys,
    int grpcPort,
    Duration askTimeout,
    Duration clientAskDefaultTimeout,
    Duration clientAskMaxTimeout,
    int historyMaxPage,
    int presenceMaxMembers,
    int maxJsonBody) {

  /** Reads {@code switchboard.api}; {@code api.key} (SWITCHBOARD_API_KEY) adds one key. */
  public static ApiSettings create(Config config) {
    Config c = config.getConfig("switchboard.api");
    List<String> keys = new ArrayList<>();
    for (String key : c.getStringList("keys")) {
      if (!key.isBlank()) {
        keys.add(key);
      }
    }
    if (!c.getString("key").isBlank()) {
      keys.add(c.getString("key"));
    }
    int grpcPort = c.getInt("grpc-port");
    int offset = config.getInt("switchboard.node.port-offset");
    return new ApiSettings(
        List.copyOf(keys),
        grpcPort == 0 ? 0 : grpcPort + offset,
        c.getDuration("ask-timeout"),
        c.getDuration("client-ask.default-timeout"),
        c.getDuration("client-ask.max-timeout"),
        c.getInt("history-max-page"),
        c.getInt("presence-max-members"),
        (int) c.getMemorySize("max-json-body").toBytes());
  }

  /** How long an Ask waits for the browser: the requested time (0: the default), bounded. */
  public Duration clientAskTimeout(long requestedMs) {
    Duration wanted = requestedMs <= 0 ? clientAskDefaultTimeout : Duration.ofMillis(requestedMs);
    return wanted.compareTo(clientAskMaxTimeout) > 0 ? clientAskMaxTimeout : wanted;
  }

  /** Whether gRPC gets a port of its own (otherwise it shares the HTTP port over HTTP/2). */
  public boolean separateGrpcPort(int httpPort) {
    return grpcPort != 0 && grpcPort != httpPort;
  }

  /** These settings with other keys (the development key a node generates when it has none). */
  public ApiSettings withKeys(List<String> newKeys) {
    return new ApiSettings(
        List.copyOf(newKeys),
        grpcPort,
        askTimeout,
        clientAskDefaultTimeout,
        clientAskMaxTimeout,
        historyMaxPage,
        presenceMaxMembers,
        maxJsonBody);
  }
}
