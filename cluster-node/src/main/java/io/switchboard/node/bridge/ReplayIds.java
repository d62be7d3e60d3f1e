package io.switchboard.node.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import java.io.IOException;

/**
 * Reads the replay id of an upstream message: the value at a JSON pointer of a text message that
 * parses as JSON (a string, or a number written as in the message). Anything else has no id.
 * Thread-safe.
 */
public final class ReplayIds {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReplayIds() {}

  /** The id at {@code pointer} in {@code payload}, or null when there is none. */
  public static String extract(String pointer, ByteString payload, boolean text) {
    if (!text || pointer.isEmpty() || payload.isEmpty()) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(payload.toByteArray()).at(pointer);
      if (node.isTextual()) {
        return node.textValue().isEmpty() ? null : node.textValue();
      }
      if (node.isNumber()) {
        return node.asText();
      }
      return null;
    } catch (IOException | IllegalArgumentException notJson) {
      return null;
    }
  }
}
