package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisSettingsTest {

  private static Config load(String overrides) {
    ConfigFactory.invalidateCaches();
    return ConfigFactory.load(ConfigFactory.parseString(overrides));
  }

  @Test
  void referenceConfHasUsableDefaults() {
    Config config = load("");
    RedisSettings settings = RedisSettings.create(config.getConfig("switchboard.redis"));
    assertEquals("sb", settings.keyPrefix());
    assertEquals(Duration.ofSeconds(10), settings.operationTimeout());
    assertEquals(500, settings.maxBatchSize());
    assertEquals(500, settings.replayPageSize());
    assertEquals(
        "io.switchboard.persistence.redis.RedisJournal",
        config.getString("switchboard.persistence.journal.class"));
    assertEquals(
        "io.switchboard.persistence.redis.RedisSnapshotStore",
        config.getString("switchboard.persistence.snapshot-store.class"));
    assertTrue(
        config
                .getDuration("switchboard.persistence.journal.circuit-breaker.call-timeout")
                .compareTo(settings.operationTimeout())
            > 0,
        "the circuit breaker must not time out before the operation timeout");
  }

  @Test
  void aPluginReadsTheConnectionBlockItNames() {
    Config config =
        load(
            """
            switchboard.redis.url = "redis://127.0.0.1:7000"
            other-redis = ${switchboard.redis} { url = "redis://127.0.0.1:7001", key-prefix = "o" }
            switchboard.persistence.snapshot-store.redis = other-redis
            """);
    RedisSettings journal =
        RedisSettings.forPlugin(config, config.getConfig("switchboard.persistence.journal"));
    RedisSettings snapshots =
        RedisSettings.forPlugin(config, config.getConfig("switchboard.persistence.snapshot-store"));
    assertEquals("redis://127.0.0.1:7000", journal.url());
    assertEquals("redis://127.0.0.1:7001", snapshots.url());
    assertEquals("o", snapshots.keyPrefix());
  }

  @Test
  void anEmptyUrlMeansNoAddress() {
    RedisSettings settings =
        RedisSettings.create(load("switchboard.redis.url = \"\"").getConfig("switchboard.redis"));
    assertFalse(settings.hasAddress());
    assertTrue(settings.withUrl("redis://127.0.0.1:7000").hasAddress());
  }

  @Test
  void theAddressNeverShowsAPassword() {
    RedisSettings settings =
        RedisSettings.create(
            load("switchboard.redis.url = \"redis://user:secret@host:6380\"")
                .getConfig("switchboard.redis"));
    assertEquals("Redis at redis://***@host:6380", settings.address());
    assertFalse(settings.toString().contains("secret"));
  }

  @Test
  void invalidValuesAreRefusedWithTheKeyName() {
    Config config = load("switchboard.redis.max-batch-size = 0");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RedisSettings.create(config.getConfig("switchboard.redis")));
    assertTrue(e.getMessage().contains("max-batch-size"), e.getMessage());
  }

  @Test
  void aClientNeedsAnAddress() {
    RedisSettings settings =
        RedisSettings.create(load("switchboard.redis.url = \"\"").getConfig("switchboard.redis"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> RedisClientsAccess.create(settings));
    assertTrue(e.getMessage().contains("switchboard.redis.url"), e.getMessage());
  }

  /** Builds a client outside an actor system, only to check the refusal. */
  private static final class RedisClientsAccess {
    static void create(RedisSettings settings) {
      org.apache.pekko.actor.ActorSystem system =
          org.apache.pekko.actor.ActorSystem.create("settings-test");
      try {
        RedisClients.get(system).client(settings);
      } finally {
        system.terminate();
      }
    }
  }
}
