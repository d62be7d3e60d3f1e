package io.switchboard.node.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Readers of Linux /proc figures: process CPU and RSS, whole-machine CPU, and this JVM's CPU. */
final class Proc {
  private Proc() {}

  private static final long CLOCK_TICKS = clockTicks();

  /** User + system CPU seconds of a process (from /proc/PID/stat; 1/CLK_TCK resolution). */
  static double cpuSeconds(long pid) {
    try {
      return (double) cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")))
          / CLOCK_TICKS;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /**
   * User + system CPU seconds of the JIT compiler threads of a JVM (threads named "C1
   * CompilerThread…" and "C2 CompilerThread…", from /proc/PID/task/TID/stat).
   */
  static double jitCpuSeconds(long pid) {
    long ticks = 0;
    try (java.util.stream.Stream<Path> tasks =
        Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (comm.contains("CompilerThre")) {
            ticks += cpuTicks(stat);
          }
        } catch (IOException | RuntimeException threadGone) {
          // A thread that ended between the listing and the read.
        }
      }
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    return (double) ticks / CLOCK_TICKS;
  }

  /** utime + stime of a /proc stat line, in clock ticks. */
  private static long cpuTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // after "pid (comm) ": f[0] is field 3 (state); utime is field 14, stime field 15
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** VmRSS of a process in bytes (from /proc/PID/status). */
  static long rssBytes(long pid) {
    return statusKb(pid, "VmRSS:") * 1024;
  }

  static int threads(long pid) {
    return (int) statusKb(pid, "Threads:");
  }

  private static long statusKb(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // process gone
    }
    return -1;
  }

  /** CPU seconds of this JVM (nanosecond resolution). */
  static double selfCpuSeconds() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime() / 1e9;
    }
    return cpuSeconds(ProcessHandle.current().pid());
  }

  /** Busy and total CPU seconds of the whole machine, all cores (from /proc/stat). */
  static double[] machineCpuSeconds() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/stat"));
      String[] f = lines.get(0).trim().split("\\s+");
      long user = Long.parseLong(f[1]);
      long nice = Long.parseLong(f[2]);
      long system = Long.parseLong(f[3]);
      long idle = Long.parseLong(f[4]);
      long iowait = Long.parseLong(f[5]);
      long irq = Long.parseLong(f[6]);
      long softirq = Long.parseLong(f[7]);
      long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
      long busy = user + nice + system + irq + softirq + steal;
      long total = busy + idle + iowait;
      return new double[] {(double) busy / CLOCK_TICKS, (double) total / CLOCK_TICKS};
    } catch (IOException | RuntimeException e) {
      return new double[] {Double.NaN, Double.NaN};
    }
  }

  /** The first line of a command's output, or "" (for the report header). */
  static String run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = in.readAllBytes();
      }
      p.waitFor(10, TimeUnit.SECONDS);
      return new String(out, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static long clockTicks() {
    try {
      return Long.parseLong(run("getconf", "CLK_TCK"));
    } catch (RuntimeException e) {
      return 100;
    }
  }
}
