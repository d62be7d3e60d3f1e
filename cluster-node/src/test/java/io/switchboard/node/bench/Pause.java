package io.switchboard.node.bench;

import java.util.concurrent.locks.LockSupport;

/** A pause of the benchmark's coordinating thread between two polls (never on a hot path). */
final class Pause {
  private Pause() {}

  static void millis(long millis) {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    for (long left; (left = deadline - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
      if (Thread.currentThread().isInterrupted()) {
        throw new IllegalStateException("interrupted");
      }
    }
  }
}
