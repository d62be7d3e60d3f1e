package io.switchboard.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The outcome of a run beside Gatling's HTML report: a one-line summary appended to {@code
 * loadtest.summaryFile} (and printed), and the figures as properties in {@code
 * loadtest.resultsFile} when given (a later run compares itself with them, e.g. the node with the
 * baseline).
 */
final class Report {
  private final String simulation;
  private final Map<String, String> figures = new LinkedHashMap<>();

  Report(String simulation) {
    this.simulation = simulation;
  }

  Report put(String key, Object value) {
    figures.put(key, String.valueOf(value));
    return this;
  }

  /** Figures of an earlier run ({@code loadtest.compareWith}), empty when none. */
  static Properties earlier() {
    Properties earlier = new Properties();
    String file = Params.string("compareWith", "");
    if (!file.isEmpty() && Files.exists(Path.of(file))) {
      try (var in = Files.newInputStream(Path.of(file))) {
        earlier.load(in);
      } catch (IOException e) {
        System.err.println("cannot read " + file + ": " + e);
      }
    }
    return earlier;
  }

  void write(String line) {
    String summary = Instant.now() + " " + simulation + " " + line;
    System.out.println();
    System.out.println("SUMMARY " + summary);
    try {
      Path file = Path.of(Params.string("summaryFile", "target/loadtest-summary.txt"));
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, summary + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      String results = Params.string("resultsFile", "");
      if (!results.isEmpty()) {
        Properties properties = new Properties();
        properties.putAll(figures);
        try (var out = Files.newOutputStream(Path.of(results))) {
          properties.store(out, simulation);
        }
      }
    } catch (IOException e) {
      System.err.println("cannot write the summary: " + e);
    }
  }
}
