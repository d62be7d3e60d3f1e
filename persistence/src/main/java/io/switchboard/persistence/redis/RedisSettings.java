package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Typed settings of one Redis connection block (by default {@code switchboard.redis}, see {@code
 * reference.conf}): where Redis is, how Redisson talks to it, and the plugin's own limits. The only
 * class of this module that reads {@link Config}. Immutable; equal settings share one Redisson
 * client per actor system ({@link RedisClients}).
 *
 * @param url single-server address such as {@code redis://127.0.0.1:6379}; empty when a Redisson
 *     configuration file or inline configuration is used instead, or when nothing is configured
 * @param configFile path of a Redisson YAML configuration (Sentinel, Cluster, ...), or empty
 * @param inlineConfig Redisson YAML configuration text, or empty
 * @param database database index used with {@code url}
 * @param keyPrefix prefix of every key the plugin writes
 * @param connectTimeout time allowed to open a TCP connection
 * @param responseTimeout time Redis has to answer one command before Redisson retries it
 * @param retryAttempts how many times Redisson re-sends a command that could not be sent or timed
 *     out
 * @param retryInterval pause between two attempts
 * @param reconnectMaxDelay upper bound of the growing pause between reconnection attempts
 * @param pingInterval interval of PINGs that detect dead connections; zero disables them
 * @param operationTimeout hard limit of every plugin operation, retries included
 * @param connectionPoolSize maximum number of connections to the (master) server
 * @param connectionMinimumIdleSize connections kept open while idle
 * @param nettyThreads Netty I/O threads of the Redisson client
 * @param maxBatchSize maximum number of events sent to Redis in one pipelined batch
 * @param maxBatchesInFlight journal batches sent and not yet answered, at most; writes arriving
 *     meanwhile wait and travel together in the next batch
 * @param replayPageSize number of events read per round trip during replay
 */
public record RedisSettings(
    String url,
    String configFile,
    String inlineConfig,
    int database,
    String keyPrefix,
    Duration connectTimeout,
    Duration responseTimeout,
    int retryAttempts,
    Duration retryInterval,
    Duration reconnectMaxDelay,
    Duration pingInterval,
    Duration operationTimeout,
    int connectionPoolSize,
    int connectionMinimumIdleSize,
    int nettyThreads,
    int maxBatchSize,
    int maxBatchesInFlight,
    int replayPageSize) {

  /** The connection block used when a plugin does not name another one. */
  public static final String DEFAULT_PATH = "switchboard.redis";

  /** Validates the values; see {@code reference.conf} for their meaning. */
  public RedisSettings {
    require(keyPrefix != null && !keyPrefix.isBlank(), "key-prefix must not be empty");
    require(
        !keyPrefix.contains("{") && !keyPrefix.contains("}"), "key-prefix must not hold braces");
    require(database >= 0, "database must be >= 0");
    require(retryAttempts >= 0, "retry-attempts must be >= 0");
    require(positive(connectTimeout), "connect-timeout must be > 0");
    require(positive(responseTimeout), "response-timeout must be > 0");
    require(positive(operationTimeout), "operation-timeout must be > 0");
    require(positive(reconnectMaxDelay), "reconnect-max-delay must be > 0");
    require(!retryInterval.isNegative(), "retry-interval must be >= 0");
    require(!pingInterval.isNegative(), "ping-interval must be >= 0");
    require(connectionPoolSize >= 1, "connection-pool-size must be >= 1");
    require(
        connectionMinimumIdleSize >= 0 && connectionMinimumIdleSize <= connectionPoolSize,
        "connection-minimum-idle-size must be between 0 and connection-pool-size");
    require(nettyThreads >= 0, "netty-threads must be >= 0");
    require(maxBatchSize >= 1, "max-batch-size must be >= 1");
    require(maxBatchesInFlight >= 1, "max-batches-in-flight must be >= 1");
    require(replayPageSize >= 1, "replay-page-size must be >= 1");
  }

  /**
   * Reads a connection block shaped like {@code switchboard.redis}.
   *
   * @param config the block itself, e.g. {@code
   *     system.settings().config().getConfig("switchboard.redis")}
   */
  public static RedisSettings create(Config config) {
    return new RedisSettings(
        config.getString("url").trim(),
        config.getString("config-file").trim(),
        config.getString("config").trim(),
        config.getInt("database"),
        config.getString("key-prefix"),
        config.getDuration("connect-timeout"),
        config.getDuration("response-timeout"),
        config.getInt("retry-attempts"),
        config.getDuration("retry-interval"),
        config.getDuration("reconnect-max-delay"),
        config.getDuration("ping-interval"),
        config.getDuration("operation-timeout"),
        config.getInt("connection-pool-size"),
        config.getInt("connection-minimum-idle-size"),
        config.getInt("netty-threads"),
        config.getInt("max-batch-size"),
        config.getInt("max-batches-in-flight"),
        config.getInt("replay-page-size"));
  }

  /**
   * Reads the connection block a journal or snapshot-store plugin points at with its {@code redis}
   * key (a config path, {@value #DEFAULT_PATH} unless overridden).
   *
   * @param systemConfig the actor system's whole configuration
   * @param pluginConfig the plugin's own section, as Pekko hands it to the plugin
   */
  public static RedisSettings forPlugin(Config systemConfig, Config pluginConfig) {
    String path = pluginConfig.hasPath("redis") ? pluginConfig.getString("redis") : DEFAULT_PATH;
    return create(systemConfig.getConfig(path));
  }

  /** True when a server address, a Redisson configuration file or inline configuration is set. */
  public boolean hasAddress() {
    return !url.isEmpty() || !configFile.isEmpty() || !inlineConfig.isEmpty();
  }

  /** Where Redis is, for log lines and error messages. */
  public String address() {
    if (!configFile.isEmpty()) return "Redis configured by " + configFile;
    if (!inlineConfig.isEmpty()) return "Redis configured inline";
    if (!url.isEmpty()) return "Redis at " + withoutPassword(url);
    return "Redis (no address configured)";
  }

  /** These settings with another single-server address, e.g. of an {@code EmbeddedRedis}. */
  public RedisSettings withUrl(String newUrl) {
    return new RedisSettings(
        newUrl,
        configFile,
        inlineConfig,
        database,
        keyPrefix,
        connectTimeout,
        responseTimeout,
        retryAttempts,
        retryInterval,
        reconnectMaxDelay,
        pingInterval,
        operationTimeout,
        connectionPoolSize,
        connectionMinimumIdleSize,
        nettyThreads,
        maxBatchSize,
        maxBatchesInFlight,
        replayPageSize);
  }

  @Override
  public String toString() {
    return "RedisSettings[" + address() + ", key-prefix=" + keyPrefix + "]";
  }

  private static String withoutPassword(String url) {
    int at = url.lastIndexOf('@');
    int scheme = url.indexOf("://");
    return at < 0 || scheme < 0
        ? url
        : url.substring(0, scheme + 3) + "***@" + url.substring(at + 1);
  }

  private static boolean positive(Duration d) {
    return d != null && !d.isNegative() && !d.isZero();
  }

  private static void require(boolean condition, String message) {
    if (!condition) throw new IllegalArgumentException("Invalid Redis settings: " + message);
  }
}
