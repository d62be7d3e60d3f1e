package io.switchboard.loadtest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * Frames of the JSON subprotocol {@code switchboard.v1.json} (canonical Protobuf JSON: uint64 as
 * strings, bytes as base64, fields at their default value omitted), built as text and read with a
 * small scanner: the load generator reads tens of thousands of deliveries a second, so it does not
 * build a JSON tree for each.
 */
final class Frames {
  static final String SUBPROTOCOL = "switchboard.v1.json";

  private Frames() {}

  static String connect(long id) {
    return "{\"id\":\"" + id + "\",\"connect\":{}}";
  }

  static String join(long id, String group) {
    return "{\"id\":\"" + id + "\",\"join\":{\"group\":\"" + group + "\"}}";
  }

  static String ping(long id) {
    return "{\"id\":\"" + id + "\",\"ping\":{}}";
  }

  static String request(long id, String method, String path) {
    return "{\"id\":\""
        + id
        + "\",\"request\":{\"method\":\""
        + method
        + "\",\"path\":\""
        + path
        + "\"}}";
  }

  static String ack(Map<String, Long> cursors) {
    return "{\"ack\":{\"cursors\":" + cursors(cursors) + "}}";
  }

  static String resume(long id, String sessionId, String resumeToken, Map<String, Long> cursors) {
    return "{\"id\":\""
        + id
        + "\",\"resume\":{\"sessionId\":\""
        + sessionId
        + "\",\"resumeToken\":\""
        + resumeToken
        + "\",\"cursors\":"
        + cursors(cursors)
        + "}}";
  }

  static String cursors(Map<String, Long> cursors) {
    StringBuilder out = new StringBuilder("[");
    cursors.forEach(
        (stream, offset) -> {
          if (out.length() > 1) {
            out.append(',');
          }
          out.append("{\"stream\":\"")
              .append(stream)
              .append("\",\"offset\":\"")
              .append(offset)
              .append("\"}");
        });
    return out.append(']').toString();
  }

  /** The JSON body of the API's Publish call; the payload starts with the send time. */
  static String publishBody(String group, long sentMillis, int payloadSize) {
    return "{\"group\":\"" + group + "\",\"payload\":\"" + payload(sentMillis, payloadSize) + "\"}";
  }

  /** Base64 of the 13-digit send time in epoch milliseconds, padded with dots to {@code size}. */
  static String payload(long sentMillis, int size) {
    byte[] bytes = new byte[Math.max(15, size)];
    Arrays.fill(bytes, (byte) '.');
    byte[] time = String.format("%013d", sentMillis).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(time, 0, bytes, 0, time.length);
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** The send time a payload made by {@link #payload} starts with, or -1. */
  static long sentMillis(String base64Payload) {
    if (base64Payload == null || base64Payload.length() < 20) {
      return -1;
    }
    try {
      byte[] head = Base64.getDecoder().decode(base64Payload.substring(0, 20));
      return Long.parseLong(new String(head, 0, 13, StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  /** Whether the frame is of the given kind ({@code "delivery"}, {@code "connected"} ...). */
  static boolean is(String frame, String kind) {
    int at = frame.indexOf("\"" + kind + "\":{");
    return at >= 0 && at < 40; // the kind follows the id at most
  }

  /**
   * The string value of the first {@code "name":"..."} after {@code from} (no escapes: the values
   * read here are ids, offsets, group names and base64), or {@code null}.
   */
  static String field(String frame, String name, int from) {
    String key = "\"" + name + "\":\"";
    int at = frame.indexOf(key, from);
    if (at < 0) {
      return null;
    }
    int start = at + key.length();
    int end = frame.indexOf('"', start);
    return end < 0 ? null : frame.substring(start, end);
  }

  static String field(String frame, String name) {
    return field(frame, name, 0);
  }

  /** A uint64 field (a JSON string), 0 when absent (proto3 omits zero values). */
  static long number(String frame, String name, int from) {
    String value = field(frame, name, from);
    return value == null ? 0 : Long.parseLong(value);
  }

  /** The frame an automatic Pong answers a node's Ping with; {@code null} for other frames. */
  static String autoPong(String frame) {
    return frame.startsWith("{\"ping\"") ? "{\"pong\":{}}" : null;
  }
}
