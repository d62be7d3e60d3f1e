package io.switchboard.node.bridge;

import io.switchboard.node.ClusterMessage;
import io.switchboard.node.stream.Socket;

/**
 * The state of a bridge session's upstream connection, told by the session to its attached socket
 * (which sends it to the client as an {@code UpstreamStatus} frame) whenever it changes and when a
 * socket attaches.
 *
 * @param phase where the connection stands
 * @param attempt reconnection attempts since it was last up
 * @param retryUntilMs when reconnecting stops (epoch ms), 0 unless reconnecting
 * @param held client messages waiting for the upstream
 * @param reason why it is not up ("" when it is)
 */
public record UpstreamStatus(Phase phase, int attempt, long retryUntilMs, int held, String reason)
    implements Socket.Command, ClusterMessage {

  /** Where an upstream connection stands. */
  public enum Phase {
    /** First attempt under way. */
    CONNECTING,
    /** Connected. */
    UP,
    /** Lost; reconnecting with backoff until the retry window ends. */
    RECONNECTING
  }
}
