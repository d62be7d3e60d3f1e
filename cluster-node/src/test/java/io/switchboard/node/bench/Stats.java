package io.switchboard.node.bench;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every client socket of the benchmark counts: deliveries, anomalies and, per step, latency
 * histograms kept per recording thread (no contention on the hot path) and merged once a step has
 * drained.
 */
final class Stats {
  static final int MAX_STEPS = 256;

  final LongAdder delivered = new LongAdder();
  final LongAdder gaps = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder errors = new LongAdder();
  final LongAdder published = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder lost = new LongAdder();
  final LongAdder pongs = new LongAdder();
  final AtomicReference<String> lastProblem = new AtomicReference<>("");

  private final List<Recorder> recorders = new CopyOnWriteArrayList<>();
  private final ThreadLocal<Recorder> local =
      ThreadLocal.withInitial(
          () -> {
            Recorder r = new Recorder();
            recorders.add(r);
            return r;
          });

  /** Publish→delivery latency of a message published in a measured window of {@code step}. */
  void deliveryLatency(int step, long nanos) {
    if (step > 0 && step < MAX_STEPS) {
      local.get().delivery(step).record(nanos);
    }
  }

  /**
   * Publish→Published (journal write acknowledged) latency in a measured window of {@code step}.
   */
  void publishAckLatency(int step, long nanos) {
    if (step > 0 && step < MAX_STEPS) {
      local.get().ack(step).record(nanos);
    }
  }

  void problem(String what) {
    lastProblem.set(what);
  }

  LogHistogram deliveryLatency(int step) {
    LogHistogram merged = new LogHistogram();
    for (Recorder r : recorders) {
      LogHistogram h = r.delivery[step];
      if (h != null) {
        merged.add(h);
      }
    }
    return merged;
  }

  LogHistogram publishAckLatency(int step) {
    LogHistogram merged = new LogHistogram();
    for (Recorder r : recorders) {
      LogHistogram h = r.ack[step];
      if (h != null) {
        merged.add(h);
      }
    }
    return merged;
  }

  /** One thread's histograms. */
  private static final class Recorder {
    final LogHistogram[] delivery = new LogHistogram[MAX_STEPS];
    final LogHistogram[] ack = new LogHistogram[MAX_STEPS];

    LogHistogram delivery(int step) {
      LogHistogram h = delivery[step];
      if (h == null) {
        h = new LogHistogram();
        delivery[step] = h;
      }
      return h;
    }

    LogHistogram ack(int step) {
      LogHistogram h = ack[step];
      if (h == null) {
        h = new LogHistogram();
        ack[step] = h;
      }
      return h;
    }
  }
}
