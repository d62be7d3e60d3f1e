package io.switchboard.node.bench;

/**
 * A log-linear histogram of non-negative longs (nanoseconds here): 32 linear sub-buckets per power
 * of two, so any percentile is within ~3% of the true value; exact minimum, maximum and count.
 * Fixed size (about 10 KB), no allocation when recording. Not thread-safe: one writer, merged by
 * the reader after the writer stopped.
 */
final class LogHistogram {
  private static final int SUB_BITS = 5;
  private static final int SUB = 1 << SUB_BITS;
  private static final int MAX_EXPONENT = 44; // ~17,600 s in ns
  private final long[] counts = new long[(MAX_EXPONENT - SUB_BITS + 2) * SUB];
  private long count;
  private long min = Long.MAX_VALUE;
  private long max;
  private double sum;

  void record(long value) {
    long v = Math.max(0, value);
    counts[index(v)]++;
    count++;
    sum += v;
    if (v < min) {
      min = v;
    }
    if (v > max) {
      max = v;
    }
  }

  void add(LogHistogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    count += other.count;
    sum += other.sum;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
  }

  long count() {
    return count;
  }

  long max() {
    return count == 0 ? 0 : max;
  }

  double mean() {
    return count == 0 ? 0 : sum / count;
  }

  /** The value at {@code percentile} (0..100): the middle of its bucket, within [min, max]. */
  long percentile(double percentile) {
    if (count == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(count * percentile / 100.0));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        long low = lowerBound(i);
        long width = lowerBound(i + 1) - low;
        return Math.max(min, Math.min(max, low + width / 2));
      }
    }
    return max;
  }

  private static int index(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int exponent = 63 - Long.numberOfLeadingZeros(v);
    if (exponent > MAX_EXPONENT) {
      exponent = MAX_EXPONENT;
      v = (1L << (MAX_EXPONENT + 1)) - 1;
    }
    int sub = (int) (v >>> (exponent - SUB_BITS)) & (SUB - 1);
    return (exponent - SUB_BITS + 1) * SUB + sub;
  }

  private static long lowerBound(int index) {
    if (index < SUB) {
      return index;
    }
    int exponent = index / SUB + SUB_BITS - 1;
    int sub = index % SUB;
    return (1L << exponent) + ((long) sub << (exponent - SUB_BITS));
  }
}
