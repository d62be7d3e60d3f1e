package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Routing of browser requests to backend workers and of node requests to browsers ({@code
 * switchboard.backend}): timeouts, and the bounds that keep one connection or one worker from
 * holding unbounded state.
 */
public record BackendSettings(
    Duration requestTimeout,
    Duration maxRequestTimeout,
    int maxPendingRequests,
    int maxPendingAsks,
    int workerBuffer,
    int maxRoutesPerWorker) {

  /** Reads {@code switchboard.backend}. */
  public static BackendSettings create(Config config) {
    Config c = config.getConfig("switchboard.backend");
    return new BackendSettings(
        c.getDuration("request-timeout"),
        c.getDuration("max-request-timeout"),
        c.getInt("max-pending-requests"),
        c.getInt("max-pending-asks"),
        c.getInt("worker-buffer"),
        c.getInt("max-routes-per-worker"));
  }

  /**
   * How long a request waits for its answer: what the asker asked for ({@code 0}: the default),
   * never more than the maximum.
   */
  public Duration timeoutFor(long requestedMs) {
    Duration wanted = requestedMs <= 0 ? requestTimeout : Duration.ofMillis(requestedMs);
    return wanted.compareTo(maxRequestTimeout) > 0 ? maxRequestTimeout : wanted;
  }
}
