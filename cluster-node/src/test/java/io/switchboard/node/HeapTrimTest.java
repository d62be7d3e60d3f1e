package io.switchboard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.HeapTrim.AfterCycle;
import io.switchboard.node.HeapTrim.Decision;
import io.switchboard.node.HeapTrim.Reading;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class HeapTrimTest {
  private static final long MB = 1L << 20;
  private static final Duration INTERVAL = Duration.ofSeconds(30);
  private static final double MAX_FREE = 0.10;

  private static Reading reading(long committedMb, long inUseMb, long collections) {
    return new Reading(committedMb * MB, inUseMb * MB, collections);
  }

  private static Decision decide(Reading before, Reading now, long cycledMb, boolean followUp) {
    // The last cycle was followed by collections (the count here is below every reading's).
    AfterCycle cycle = new AfterCycle(cycledMb * MB, 1, followUp);
    return HeapTrim.decide(before, now, cycle, INTERVAL, MAX_FREE);
  }

  @Test
  void aQuietHeapThatGrewSinceTheLastCycleGetsOne() {
    // What the benchmark's idle node showed after opening 5,000 connections: 368 MB committed,
    // 119 MB in use after young collections (part of it the storm's garbage, which only marking
    // finds), a young collection every 10 s; the last cycle had left 68 MB.
    Reading before = reading(368, 119, 40);
    assertEquals(Decision.GROWN, decide(before, reading(368, 119, 43), 68, false));
    assertEquals(Decision.GROWN, decide(before, reading(368, 119, 43), 0, false));
    // Not while busy: seven collections in 30 s are more than one per 5 s.
    assertEquals(Decision.NONE, decide(before, reading(368, 119, 47), 68, false));
    assertEquals(Decision.GROWN, decide(before, reading(368, 119, 46), 68, false));
    // Growth of at least 16 MB and an eighth.
    assertEquals(Decision.NONE, decide(before, reading(80, 60, 40), 68, false));
    assertEquals(Decision.GROWN, decide(before, reading(84, 60, 40), 68, false));
    assertEquals(Decision.NONE, decide(before, reading(2200, 2000, 40), 2000, false));
    assertEquals(Decision.GROWN, decide(before, reading(2250, 2000, 40), 2000, false));
  }

  @Test
  void onceAfterThatWhenItsMixedCollectionsFreedMuch() {
    // The first cycle left 144 MB; the mixed collections took the heap in use to 95 MB, which
    // keeps 105.6 MB with 10 % free.
    Reading before = reading(144, 95, 40);
    assertEquals(Decision.FOLLOW_UP, decide(before, reading(144, 95, 42), 144, true));
    assertEquals(Decision.NONE, decide(before, reading(144, 95, 42), 144, false));
    assertEquals(Decision.NONE, decide(before, reading(144, 95, 47), 144, true));
    // Less than 16 MB back, or less than an eighth of the heap in use.
    assertEquals(Decision.NONE, decide(before, reading(120, 95, 40), 120, true));
    assertEquals(Decision.FOLLOW_UP, decide(before, reading(122, 95, 40), 122, true));
    assertEquals(Decision.NONE, decide(before, reading(1150, 1000, 40), 1150, true));
    assertEquals(Decision.FOLLOW_UP, decide(before, reading(1240, 1000, 40), 1240, true));
    // The JVM's own MaxHeapFreeRatio (70 %): 95 MB in use may keep 316 MB.
    assertEquals(
        Decision.NONE,
        HeapTrim.decide(
            reading(300, 95, 5),
            reading(300, 95, 5),
            new AfterCycle(300 * MB, 1, true),
            INTERVAL,
            0.70));
    assertEquals(
        Decision.FOLLOW_UP,
        HeapTrim.decide(
            reading(340, 95, 5),
            reading(340, 95, 5),
            new AfterCycle(340 * MB, 1, true),
            INTERVAL,
            0.70));
  }

  @Test
  void aHeapThatStaysAsItIsCostsNoCycle() {
    // A small idle heap G1 keeps at 68 MB for 46 MB in use (its young generation): the follow-up
    // gave nothing back, and nothing more is asked while it stays so.
    Reading before = reading(68, 46, 10);
    assertEquals(Decision.NONE, decide(before, reading(68, 46, 10), 68, false));
    assertEquals(Decision.NONE, decide(null, reading(68, 46, 10), 0, true));
    assertEquals(Decision.NONE, decide(before, new Reading(300 * MB, -1, 10), 300, true));
  }

  @Test
  void theFollowUpComesAtOnceWhenNoCollectionFollowedTheCycle() {
    // A burst's garbage that a cycle of G1's own counted live: no collection since ours, nothing
    // would change by waiting.
    AfterCycle cycle = new AfterCycle(368 * MB, 12, true);
    Reading quiet = reading(368, 330, 12);
    assertEquals(Decision.FOLLOW_UP, HeapTrim.decide(quiet, quiet, cycle, INTERVAL, MAX_FREE));
    // Once collections followed it, only when much would come back.
    assertEquals(
        Decision.NONE, HeapTrim.decide(quiet, reading(368, 330, 13), cycle, INTERVAL, MAX_FREE));
    // Never twice.
    assertEquals(
        Decision.NONE,
        HeapTrim.decide(quiet, quiet, new AfterCycle(368 * MB, 12, false), INTERVAL, MAX_FREE));
  }

  /** Where the JVM has the diagnostic command (Java 17.0.9 and later), the C heap is trimmed. */
  @Test
  void theNativeHeapIsTrimmedWhereTheJvmCan() throws Exception {
    ObjectName commands = new ObjectName("com.sun.management:type=DiagnosticCommand");
    boolean jvmCan =
        Arrays.stream(
                ManagementFactory.getPlatformMBeanServer().getMBeanInfo(commands).getOperations())
            .anyMatch(op -> op.getName().equals("systemTrimNativeHeap"));
    Optional<String> answer = HeapTrim.trimNativeHeap();
    assertEquals(jvmCan, answer.isPresent(), answer.toString());
    answer.ifPresent(a -> assertTrue(a.startsWith("Trim native heap"), a));
  }

  /**
   * A real JVM (G1, 10 % free at most, no periodic collection): a burst grows its heap to hundreds
   * of megabytes and then dies; the trim's checks give most of it back, the first of them asking
   * for a cycle because the heap grew.
   */
  @Test
  void aJvmGivesBackWhatABurstLeftCommitted() throws Exception {
    Child child = run(true);
    assertEquals(0, child.exit(), child.output());
    assertTrue(child.output().startsWith("trimmed"), child.output());
    assertTrue(child.output().contains("[NONE, GROWN, "), child.output());
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
   * Grows the heap with a burst (300 MB held, then let go but 32 MB) and runs the trim's checks one
   * after another, as its thread would (a check that asks for a cycle returns when the cycle is
   * done): the first reads the heap, the next two may each ask for a cycle. Exit 0 and "trimmed"
   * when the committed heap is then below half of what the burst left, else exit 1. Without the
   * flag it prints why the trim is off and exits 0.
   */
  public static final class Burst {
    static List<byte[]> held = new ArrayList<>();

    public static void main(String[] args) {
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
      HeapTrim trim = HeapTrim.forThisJvm(Duration.ofMillis(500));
      List<Decision> decisions = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        decisions.add(trim.check());
      }
      long after = committed();
      System.out.printf(
          "%s: %d MB -> %d MB committed, checks %s%n",
          after < burst / 2 ? "trimmed" : "not trimmed", burst >> 20, after >> 20, decisions);
      System.exit(after < burst / 2 ? 0 : 1);
    }

    private static long committed() {
      return java.lang.management.ManagementFactory.getMemoryMXBean()
          .getHeapMemoryUsage()
          .getCommitted();
    }
  }
}
