package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * Which journal and snapshot plugins the entities use, and the embedded Redis the node starts when
 * it uses the Redis plugins without a configured Redis ({@code switchboard.persistence}, {@code
 * switchboard.redis}).
 */
public record PersistenceSettings(
    String journalPlugin,
    String snapshotPlugin,
    boolean redisConfigured,
    int embeddedRedisPort,
    Path embeddedRedisDir,
    String embeddedRedisAppendFsync) {

  /** The journal plugin id of the persistence module. */
  public static final String REDIS_JOURNAL = "switchboard.persistence.journal";

  /** The snapshot store plugin id of the persistence module. */
  public static final String REDIS_SNAPSHOTS = "switchboard.persistence.snapshot-store";

  /** Reads {@code switchboard.persistence} and {@code switchboard.redis}. */
  public static PersistenceSettings create(Config config) {
    Config c = config.getConfig("switchboard");
    boolean configured =
        !c.getString("redis.url").isBlank()
            || !c.getString("redis.config-file").isBlank()
            || !c.getString("redis.config").isBlank();
    return new PersistenceSettings(
        c.getString("persistence.journal-plugin"),
        c.getString("persistence.snapshot-plugin"),
        configured,
        c.getInt("redis.embedded.port"),
        Path.of(c.getString("redis.embedded.data-dir")),
        c.getString("redis.embedded.appendfsync"));
  }

  /** The entities persist into Redis. */
  public boolean usesRedis() {
    return REDIS_JOURNAL.equals(journalPlugin) || REDIS_SNAPSHOTS.equals(snapshotPlugin);
  }

  /** The node must start its own Redis: it uses Redis and none is configured. */
  public boolean needsEmbeddedRedis() {
    return usesRedis() && !redisConfigured;
  }
}
