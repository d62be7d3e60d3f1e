package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.RedisServerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

class RedisClientsTest {

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();

  @TempDir Path directory;

  private RedisSettings settings(String overrides) {
    Config config =
        ConfigFactory.parseString(overrides)
            .withFallback(ConfigFactory.parseString("url = \"" + redis.url() + "\""))
            .withFallback(ConfigFactory.load().getConfig("switchboard.redis"));
    return RedisSettings.create(config);
  }

  @Test
  void equalSettingsShareOneClientThatIsShutDownWithTheSystem() throws Exception {
    ActorTestKit testKit = ActorTestKit.create();
    RedissonClient client;
    try {
      RedisClients clients = RedisClients.get(testKit.system());
      client = clients.client(settings("")).toCompletableFuture().get();
      assertSame(client, clients.client(settings("")).toCompletableFuture().get());
      assertNotSame(
          client, clients.client(settings("key-prefix = other")).toCompletableFuture().get());
      client.getBucket("k", StringCodec.INSTANCE).set("v");
      assertEquals("v", client.getBucket("k", StringCodec.INSTANCE).get());
    } finally {
      testKit.shutdownTestKit();
    }
    assertTrue(client.isShutdown());
    assertThrows(
        IllegalStateException.class, () -> RedisClients.get(testKit.system()).client(settings("")));
  }

  @Test
  void aRedissonYamlConfigurationFileOrInlineTextReplacesTheUrl() throws Exception {
    String yaml =
        """
        singleServerConfig:
          address: "%s"
          timeout: 1000
        """
            .formatted(redis.url());
    Path file = Files.writeString(directory.resolve("redisson.yaml"), yaml);
    ActorTestKit testKit = ActorTestKit.create();
    try {
      RedisClients clients = RedisClients.get(testKit.system());
      RedisSettings fromFile = settings("url = \"\", config-file = \"" + file + "\"");
      RedisSettings inline = settings("url = \"\", config = \"\"\"" + yaml + "\"\"\"");
      assertEquals("Redis configured by " + file, fromFile.address());
      clients
          .client(fromFile)
          .toCompletableFuture()
          .get()
          .getBucket("f", StringCodec.INSTANCE)
          .set("file");
      clients
          .client(inline)
          .toCompletableFuture()
          .get()
          .getBucket("i", StringCodec.INSTANCE)
          .set("inline");
      assertEquals(
          "file",
          clients
              .client(inline)
              .toCompletableFuture()
              .get()
              .getBucket("f", StringCodec.INSTANCE)
              .get());
      assertEquals(
          "inline",
          clients
              .client(fromFile)
              .toCompletableFuture()
              .get()
              .getBucket("i", StringCodec.INSTANCE)
              .get());
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void anUnreadableConfigurationFileIsReportedWithItsPath() {
    ActorTestKit testKit = ActorTestKit.create();
    try {
      RedisSettings settings = settings("url = \"\", config-file = \"/nonexistent/redisson.yaml\"");
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> RedisClients.get(testKit.system()).client(settings));
      assertTrue(e.getMessage().contains("/nonexistent/redisson.yaml"), e.getMessage());
    } finally {
      testKit.shutdownTestKit();
    }
  }
}
