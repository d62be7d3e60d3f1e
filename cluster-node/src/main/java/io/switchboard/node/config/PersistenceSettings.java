package io.switchboard.node.config;

import com.typesafe.config.Config;

/** Which journal and snapshot plugins the entities use ({@code switchboard.persistence}). */
public record PersistenceSettings(String journalPlugin, String snapshotPlugin) {

  /** Reads {@code switchboard.persistence}. */
  public static PersistenceSettings create(Config config) {
    Config c = config.getConfig("switchboard.persistence");
    return new PersistenceSettings(c.getString("journal-plugin"), c.getString("snapshot-plugin"));
  }
}
