package io.switchboard.node.stream;

import java.util.ArrayList;
import java.util.List;

/**
 * The retained tail of a stream: publications with consecutive offsets from {@link #firstOffset()}
 * to {@link #head()}, in a ring buffer that grows as needed (O(1) append, trim and lookup by
 * offset). Mutable and not thread-safe: it lives inside one entity's state and never escapes it
 * (reads hand out copies).
 */
public final class RetainedLog {
  private Publication[] ring = new Publication[16];
  private int start;
  private int size;
  private long head;
  private long trimmedThrough;

  /** An empty log whose next offset is {@code head + 1}. */
  public RetainedLog(long head, long trimmedThrough) {
    this.head = head;
    this.trimmedThrough = trimmedThrough;
  }

  /** An empty log of a new stream. */
  public RetainedLog() {
    this(0, 0);
  }

  /** The last offset written; 0 when nothing was ever written. */
  public long head() {
    return head;
  }

  /** Everything up to and including this offset is forgotten. */
  public long trimmedThrough() {
    return trimmedThrough;
  }

  /** The oldest offset still readable (head + 1 when the log is empty). */
  public long firstOffset() {
    return trimmedThrough + 1;
  }

  /** Number of publications retained. */
  public int size() {
    return size;
  }

  /** Appends the next publication; its offset must be {@code head + 1}. */
  public void append(Publication publication) {
    if (publication.offset() != head + 1) {
      throw new IllegalArgumentException(
          "offset " + publication.offset() + " does not follow head " + head);
    }
    if (size == ring.length) {
      grow();
    }
    ring[(start + size) % ring.length] = publication;
    size++;
    head = publication.offset();
  }

  /** Forgets everything up to and including {@code offset} (no-op below what is trimmed). */
  public void trimThrough(long offset) {
    long through = Math.min(offset, head);
    while (size > 0 && ring[start].offset() <= through) {
      ring[start] = null;
      start = (start + 1) % ring.length;
      size--;
    }
    trimmedThrough = Math.max(trimmedThrough, through);
    if (size == 0 && ring.length > 1024) {
      ring = new Publication[16];
      start = 0;
    }
  }

  /** Drops the oldest publications until at most {@code maxCount} remain. */
  public void trimToCount(int maxCount) {
    if (size > maxCount) {
      trimThrough(oldest().offset() + (size - maxCount) - 1);
    }
  }

  /** The oldest retained publication, or null when empty. */
  public Publication oldest() {
    return size == 0 ? null : ring[start];
  }

  /** The newest publication, or null when empty. */
  public Publication newest() {
    return size == 0 ? null : ring[(start + size - 1) % ring.length];
  }

  /** The highest offset whose publication is older than {@code cutoffMs}; 0 when none is. */
  public long lastOffsetBefore(long cutoffMs) {
    long last = 0;
    for (int i = 0; i < size; i++) {
      Publication p = ring[(start + i) % ring.length];
      if (p.timestampMs() >= cutoffMs) {
        break;
      }
      last = p.offset();
    }
    return last;
  }

  /** Up to {@code maxCount} publications from {@code fromOffset} on (copied), oldest first. */
  public List<Publication> read(long fromOffset, int maxCount) {
    long from = Math.max(fromOffset, firstOffset());
    if (from > head || maxCount <= 0) {
      return List.of();
    }
    int first = (int) (from - firstOffset());
    int n = Math.min(maxCount, size - first);
    List<Publication> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(ring[(start + first + i) % ring.length]);
    }
    return out;
  }

  /** Every retained publication, oldest first (for snapshots). */
  public List<Publication> all() {
    return read(firstOffset(), size);
  }

  private void grow() {
    Publication[] bigger = new Publication[ring.length * 2];
    for (int i = 0; i < size; i++) {
      bigger[i] = ring[(start + i) % ring.length];
    }
    ring = bigger;
    start = 0;
  }
}
