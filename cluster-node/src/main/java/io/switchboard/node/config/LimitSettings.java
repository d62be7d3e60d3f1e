package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Limits per user across the cluster and per frame ({@code switchboard.limits}). The limits of one
 * connection (frame size and rate, groups, in-flight requests) are in {@link EdgeSettings}.
 */
public record LimitSettings(
    int userFramesPerSecond,
    int userConnections,
    Duration connectionLease,
    int maxPayloadSize,
    int maxCursors,
    int maxHeaders,
    int maxTokenSize) {

  /** Reads {@code switchboard.limits}. */
  public static LimitSettings create(Config config) {
    Config c = config.getConfig("switchboard.limits");
    return new LimitSettings(
        c.getInt("per-user.frames-per-second"),
        c.getInt("per-user.connections"),
        c.getDuration("per-user.connection-lease"),
        (int) c.getMemorySize("max-payload-size").toBytes(),
        c.getInt("max-cursors"),
        c.getInt("max-headers"),
        (int) c.getMemorySize("max-token-size").toBytes());
  }
}
