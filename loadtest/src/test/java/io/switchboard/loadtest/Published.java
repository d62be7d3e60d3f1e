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

  private Published() {}

  static void acknowledged(String group, long offset) {
    HEADS.computeIfAbsent(group, g -> new AtomicLong()).accumulateAndGet(offset, Math::max);
    ACKNOWLEDGED.increment();
  }

  static long head(String group) {
    AtomicLong head = HEADS.get(group);
    return head == null ? 0 : head.get();
  }
}
