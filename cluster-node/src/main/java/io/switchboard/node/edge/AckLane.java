package io.switchboard.node.edge;

import io.switchboard.node.auth.Identity;
import io.switchboard.node.auth.InterceptorChain;
import io.switchboard.node.auth.Rejection;
import io.switchboard.node.group.CursorRelay;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.node.stream.StreamNames;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Cursor;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where a connection's group acks are recorded: on the cursor of the stream (for the session) and
 * in the node's {@link CursorRelay} (for the group). The connection actor records the acks it
 * handles here; and a socket that can ({@link NettySocket}) hands an Ack frame here on its own
 * thread instead of to the actor, which saves the actor message and the thread wake-up that cost
 * most of an ack — thousands of subscribers ack every second.
 *
 * <p>The socket offers a frame only when the actor holds none of its frames (all handed ones were
 * handled and released), so an ack taken here is in its place among the client's frames, and the
 * interceptor chain, which the actor runs only for frames it holds, is never run by both at once;
 * the release the socket saw orders the actor's earlier work before this. The lane declines (the
 * frame goes to the actor as before) while the connection is not live, when the frame names the
 * inbox (an inbox ack is journaled by the session) or a stream the connection does not have, and
 * when the session is due to hear the acked cursors: the actor then tells it every cursor acked
 * since, so the session hears them at most every {@value #SESSION_SYNC_SECONDS} s, as before.
 */
final class AckLane {

  static final int SESSION_SYNC_SECONDS = 5;
  private static final long SESSION_SYNC_NANOS = TimeUnit.SECONDS.toNanos(SESSION_SYNC_SECONDS);

  private final Map<String, StreamCursor> streams;
  private final InterceptorChain interceptors;
  private final CursorRelay relay;
  private final NodeMetrics metrics;
  // Set by the connection actor: the session once the connection is live; open while the socket
  // may take acks (from when the actor has handled what it held back for the session's start).
  private volatile String sessionId;
  private volatile boolean open;
  private volatile Identity identity;
  private volatile long syncDueNanos;

  /** {@code streams}: the connection's cursors, by stream; concurrent (the socket reads it). */
  AckLane(
      Map<String, StreamCursor> streams,
      InterceptorChain interceptors,
      CursorRelay relay,
      NodeMetrics metrics) {
    this.streams = streams;
    this.interceptors = interceptors;
    this.relay = relay;
    this.metrics = metrics;
  }

  /**
   * The connection is live for {@code sessionId}: the acks the actor handles are recorded for it,
   * and the session hears the first one at once.
   */
  void live(String sessionId) {
    this.syncDueNanos = System.nanoTime();
    this.sessionId = sessionId;
  }

  /**
   * The socket may take acks from now on: the actor is live and handled every frame it had held
   * back while the session started.
   */
  void open(Identity identity) {
    this.identity = identity;
    this.open = true;
  }

  /** The connection is closing: every ack goes to the actor (which ignores it). */
  void close() {
    open = false;
  }

  /** The client proved itself again (a Refresh): interceptors see the new identity. */
  void identity(Identity identity) {
    this.identity = identity;
  }

  /**
   * Records that the client acked {@code stream} up to {@code offset} (at most what it was sent):
   * on its cursor and, if that moved it, with the relay. A stream the connection does not have is
   * ignored.
   */
  void record(String stream, long offset) {
    StreamCursor cursor = streams.get(stream);
    String session = sessionId;
    if (cursor != null && session != null) {
      long acked = cursor.acknowledge(offset);
      if (acked != StreamCursor.NOT_ACKED) {
        relay.advance(stream, session, acked);
      }
    }
  }

  /** Whether the session should hear the acked cursors now (the actor's check). */
  boolean syncDue(long nowNanos) {
    return nowNanos - syncDueNanos >= 0;
  }

  /** The actor told the session every acked cursor at {@code nowNanos}. */
  void synced(long nowNanos) {
    syncDueNanos = nowNanos + SESSION_SYNC_NANOS;
  }

  /**
   * An Ack frame on the socket's thread, offered only when the actor holds none of the client's
   * frames. Null when it was taken (checked by the interceptors and recorded); otherwise what the
   * actor must be handed: the frame itself when declined, or the interceptors' refusal of it.
   */
  InboundFrames.Inbound take(InboundFrames.Decoded decoded, long nowNanos) {
    ClientFrame frame = decoded.frame();
    if (!open || syncDue(nowNanos)) {
      return decoded;
    }
    for (Cursor cursor : frame.getAck().getCursorsList()) {
      if (StreamNames.INBOX.equals(cursor.getStream())
          || !streams.containsKey(cursor.getStream())) {
        return decoded;
      }
    }
    Optional<Rejection> rejection = interceptors.check(identity, frame);
    if (rejection.isPresent()) {
      return new InboundFrames.Refused(frame, rejection.get());
    }
    metrics.framesIn.increment();
    metrics.acksOnSocketThread.increment();
    for (Cursor cursor : frame.getAck().getCursorsList()) {
      record(cursor.getStream(), cursor.getOffset());
    }
    return null;
  }
}
