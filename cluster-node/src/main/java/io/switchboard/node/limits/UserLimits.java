package io.switchboard.node.limits;

import io.switchboard.node.config.LimitSettings;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user limiters of a node: frames per second and connections, counted cluster-wide in Redis
 * when the node has one and on the node otherwise; a limit of 0 is no limit.
 */
public record UserLimits(UserRateLimiter frames, ConnectionSlots connections) {
  private static final Logger log = LoggerFactory.getLogger(UserLimits.class);

  /**
   * The limiters for {@code limits}, in the Redis of {@code redis} (keys under {@code keyPrefix})
   * when it is not null; Redis slot leases are renewed on the system's scheduler.
   */
  public static UserLimits create(
      ActorSystem<?> system,
      LimitSettings limits,
      CompletionStage<RedissonClient> redis,
      String keyPrefix) {
    UserRateLimiter frames;
    ConnectionSlots connections;
    if (redis != null) {
      frames =
          limits.userFramesPerSecond() > 0
              ? new RedisUserRateLimiter(redis, keyPrefix, limits.userFramesPerSecond())
              : UserRateLimiter.unlimited();
      if (limits.userConnections() > 0) {
        RedisConnectionSlots slots =
            new RedisConnectionSlots(
                redis, keyPrefix, limits.userConnections(), limits.connectionLease());
        system
            .scheduler()
            .scheduleWithFixedDelay(
                slots.renewInterval(),
                slots.renewInterval(),
                slots::renewAll,
                system.executionContext());
        connections = slots;
      } else {
        connections = ConnectionSlots.unlimited();
      }
    } else {
      frames =
          limits.userFramesPerSecond() > 0
              ? new LocalUserRateLimiter(limits.userFramesPerSecond())
              : UserRateLimiter.unlimited();
      connections =
          limits.userConnections() > 0
              ? new LocalConnectionSlots(limits.userConnections())
              : ConnectionSlots.unlimited();
    }
    log.info(
        "Limits per user ({}): {} frames/s, {} connections",
        redis != null ? "cluster-wide in Redis" : "on this node",
        limits.userFramesPerSecond() > 0 ? limits.userFramesPerSecond() : "unlimited",
        limits.userConnections() > 0 ? limits.userConnections() : "unlimited");
    return new UserLimits(frames, connections);
  }
}
