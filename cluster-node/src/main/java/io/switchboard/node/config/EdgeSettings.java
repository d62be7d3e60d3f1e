package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** Limits and timings of client connections ({@code switchboard.edge}). */
public record EdgeSettings(
    String websocketPath,
    int maxFrameSize,
    int outboundBuffer,
    Duration closeGrace,
    Duration heartbeatInterval,
    Duration heartbeatTimeout,
    Duration connectTimeout,
    int framesPerSecond,
    int frameBurst,
    int maxGroupsPerSession,
    ClientPublish clientPublish,
    int replayPageSize,
    int maxPendingPerStream,
    int maxInFlight,
    Duration reannounceInterval,
    Duration askTimeout,
    boolean frontDoor,
    int ioThreads,
    boolean nativeEpoll,
    int sendBuffer) {

  /** Who may publish to a group from a browser connection. */
  public enum ClientPublish {
    NONE,
    JOINED,
    ANY
  }

  /** Reads {@code switchboard.edge}. */
  public static EdgeSettings create(Config config) {
    Config c = config.getConfig("switchboard.edge");
    return new EdgeSettings(
        c.getString("websocket.path"),
        (int) c.getMemorySize("websocket.max-frame-size").toBytes(),
        c.getInt("websocket.outbound-buffer"),
        c.getDuration("websocket.close-grace"),
        c.getDuration("heartbeat.interval"),
        c.getDuration("heartbeat.timeout"),
        c.getDuration("connect-timeout"),
        c.getInt("frames-per-second"),
        c.getInt("frame-burst"),
        c.getInt("max-groups-per-session"),
        ClientPublish.valueOf(c.getString("client-publish").toUpperCase(java.util.Locale.ROOT)),
        c.getInt("replay-page-size"),
        c.getInt("max-pending-per-stream"),
        c.getInt("max-in-flight"),
        c.getDuration("reannounce-interval"),
        c.getDuration("ask-timeout"),
        c.getBoolean("front-door.enabled"),
        c.getInt("front-door.io-threads"),
        c.getBoolean("front-door.native-epoll"),
        (int) c.getMemorySize("front-door.send-buffer").toBytes());
  }
}
