package io.switchboard.node.edge;

import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.v1.ServerFrame;
import java.util.concurrent.Executor;

/**
 * The outbound side of one client connection, as the connection actor sees it: a bounded buffer of
 * frames in the connection's encoding. Offers never block; a full buffer is reported, and the
 * connection closes with SLOW_CONSUMER (the client resumes from its cursors, nothing is dropped
 * silently). Called only from the connection actor.
 */
interface Transport {

  /**
   * Queues a control frame or an answer; it may use a small headroom beyond the capacity, so that a
   * buffer filled with deliveries does not refuse a Ping. False when even the headroom is full.
   */
  boolean send(ServerFrame frame);

  /**
   * Queues a delivery, reusing {@code shared} encodings computed for other sockets when given;
   * false when the capacity is reached.
   */
  boolean sendDelivery(String stream, Publication publication, EncodedOnce shared);

  /** Queues a frame even when the buffer is full (close and last-word frames). */
  void sendUrgent(ServerFrame frame);

  /** Frames queued and not yet written. */
  int queued();

  /** The buffer's capacity in frames. */
  int capacity();

  /** Completes the outbound stream after the queued frames; the connection then closes. */
  void complete();

  /**
   * Completes the outbound stream after the queued frames, closing the connection with {@code code}
   * and {@code reason} as its WebSocket close status where the transport can give one (a browser's
   * {@code CloseEvent} then shows the same code as the {@code Close} frame).
   */
  default void complete(int code, String reason) {
    complete();
  }

  /** Tears the connection down at once (after a close that did not flush in time). */
  void abort();

  /** A short name for logs and metrics ("websocket", "long-poll"). */
  String name();

  /**
   * The connection actor stopped: whatever it did not close yet is closed now (after what it
   * queued, within a short grace), so no socket outlives its actor.
   */
  default void connectionStopped() {}

  /**
   * Whether the transport keeps the heartbeat itself: it sends the Ping at the configured interval
   * and, when the client stays silent past the timeout, asks the connection to close with {@code
   * HEARTBEAT_TIMEOUT}. Otherwise the connection actor does both on its own timer.
   */
  default boolean keepsHeartbeat() {
    return false;
  }

  /**
   * The connection's {@link AckLane}, for a transport that hands the client's Ack frames to it on
   * its own thread; others ignore it (their acks reach the actor).
   */
  default void ackLane(AckLane lane) {}

  /** The thread that writes this socket, when sends from it are cheaper; null otherwise. */
  default Executor ioThread() {
    return null;
  }
}
