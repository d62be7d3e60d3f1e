package io.switchboard.persistence.redis;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionId;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.EqualJitterDelay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one {@link RedissonClient} per actor system and {@link RedisSettings}, so that a journal
 * and a snapshot store pointing at the same connection block share connections.
 *
 * <p>Creating a Redisson client connects to Redis and blocks until it has, so clients are created
 * on a thread of this extension, never on a caller's (an actor's dispatcher): {@link
 * #client(RedisSettings)} answers at once with a future. While Redis cannot be reached the creation
 * is retried every {@code reconnect-max-delay}, so a Redis that is down when the plugins start is
 * used as soon as it is up; once created, Redisson reconnects by itself. Clients are shut down when
 * the actor system terminates, after every plugin actor has stopped. Thread-safe.
 */
public final class RedisClients implements Extension {

  private static final Logger log = LoggerFactory.getLogger(RedisClients.class);

  /** The extension id; use {@link #get(ClassicActorSystemProvider)}. */
  public static final ExtensionId<RedisClients> ID = new Id();

  private final ConcurrentHashMap<RedisSettings, CompletableFuture<RedissonClient>> clients =
      new ConcurrentHashMap<>();
  private final ScheduledExecutorService connector =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "switchboard-redis-connector");
            thread.setDaemon(true);
            return thread;
          });
  private volatile boolean terminated;

  private RedisClients(ExtendedActorSystem system) {
    system.registerOnTermination(this::shutdownAll);
  }

  /** The extension of a classic or typed actor system. */
  public static RedisClients get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /**
   * The shared client for these settings, completed once it has connected. Never blocks.
   *
   * @throws IllegalStateException if the settings name no Redis, or the system has terminated
   * @throws IllegalArgumentException if a Redisson configuration cannot be read
   */
  public CompletionStage<RedissonClient> client(RedisSettings settings) {
    if (terminated) throw new IllegalStateException("Actor system terminated: no Redis client");
    return clients.computeIfAbsent(settings, this::connect);
  }

  /** True when the settings describe a Redis Cluster, where one script may touch one slot only. */
  public static boolean isCluster(RedisSettings settings) {
    return redissonConfig(settings).isClusterConfig();
  }

  private CompletableFuture<RedissonClient> connect(RedisSettings settings) {
    if (!settings.hasAddress()) {
      throw new IllegalStateException(
          "No Redis address configured: set switchboard.redis.url (or SWITCHBOARD_REDIS_URL), "
              + "switchboard.redis.config-file or switchboard.redis.config");
    }
    redissonConfig(settings); // an unreadable configuration fails the caller, not the connector
    CompletableFuture<RedissonClient> client = new CompletableFuture<>();
    connector.execute(() -> attempt(settings, client, 1));
    return client;
  }

  private void attempt(RedisSettings settings, CompletableFuture<RedissonClient> client, int n) {
    if (terminated) return;
    try {
      Config config = redissonConfig(settings);
      // Redisson's live-object references are unused here, and checking every argument for them
      // costs time on each command.
      config.setReferenceEnabled(false);
      RedissonClient created = Redisson.create(config);
      if (n > 1) log.info("Connected to {} after {} attempts", settings.address(), n);
      else log.info("Connected to {} (key prefix [{}])", settings.address(), settings.keyPrefix());
      if (terminated) created.shutdown(0, 2, TimeUnit.SECONDS);
      else client.complete(created);
    } catch (LinkageError e) {
      // A class missing from the classpath does not heal by retrying: fail every caller with it.
      log.error("Cannot create a Redis client for {}: {}", settings.address(), e.toString(), e);
      client.completeExceptionally(e);
    } catch (RuntimeException e) {
      Duration pause = settings.reconnectMaxDelay();
      if (n == 1) {
        log.warn(
            "Cannot connect to {} ({}); retrying every {} ms",
            settings.address(),
            e.getMessage(),
            pause.toMillis());
      }
      connector.schedule(
          () -> attempt(settings, client, n + 1), pause.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  static Config redissonConfig(RedisSettings settings) {
    if (!settings.configFile().isEmpty()) {
      try {
        return Config.fromYAML(new File(settings.configFile()));
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "Cannot read Redisson configuration file [" + settings.configFile() + "]", e);
      }
    }
    if (!settings.inlineConfig().isEmpty()) {
      try {
        return Config.fromYAML(settings.inlineConfig());
      } catch (IOException e) {
        throw new IllegalArgumentException("Cannot parse inline Redisson configuration", e);
      }
    }
    Config config = new Config();
    if (settings.nettyThreads() > 0) config.setNettyThreads(settings.nettyThreads());
    config
        .useSingleServer()
        .setAddress(settings.url())
        .setDatabase(settings.database())
        .setConnectTimeout(millis(settings.connectTimeout()))
        .setTimeout(millis(settings.responseTimeout()))
        .setRetryAttempts(settings.retryAttempts())
        .setRetryDelay(new ConstantDelay(settings.retryInterval()))
        .setReconnectionDelay(
            new EqualJitterDelay(
                min(Duration.ofMillis(100), settings.reconnectMaxDelay()),
                settings.reconnectMaxDelay()))
        .setPingConnectionInterval(millis(settings.pingInterval()))
        .setConnectionPoolSize(settings.connectionPoolSize())
        .setConnectionMinimumIdleSize(settings.connectionMinimumIdleSize())
        .setSubscriptionConnectionMinimumIdleSize(0)
        .setSubscriptionConnectionPoolSize(1);
    return config;
  }

  private void shutdownAll() {
    terminated = true;
    connector.shutdownNow();
    clients.forEach(
        (settings, client) -> {
          client.completeExceptionally(new IllegalStateException("Actor system terminated"));
          if (client.isCompletedExceptionally()) return;
          log.info("Shutting down Redisson client for {}", settings.address());
          // Quiet period 0: every plugin actor has stopped when termination callbacks run.
          client.join().shutdown(0, 2, TimeUnit.SECONDS);
        });
    clients.clear();
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static final class Id extends AbstractExtensionId<RedisClients>
      implements ExtensionIdProvider {
    @Override
    public RedisClients createExtension(ExtendedActorSystem system) {
      return new RedisClients(system);
    }

    @Override
    public ExtensionId<? extends Extension> lookup() {
      return ID;
    }
  }
}
