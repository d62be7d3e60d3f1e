package io.switchboard.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publish→delivery latency and delivery counts, by the publish's send time: a run may publish in
 * steps of rising rate, and each step is measured on the deliveries of what it published.
 */
final class Deliveries {
  /** A window of send times [from, to) with its own figures. */
  record Step(String name, long fromMillis, long toMillis, Histogram latency, LongAdder count) {
    double seconds() {
      return (toMillis - fromMillis) / 1000.0;
    }
  }

  private static final List<Step> STEPS = new ArrayList<>();
  static final Histogram ALL = new Histogram();
  static final LongAdder RECEIVED = new LongAdder();

  private Deliveries() {}

  /** Adds a measured window (before the run starts). */
  static synchronized Step step(String name, long fromMillis, long toMillis) {
    Step step = new Step(name, fromMillis, toMillis, new Histogram(), new LongAdder());
    STEPS.add(step);
    return step;
  }

  static List<Step> steps() {
    return List.copyOf(STEPS);
  }

  static void record(long sentMillis, long receivedMillis) {
    RECEIVED.increment();
    if (sentMillis <= 0) {
      return;
    }
    long latency = receivedMillis - sentMillis;
    ALL.record(latency);
    for (Step step : STEPS) {
      if (sentMillis >= step.fromMillis() && sentMillis < step.toMillis()) {
        step.latency().record(latency);
        step.count().increment();
        return;
      }
    }
  }
}
