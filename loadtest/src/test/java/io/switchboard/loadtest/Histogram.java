package io.switchboard.loadtest;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/** Millisecond latencies from 0 to 120 s (longer ones count as 120 s), thread-safe. */
final class Histogram {
  private static final int MAX_MILLIS = 120_000;
  private final AtomicLongArray counts = new AtomicLongArray(MAX_MILLIS + 1);
  private final LongAdder total = new LongAdder();

  void record(long millis) {
    counts.incrementAndGet((int) Math.max(0, Math.min(MAX_MILLIS, millis)));
    total.increment();
  }

  long count() {
    return total.sum();
  }

  /** The latency at or below which {@code percent} of the recorded ones are; -1 when empty. */
  long percentile(double percent) {
    long n = count();
    if (n == 0) {
      return -1;
    }
    long rank = Math.max(1, (long) Math.ceil(n * percent / 100.0));
    long seen = 0;
    for (int ms = 0; ms <= MAX_MILLIS; ms++) {
      seen += counts.get(ms);
      if (seen >= rank) {
        return ms;
      }
    }
    return MAX_MILLIS;
  }

  String describe() {
    return count() == 0
        ? "none"
        : String.format(
            "p50 %d ms, p95 %d ms, p99 %d ms, max %d ms (n=%d)",
            percentile(50), percentile(95), percentile(99), percentile(100), count());
  }
}
