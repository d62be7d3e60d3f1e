package io.switchboard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.HeapTrim.Reading;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HeapTrimTest {
  private static final long MB = 1L << 20;
  private static final Duration INTERVAL = Duration.ofSeconds(30);
  private static final double MAX_FREE = 0.10;
  // What a heap of these sizes had committed after the last cycle: no growth since.
  private static final long CYCLED = 2000 * MB;

  private static Reading reading(long committedMb, long inUseMb, long collections) {
    return new Reading(committedMb * MB, inUseMb * MB, collections);
  }

  @Test
  void aQuietHeapThatAStormGrewIsWorthACycle() {
    // What the benchmark's idle node showed: 144 MB committed, 95 MB in use, a young GC per 10 s.
    assertTrue(
        HeapTrim.worthACycle(
            reading(144, 95, 40), reading(144, 95, 43), CYCLED, INTERVAL, MAX_FREE));
  }

  @Test
  void aBusyHeapIsLeftAlone() {
    // Seven collections in 30 s: more than one per 5 s.
    assertFalse(
        HeapTrim.worthACycle(
            reading(144, 95, 40), reading(144, 95, 47), CYCLED, INTERVAL, MAX_FREE));
    assertTrue(
        HeapTrim.worthACycle(
            reading(144, 95, 40), reading(144, 95, 46), CYCLED, INTERVAL, MAX_FREE));
  }

  @Test
  void littleToGiveBackIsLeftAlone() {
    // 95 MB in use keeps 105.6 MB with 10 % free: 14 MB back is below 16 MB.
    assertFalse(
        HeapTrim.worthACycle(reading(120, 95, 0), reading(120, 95, 0), CYCLED, INTERVAL, MAX_FREE));
    assertTrue(
        HeapTrim.worthACycle(reading(122, 95, 0), reading(122, 95, 0), CYCLED, INTERVAL, MAX_FREE));
    // A large heap: at least an eighth of what is in use.
    assertFalse(
        HeapTrim.worthACycle(
            reading(1150, 1000, 0), reading(1150, 1000, 0), CYCLED, INTERVAL, MAX_FREE));
    assertTrue(
        HeapTrim.worthACycle(
            reading(1240, 1000, 0), reading(1240, 1000, 0), CYCLED, INTERVAL, MAX_FREE));
  }

  @Test
  void aHeapThatMayKeepMoreFreeIsNotCycledForNothing() {
    // The JVM's own MaxHeapFreeRatio (70 %): 95 MB in use may keep 316 MB committed.
    assertFalse(
        HeapTrim.worthACycle(reading(300, 95, 0), reading(300, 95, 0), CYCLED, INTERVAL, 0.70));
    assertTrue(
        HeapTrim.worthACycle(reading(340, 95, 0), reading(340, 95, 0), CYCLED, INTERVAL, 0.70));
  }

  @Test
  void aHeapThatGrewSinceTheLastCycleIsWorthOneWhenQuiet() {
    // 300 MB in use after young GCs may be mostly garbage in old regions: only marking tells.
    Reading before = reading(370, 330, 10);
    assertTrue(HeapTrim.worthACycle(before, reading(370, 330, 11), 0, INTERVAL, MAX_FREE));
    assertTrue(HeapTrim.worthACycle(before, reading(370, 330, 11), 300 * MB, INTERVAL, MAX_FREE));
    assertFalse(HeapTrim.worthACycle(before, reading(370, 330, 11), 360 * MB, INTERVAL, MAX_FREE));
    // Not while busy.
    assertFalse(HeapTrim.worthACycle(before, reading(370, 330, 20), 0, INTERVAL, MAX_FREE));
    // An eighth of a large heap at least.
    assertFalse(
        HeapTrim.worthACycle(before, reading(2100, 2000, 11), 2000 * MB, INTERVAL, MAX_FREE));
  }

  @Test
  void nothingIsAskedBeforeAFirstReadingAndAFirstCollection() {
    assertFalse(HeapTrim.worthACycle(null, reading(144, 95, 3), 0, INTERVAL, MAX_FREE));
    assertFalse(
        HeapTrim.worthACycle(
            reading(144, 95, 0), new Reading(144 * MB, -1, 0), CYCLED, INTERVAL, MAX_FREE));
  }

  /**
   * A real JVM (G1, 10 % free at most, no periodic collection): a burst grows its heap to hundreds
   * of megabytes and then dies; the trim gives most of it back.
   */
  @Test
  void aJvmGivesBackWhatABurstLeftCommitted() throws Exception {
    Child child = run(true);
    assertEquals(0, child.exit(), child.output());
    assertTrue(child.output().contains("trimmed"), child.output());
  }

  /** Without -XX:+ExplicitGCInvokesConcurrent a trim would be a full GC: it stays off. */
  @Test
  void withoutConcurrentExplicitCollectionsItStaysOff() throws Exception {
    Child child = run(false);
    assertEquals(0, child.exit(), child.output());
    assertTrue(child.output().contains("-XX:+ExplicitGCInvokesConcurrent"), child.output());
  }

  record Child(int exit, String output) {}

  private static Child run(boolean concurrent) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "-XX:+UseG1GC",
            "-Xms16m",
            "-Xmx1g",
            "-XX:MinHeapFreeRatio=5",
            "-XX:MaxHeapFreeRatio=10",
            "-XX:G1PeriodicGCInterval=0",
            concurrent ? "-XX:+ExplicitGCInvokesConcurrent" : "-XX:-ExplicitGCInvokesConcurrent",
            "-cp",
            System.getProperty("java.class.path"),
            Burst.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Child(-1, "timed out");
    }
    return new Child(
        p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  /**
   * Grows the heap with a burst (300 MB held, then let go but 32 MB), starts the trim every 500 ms,
   * and waits, at most 20 s, until the committed heap is below half of what the burst left: exit 0
   * and "trimmed", or exit 1. Without the flag it prints why the trim is off and exits 0.
   */
  public static final class Burst {
    static List<byte[]> held = new ArrayList<>();

    public static void main(String[] args) throws InterruptedException {
      var reason = HeapTrim.unableReason();
      if (reason.isPresent()) {
        System.out.println("off: " + reason.get());
        System.exit(0);
      }
      for (int i = 0; i < 300 * 16; i++) {
        held.add(new byte[64 << 10]);
      }
      held = new ArrayList<>(held.subList(0, 32 * 16));
      long burst = committed();
      HeapTrim.start(Duration.ofMillis(500));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        if (committed() < burst / 2) {
          System.out.printf("trimmed: %d MB -> %d MB committed%n", burst >> 20, committed() >> 20);
          System.exit(0);
        }
        Thread.sleep(100);
      }
      System.out.printf("not trimmed: %d MB -> %d MB committed%n", burst >> 20, committed() >> 20);
      System.exit(1);
    }

    private static long committed() {
      return java.lang.management.ManagementFactory.getMemoryMXBean()
          .getHeapMemoryUsage()
          .getCommitted();
    }
  }
}
