package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The long-poll transport ({@code switchboard.edge.long-poll-*}): where it is served, how long a
 * poll is held, how long a node keeps an idle long-poll socket. Frame size, outbound buffer and
 * heartbeat come from {@link EdgeSettings} like every other connection's.
 */
public record LongPollSettings(
    String path, Duration hold, Duration linger, Duration idleTimeout, int maxBatch) {

  /** Reads {@code switchboard.edge.long-poll-*}. */
  public static LongPollSettings create(Config config) {
    Config c = config.getConfig("switchboard.edge");
    return new LongPollSettings(
        c.getString("long-poll-path"),
        c.getDuration("long-poll-hold"),
        c.getDuration("long-poll-linger"),
        c.getDuration("long-poll-idle-timeout"),
        c.getInt("long-poll-max-batch"));
  }
}
