package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** How long a user's session index stays in memory unused ({@code switchboard.user}). */
public record UserSettings(Duration idleTimeout) {

  /** Reads {@code switchboard.user}. */
  public static UserSettings create(Config config) {
    return new UserSettings(config.getDuration("switchboard.user.idle-timeout"));
  }
}
