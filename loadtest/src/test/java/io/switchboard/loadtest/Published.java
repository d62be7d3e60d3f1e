package io.switchboard.loadtest;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the publishers got acknowledged: the highest acknowledged offset of each group (every
 * subscriber must end up with everything up to it), and counts of acknowledged and refused
 * publishes. Refused or unanswered publishes were never acknowledged and are not expected anywhere.
 */
final class Published {
  private static final ConcurrentHashMap<String, AtomicLong> HEADS = new ConcurrentHashMap<>();
  static final LongAdder ACKNOWLEDGED = new LongAdder();
  static final LongAdder REFUSED = new LongAdder();
  private static final AtomicLong IN_FLIGHT = new AtomicLong();

  private Published() {}

  /** A publish was sent; its answer (or failure) is still to come. */
  static void sent() {
    IN_FLIGHT.incrementAndGet();
  }

  /** A publish was answered, acknowledged or not. */
  static void answered() {
    IN_FLIGHT.decrementAndGet();
  }

  /**
   * Whether no publish is waiting for its answer: only then is a group's acknowledged head final,
   * and a subscriber that reached it has everything (a saturated node answers publishes seconds
   * late, after the subscribers stopped listening).
   */
  static boolean settled() {
    return IN_FLIGHT.get() <= 0;
  }

  static void acknowledged(String group, long offset) {
    HEADS.computeIfAbsent(group, g -> new AtomicLong()).accumulateAndGet(offset, Math::max);
    ACKNOWLEDGED.increment();
  }

  static long head(String group) {
    AtomicLong head = HEADS.get(group);
    return head == null ? 0 : head.get();
  }
}
