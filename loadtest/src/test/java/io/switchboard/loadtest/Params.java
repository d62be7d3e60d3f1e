package io.switchboard.loadtest;

import java.time.Duration;
import java.util.Arrays;

/**
 * Simulation parameters: system properties {@code loadtest.<name>} (the Maven plugin passes -D).
 */
final class Params {
  private Params() {}

  static String string(String name, String fallback) {
    String value = System.getProperty("loadtest." + name);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  static int integer(String name, int fallback) {
    return Integer.parseInt(string(name, Integer.toString(fallback)));
  }

  static double decimal(String name, double fallback) {
    return Double.parseDouble(string(name, Double.toString(fallback)));
  }

  static boolean flag(String name, boolean fallback) {
    return Boolean.parseBoolean(string(name, Boolean.toString(fallback)));
  }

  static Duration seconds(String name, double fallback) {
    return Duration.ofMillis(Math.round(decimal(name, fallback) * 1000));
  }

  /** A comma-separated list of numbers, e.g. {@code 10,20,50}. */
  static double[] decimals(String name, String fallback) {
    return Arrays.stream(string(name, fallback).split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .mapToDouble(Double::parseDouble)
        .toArray();
  }
}
