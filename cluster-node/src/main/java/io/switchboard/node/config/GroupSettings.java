package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** Log retention, idempotency and fan-out timings of groups ({@code switchboard.group}). */
public record GroupSettings(
    int retentionMaxCount,
    Duration retentionMaxAge,
    int idempotencyMaxCount,
    Duration idempotencyMaxAge,
    Duration trimInterval,
    int snapshotEvery,
    Duration fanoutRefreshInterval,
    Duration idleTimeout) {

  /** Reads {@code switchboard.group}. */
  public static GroupSettings create(Config config) {
    Config c = config.getConfig("switchboard.group");
    return new GroupSettings(
        c.getInt("retention.max-count"),
        c.getDuration("retention.max-age"),
        c.getInt("idempotency-window.max-count"),
        c.getDuration("idempotency-window.max-age"),
        c.getDuration("trim-interval"),
        c.getInt("snapshot-every"),
        c.getDuration("fanout-refresh-interval"),
        c.getDuration("idle-timeout"));
  }
}
