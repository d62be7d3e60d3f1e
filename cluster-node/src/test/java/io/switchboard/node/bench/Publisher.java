package io.switchboard.node.bench;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Publishes at a fixed rate through one {@link BenchSocket}, paced by a scheduler: each tick sends
 * what the rate owes since the start (so scheduler jitter never changes the long-run rate), at most
 * {@link #MAX_PER_TICK} at once. Stops offering when the socket has more than {@link #MAX_QUEUED}
 * bytes unsent (the node stopped reading: it cannot keep up) and counts that.
 */
final class Publisher {
  private static final int MAX_PER_TICK = 2_000;
  private static final long MAX_QUEUED = 1 << 20;
  private static final long MIN_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final BenchSocket socket;
  private final ScheduledExecutorService scheduler;
  private final byte[] payload;
  // guarded by this
  private ScheduledFuture<?> task;
  private double rate;
  private int step;
  private long startNanos;
  private long due;
  private long sent;
  private long sentMeasured;
  private long sequence;
  private long blocked;
  private boolean measuring;

  Publisher(BenchSocket socket, ScheduledExecutorService scheduler, int payloadBytes) {
    this.socket = socket;
    this.scheduler = scheduler;
    this.payload = new byte[Math.max(BenchSocket.HEADER_BYTES, payloadBytes)];
  }

  /** Starts publishing {@code rate} messages per second for {@code step}, not measured yet. */
  synchronized void start(double rate, int step) {
    stop();
    this.rate = rate;
    this.step = step;
    this.startNanos = System.nanoTime();
    this.due = 0;
    this.sent = 0;
    this.sentMeasured = 0;
    this.blocked = 0;
    this.measuring = false;
    long period = Math.max(MIN_PERIOD_NANOS, (long) (1e9 / rate));
    task = scheduler.scheduleAtFixedRate(this::tick, 0, period, TimeUnit.NANOSECONDS);
  }

  /** Marks what is published from now on as part of the measured window (or not). */
  synchronized void measuring(boolean on) {
    measuring = on;
  }

  /** Stops publishing; no publication is sent after this returns. */
  synchronized void stop() {
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  synchronized long sent() {
    return sent;
  }

  synchronized long sentMeasured() {
    return sentMeasured;
  }

  /** Publications the rate owed but that were not sent because the node stopped reading. */
  synchronized long blocked() {
    return blocked;
  }

  private synchronized void tick() {
    if (task == null) {
      return;
    }
    long owed = (long) ((System.nanoTime() - startNanos) * rate / 1e9) + 1;
    long n = Math.min(owed - due, MAX_PER_TICK);
    blocked += owed - due - n; // the scheduler fell that far behind
    due = owed;
    for (long i = 0; i < n; i++) {
      if (socket.connection() == null || socket.connection().queuedBytes() > MAX_QUEUED) {
        blocked += n - i;
        return;
      }
      if (!socket.publish(payload, step, measuring ? BenchSocket.MEASURED : 0, ++sequence)) {
        blocked += n - i;
        return;
      }
      sent++;
      if (measuring) {
        sentMeasured++;
      }
    }
  }
}
