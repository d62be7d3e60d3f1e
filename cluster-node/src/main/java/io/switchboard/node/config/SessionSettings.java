package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** Lifetime and inbox retention of sessions ({@code switchboard.session}). */
public record SessionSettings(
    Duration detachedTimeout,
    int inboxMaxCount,
    Duration inboxMaxAge,
    int snapshotEvery,
    Duration cursorForwardInterval,
    Duration askTimeout) {

  /** Reads {@code switchboard.session}. */
  public static SessionSettings create(Config config) {
    Config c = config.getConfig("switchboard.session");
    return new SessionSettings(
        c.getDuration("detached-timeout"),
        c.getInt("inbox.max-count"),
        c.getDuration("inbox.max-age"),
        c.getInt("snapshot-every"),
        c.getDuration("cursor-forward-interval"),
        c.getDuration("ask-timeout"));
  }
}
