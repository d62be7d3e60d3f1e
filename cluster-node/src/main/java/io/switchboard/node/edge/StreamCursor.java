package io.switchboard.node.edge;

import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.LiveLane;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executor;

/**
 * What one socket has delivered of one stream, and how it gets the rest. Live traffic is an
 * optimisation: a live message that follows the last delivered offset goes straight out; anything
 * else (a jump, a head that moved while the stream was quiet, a resume) makes the cursor read the
 * missing range from the stream's log page by page, holding live messages meanwhile and draining
 * them after, skipping what was delivered. So every offset after the starting point goes out
 * exactly once and in order, whatever the live path lost; history that no longer exists is reported
 * through {@link Output#recovery}, never skipped silently.
 *
 * <p>Owned by one connection actor, with one exception: as a {@link LiveLane}, the node's fan-out
 * may deliver the next live message directly from its own thread while the cursor is open and in
 * step. Every method holds the cursor's lock, so the two never interleave.
 */
final class StreamCursor implements LiveLane {

  /** Where a cursor sends what it decides. Implemented by the connection. */
  interface Output {
    /** Sends one message of the stream ({@code shared} null when not fanned out). */
    void deliver(String stream, Publication publication, EncodedOnce shared);

    /**
     * Sends one live message from the fan-out's thread; false (nothing sent) when the buffer is
     * full. Must be thread-safe.
     */
    boolean deliverLive(String stream, Publication publication, EncodedOnce shared);

    /** Where live deliveries are cheapest to make (see {@link LiveLane#executor()}). */
    default Executor liveExecutor() {
      return null;
    }

    /** Reads {@code maxCount} messages of the stream from {@code fromOffset}; answer by onPage. */
    void fetch(String stream, long fromOffset, int maxCount);

    /** How many more frames the outbound buffer can take now. */
    int room();

    /** Reports the outcome of a replay, or a loss of history found while repairing. */
    void recovery(String stream, boolean recovered, long firstOffset, long head);
  }

  /** No ack recorded (or none the session has not heard yet). */
  static final long NOT_ACKED = Long.MIN_VALUE;

  private record Held(Publication publication, EncodedOnce shared) {}

  private final String stream;
  private final Output out;
  private final int pageSize;
  private final int maxHeld;
  private final TreeMap<Long, Held> held = new TreeMap<>();
  private long last;
  private long knownHead;
  private boolean fetching;
  private boolean deferred;
  private boolean replaying;
  private boolean historyLost;
  private long replayFirstOffset = -1;
  private boolean open;
  // The highest offset the client acked of this stream (recorded by the connection actor or, for
  // a WebSocket, by its socket's thread) and the one the session was last told (actor only).
  private long acked = NOT_ACKED;
  private long ackedTold = NOT_ACKED;

  /**
   * A cursor that has everything up to {@code lastDelivered}. With {@code replay}, it reads the log
   * right away and reports {@link Output#recovery} once it caught up with the head.
   */
  StreamCursor(
      String stream, long lastDelivered, boolean replay, Output out, int pageSize, int maxHeld) {
    this.stream = stream;
    this.out = out;
    this.pageSize = pageSize;
    this.maxHeld = maxHeld;
    this.last = lastDelivered;
    this.knownHead = lastDelivered;
    this.replaying = replay;
  }

  String stream() {
    return stream;
  }

  /** The highest offset delivered; everything up to it went out exactly once. */
  synchronized long lastDelivered() {
    return last;
  }

  /**
   * The client acked the stream up to {@code offset}: returns what that acknowledges — at most what
   * went out on this cursor, since an ack of more (a client's bug: another stream's offset, a stale
   * cursor) would let the group trim, and a resume skip, history it never had — or {@link
   * #NOT_ACKED} when that is no higher than before.
   */
  synchronized long acknowledge(long offset) {
    long upTo = Math.min(offset, last);
    if (upTo <= acked) {
      return NOT_ACKED;
    }
    acked = upTo;
    return upTo;
  }

  /**
   * The highest acked offset if the session has not been told it yet, noting that it is being told
   * now; {@link #NOT_ACKED} otherwise. The connection actor's call.
   */
  long ackedUntold() {
    long highest;
    synchronized (this) {
      highest = acked;
    }
    if (highest <= ackedTold) {
      return NOT_ACKED;
    }
    ackedTold = highest;
    return highest;
  }

