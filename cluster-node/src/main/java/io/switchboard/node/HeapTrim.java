package io.switchboard.node;

import com.sun.management.GarbageCollectorMXBean;
import com.sun.management.GcInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the heap a burst left committed, once the process is quiet again.
 *
 * <p>G1 returns committed heap to the operating system only when a concurrent cycle ends (Remark)
 * or after a full GC, and its periodic collection ({@code -XX:G1PeriodicGCInterval}) starts a cycle
 * only after an interval without any collection. A node holding thousands of idle connections
 * answers their heartbeats, allocates, and runs a young collection every few seconds: the periodic
 * collection never comes, and whatever a reconnect storm made the heap grow to stays committed.
 *
 * <p>So every interval this reads the heap, and when the process collected at most once per {@link
 * #QUIET_SECONDS_PER_COLLECTION} seconds (it is not busy) it asks for a concurrent cycle if
 *
 * <ul>
 *   <li>the committed heap grew by at least {@link #MIN_RETURN_BYTES} and an eighth since the last
 *       cycle it asked for (or this is the first quiet interval): only marking tells how much of
 *       the heap in use is garbage that a burst left in old regions; or
 *   <li>once after such a cycle: when the mixed collections that follow it have freed what it
 *       found, so that with at most {@code MaxHeapFreeRatio} of the heap free a cycle would give
 *       back at least {@link #MIN_RETURN_BYTES} and an eighth of the heap in use after the last
 *       collection; or at the next check if no collection followed it at all (nothing will change
 *       by waiting, and a cycle G1 had started on its own, which ours then joined, counts as live
 *       what was live when it started).
 * </ul>
 *
 * <p>So a burst costs at most two cycles, and a heap that stays as it is costs none. After each
 * cycle the C library's heap is trimmed too, where the JVM can ({@code System.trim_native_heap},
 * Java 17.0.9 and later): what the JIT compiler and other native code freed after a burst goes back
 * to the system instead of staying with the process.
 *
 * <p>The cycle is {@code System.gc()} under {@code -XX:+ExplicitGCInvokesConcurrent}: it marks
 * alongside the application, never a full, stop-the-world collection. Without that flag, or without
 * G1, this does nothing.
 */
final class HeapTrim {
  private static final Logger log = LoggerFactory.getLogger(HeapTrim.class);

  /** A process that collected more often than once in this many seconds is busy. */
  static final int QUIET_SECONDS_PER_COLLECTION = 5;

  /** A cycle is not asked for to give back less than this. */
  static final long MIN_RETURN_BYTES = 16L << 20;

  /** The diagnostic command System.trim_native_heap (Java 17.0.9 and later). */
  private static final String TRIM_NATIVE = "systemTrimNativeHeap";

  /**
   * The heap as the last collection left it: {@code committed} bytes, of which {@code inUse} in use
   * after it, and the number of collections so far.
   */
  record Reading(long committed, long inUse, long collections) {}

  /** What a check decides. */
  enum Decision {
    /** No cycle. */
    NONE,
    /** A cycle: the heap grew since the last one. */
    GROWN,
    /** The one cycle after a {@link #GROWN} one, to give back what its mixed collections freed. */
    FOLLOW_UP
  }

  /**
   * What the last cycle asked for left: {@code committed} bytes, the {@code collections} count, and
   * whether a follow-up is due.
   */
  record AfterCycle(long committed, long collections, boolean followUpDue) {
    /** Before any cycle. */
    static final AfterCycle NONE = new AfterCycle(0, 0, false);
  }

  private final Duration interval;
  private final double maxFreeShare;
  private final Set<String> heapPools;
  private Reading last;
  private AfterCycle afterCycle = AfterCycle.NONE;

  private HeapTrim(Duration interval, double maxFreeShare) {
    this.interval = interval;
    this.maxFreeShare = maxFreeShare;
    this.heapPools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(MemoryPoolMXBean::getName)
            .collect(Collectors.toUnmodifiableSet());
  }

  /**
   * Starts checking every {@code interval} on a daemon thread of its own (the cycle it asks for
   * returns only when the marking is done), if this JVM can trim without a full collection; a zero
   * interval turns it off.
   */
  static void start(Duration interval) {
    if (interval.isZero() || interval.isNegative()) {
      return;
    }
    Optional<String> unable = unableReason();
    if (unable.isPresent()) {
      log.info("Heap trim off: {}", unable.get());
      return;
    }
    HeapTrim trim = forThisJvm(interval);
    ScheduledExecutorService thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "switchboard-heap-trim");
              t.setDaemon(true);
              return t;
            });
    thread.scheduleWithFixedDelay(
        trim::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A trim of this JVM's heap checked every {@code interval} (by its caller). */
  static HeapTrim forThisJvm(Duration interval) {
    HotSpotDiagnosticMXBean hotspot =
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    double maxFree = Integer.parseInt(hotspot.getVMOption("MaxHeapFreeRatio").getValue()) / 100.0;
    return new HeapTrim(interval, maxFree);
  }

  /** Why this JVM cannot trim its heap without a full collection, if it cannot. */
  static Optional<String> unableReason() {
    boolean g1 =
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .anyMatch(gc -> gc.getName().startsWith("G1 "));
    if (!g1) {
      return Optional.of("the JVM does not use G1");
    }
    HotSpotDiagnosticMXBean hotspot =
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    if (!Boolean.parseBoolean(hotspot.getVMOption("ExplicitGCInvokesConcurrent").getValue())) {
      return Optional.of("needs -XX:+ExplicitGCInvokesConcurrent (else it would be a full GC)");
    }
    return Optional.empty();
  }

  /**
   * Whether a concurrent cycle is worth asking for: quiet since {@code before} (one collection per
   * {@link #QUIET_SECONDS_PER_COLLECTION} seconds of {@code interval} at most), and either grown
   * since the last cycle, or due for that cycle's follow-up (see the class), with at most {@code
   * maxFreeShare} of the heap free after a cycle.
   */
  static Decision decide(
      Reading before, Reading now, AfterCycle cycle, Duration interval, double maxFreeShare) {
    if (before == null) {
      return Decision.NONE;
    }
    long collections = now.collections() - before.collections();
    if (collections * QUIET_SECONDS_PER_COLLECTION > interval.toSeconds()) {
      return Decision.NONE;
    }
    long grown = now.committed() - cycle.committed();
    if (grown >= MIN_RETURN_BYTES && grown >= cycle.committed() / 8) {
      return Decision.GROWN;
    }
    if (!cycle.followUpDue()) {
      return Decision.NONE;
    }
    if (now.collections() == cycle.collections()) {
      return Decision.FOLLOW_UP;
    }
    long kept = (long) (now.inUse() / (1 - maxFreeShare));
    long returned = now.committed() - kept;
    return now.inUse() > 0 && returned >= MIN_RETURN_BYTES && returned >= now.inUse() / 8
        ? Decision.FOLLOW_UP
        : Decision.NONE;
  }

  /**
   * One check: reads the heap and, if {@link #decide} says so, asks for a cycle and returns when it
   * is done. Returns what it decided.
   */
  Decision check() {
    Decision decision = Decision.NONE;
    try {
      Reading now = read();
      decision = decide(last, now, afterCycle, interval, maxFreeShare);
      if (decision != Decision.NONE) {
        long before = now.committed();
        System.gc();
        now = read();
        afterCycle = new AfterCycle(now.committed(), now.collections(), decision == Decision.GROWN);
        log.info(
            "Heap trim: a concurrent cycle took the committed heap from {} to {} MB ({} MB in use"
                + " after the last collection){}",
            before >> 20,
            now.committed() >> 20,
            now.inUse() >> 20,
            trimNativeHeap().map(answer -> "; " + answer.strip()).orElse(""));
      }
      last = now;
    } catch (RuntimeException e) {
      log.warn("Heap trim check failed", e);
    }
    return decision;
  }

  /** Trims the C library's heap, if this JVM has the diagnostic command; its answer. */
  static Optional<String> trimNativeHeap() {
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      ObjectName commands = new ObjectName("com.sun.management:type=DiagnosticCommand");
      boolean present =
          Arrays.stream(server.getMBeanInfo(commands).getOperations())
              .anyMatch(op -> op.getName().equals(TRIM_NATIVE));
      if (!present) {
        return Optional.empty();
      }
      return Optional.of(String.valueOf(server.invoke(commands, TRIM_NATIVE, null, null)));
    } catch (JMException e) {
      log.debug("Native heap trim unavailable", e);
      return Optional.empty();
    }
  }

  private Reading read() {
    long committed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    long collections = 0;
    GcInfo latest = null;
    for (java.lang.management.GarbageCollectorMXBean bean :
        ManagementFactory.getGarbageCollectorMXBeans()) {
      collections += Math.max(0, bean.getCollectionCount());
      if (bean instanceof GarbageCollectorMXBean hotspotBean) {
        GcInfo info = hotspotBean.getLastGcInfo();
        if (info != null && (latest == null || info.getEndTime() > latest.getEndTime())) {
          latest = info;
        }
      }
    }
    long inUse = -1;
    if (latest != null) {
      inUse =
          latest.getMemoryUsageAfterGc().entrySet().stream()
              .filter(e -> heapPools.contains(e.getKey()))
              .mapToLong(e -> e.getValue().getUsed())
              .sum();
    }
    return new Reading(committed, inUse, collections);
  }
}
