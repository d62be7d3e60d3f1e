package io.switchboard.node.stream;

import java.util.concurrent.Executor;

/**
 * A socket's direct path for the live messages of one stream. The node's fan-out offers each
 * publication here first: a socket that is in step with the stream (nothing held, nothing being
 * read from the log, room in its buffer) writes it out on the spot, without a message to its
 * connection actor. Anything else is declined and goes the normal way ({@link Socket.Fanned}),
 * where the connection repairs, holds or closes as it must. Thread-safe.
 */
public interface LiveLane {

  /**
   * True when {@code publication} was delivered now or had been already; false when the socket must
   * be sent {@link Socket.Fanned} instead.
   */
  boolean offer(Publication publication, EncodedOnce shared);

  /**
   * The thread on which offers are cheapest (the socket's I/O thread, where a write needs no
   * hand-off), or null when any thread will do. The fan-out makes its offers there, one task per
   * thread and publication, so sockets on different I/O threads are written in parallel.
   */
  default Executor executor() {
    return null;
  }
}