  synchronized boolean isDeferred() {
    return deferred;
  }

  /**
   * Opens or closes the cursor's {@link LiveLane}: open while the connection is live and the cursor
   * belongs to it; closed, the fan-out's offers are all declined.
   */
  synchronized void setOpen(boolean open) {
    this.open = open;
  }

  @Override
  public synchronized boolean offer(Publication publication, EncodedOnce shared) {
    if (!open || fetching || replaying || deferred || !held.isEmpty()) {
      return false;
    }
    long offset = publication.offset();
    if (offset <= last) {
      return true;
    }
    if (offset != last + 1 || !out.deliverLive(stream, publication, shared)) {
      return false;
    }
    last = offset;
    knownHead = Math.max(knownHead, offset);
    return true;
  }

  @Override
  public Executor executor() {
    return out.liveExecutor();
  }

  /** Starts the replay of a cursor created with {@code replay}. */
  synchronized void start() {
    advance();
  }

  /** A live message of the stream. */
  synchronized void onLive(Publication publication, EncodedOnce shared) {
    long offset = publication.offset();
    knownHead = Math.max(knownHead, offset);
    if (offset <= last) {
      return;
    }
    if (offset == last + 1 && !fetching && !replaying && held.isEmpty()) {
      deliver(publication, shared);
      return;
    }
    if (held.size() < maxHeld) {
      held.put(offset, new Held(publication, shared));
    }
    advance();
  }

  /** The stream's head is at least {@code head}. */
  synchronized void onHead(long head) {
    if (head > knownHead) {
      knownHead = head;
      advance();
    }
  }

  /** A page read from the log. */
  synchronized void onPage(Page page) {
    fetching = false;
    if (page.head() < last) {
      // The cursor is past the stream's head: offsets the stream never had (a client's bug, or its
      // history of a stream since reset). Go on from the real head, so that nothing published from
      // now on is taken for something the client has; the Recovery reports that head.
      last = page.head();
      knownHead = page.head();
    }
    knownHead = Math.max(knownHead, page.head());
    if (replayFirstOffset < 0) {
      replayFirstOffset = page.firstOffset();
    }
    if (page.firstOffset() > last + 1) {
      // The messages between the cursor and the oldest retained one are gone.
      historyLost = true;
      if (!replaying) {
        out.recovery(stream, false, page.firstOffset(), page.head());
      }
      last = page.firstOffset() - 1;
    }
    for (Publication publication : page.items()) {
      if (out.room() <= 0) {
        // The rest of the page is read again once the client has drained its buffer.
        break;
      }
      if (publication.offset() == last + 1) {
        deliver(publication, null);
      }
    }
    if (page.items().isEmpty() && last < page.head()) {
      // The log claims messages it did not return; do not spin on it.
      knownHead = last;
    }
    advance();
  }

  /** A read failed; the caller retries later with {@link #retry()}. */
  synchronized void onFetchFailed() {
    fetching = false;
    deferred = true;
  }

  /** Continues after a failed read or a full outbound buffer. */
  synchronized void retry() {
    deferred = false;
    advance();
  }

  private void advance() {
    if (fetching) {
      return;
    }
    if (!drainHeld()) {
      deferred = true;
      return;
    }
    boolean behind = last < knownHead || (replaying && replayFirstOffset < 0);
    if (behind) {
      int room = out.room();
      if (room <= 0) {
        deferred = true;
        return;
      }
      deferred = false;
      fetching = true;
      out.fetch(stream, last + 1, Math.min(pageSize, room));
    } else if (replaying) {
      replaying = false;
      out.recovery(stream, !historyLost, replayFirstOffset, last);
    }
  }

  /** Sends held messages that are next in line; false when the buffer filled up first. */
  private boolean drainHeld() {
    while (!held.isEmpty()) {
      Map.Entry<Long, Held> first = held.firstEntry();
      if (first.getKey() > last + 1) {
        return true;
      }
      if (first.getKey() == last + 1 && out.room() <= 0) {
        return false;
      }
      held.pollFirstEntry();
      if (first.getKey() == last + 1) {
        deliver(first.getValue().publication(), first.getValue().shared());
      }
    }
    return true;
  }

  private void deliver(Publication publication, EncodedOnce shared) {
    last = publication.offset();
    out.deliver(stream, publication, shared);
  }
}
