package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.RedisServerExtension;

/** Configuration shared by the plugin tests. */
final class TestConfig {

  private TestConfig() {}

  /**
   * The Redis plugins on the given server, the test serializer, plugin commands published (as the
   * TCK expects), and small batches and replay pages so that splitting and paging run in tests.
   */
  static Config forServer(RedisServerExtension redis) {
    return ConfigFactory.parseString(
            """
            # generous defaults for expectations, so that a loaded machine slows tests down
            # instead of failing them; timing assertions use explicit bounds
            pekko.test.single-expect-default = 10s
            pekko.actor.testkit.typed.single-expect-default = 10s
            pekko.persistence.publish-plugin-commands = on
            pekko.actor.serializers.switchboard-test = "io.switchboard.persistence.redis.TestSerializer"
            pekko.actor.serialization-bindings {
              "io.switchboard.persistence.redis.TestPayload" = switchboard-test
              "io.switchboard.persistence.redis.CounterEntity$Added" = switchboard-test
            }
            switchboard.redis.max-batch-size = 50
            switchboard.redis.replay-page-size = 7
            """)
        .withFallback(redis.pluginConfig());
  }
}
