package io.switchboard.protocol;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.Map;

/**
 * Parses untrusted JSON into Protobuf messages (client frames, long-poll bodies, backend API calls)
 * with the canonical JSON mapping, safely. Protobuf's {@link JsonFormat} turns every number of a
 * numeric field — a JSON number or a string — into a {@code BigDecimal} first, so a literal such as
 * {@code 1e999999999} costs minutes of CPU: a 20-byte denial of service. Every numeric field's
 * literal is therefore checked first (at most {@value #MAX_NUMBER_LENGTH} characters, an exponent
 * of at most {@value #MAX_EXPONENT}), and anything else is refused as malformed before {@code
 * JsonFormat} sees it.
 */
public final class ProtoJson {

  /** Longest literal accepted for a numeric field (a uint64 has 20 digits). */
  static final int MAX_NUMBER_LENGTH = 40;

  /** Largest exponent accepted in a numeric literal (a double reaches 1e308). */
  static final int MAX_EXPONENT = 400;

  private static final int MAX_DEPTH = 64;
  private static final JsonFormat.Parser STRICT = JsonFormat.parser();
  private static final JsonFormat.Parser LENIENT = JsonFormat.parser().ignoringUnknownFields();

  private ProtoJson() {}

  /**
   * Merges {@code json} into {@code builder}; unknown fields are ignored when {@code lenient}.
   * Throws {@link InvalidProtocolBufferException} for anything that is not such a message,
   * including numbers that are too long or too large to be meant.
   */
  public static void merge(String json, Message.Builder builder, boolean lenient)
      throws InvalidProtocolBufferException {
    if (mayHoldCostlyNumber(json)) {
      JsonElement tree;
      try {
        tree = JsonParser.parseString(json);
      } catch (JsonParseException | StackOverflowError e) {
        throw new InvalidProtocolBufferException("not JSON: " + e.getMessage());
      }
      checkNumbers(tree, builder.getDescriptorForType(), 0);
    }
    try {
      (lenient ? LENIENT : STRICT).merge(json, builder);
    } catch (RuntimeException e) {
      // JsonFormat reports some malformed input (deep nesting, bad values) as runtime exceptions.
      throw new InvalidProtocolBufferException(String.valueOf(e.getMessage()));
    }
  }

  /**
   * One pass over the text, so that ordinary frames are parsed once: only a run of more than
   * {@value #MAX_NUMBER_LENGTH} digits, or an exponent of three digits or more, can make a literal
   * costly; without either, every literal parses in constant time and the tree walk is skipped.
   */
  static boolean mayHoldCostlyNumber(String json) {
    int digits = 0;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c >= '0' && c <= '9') {
        if (++digits > MAX_NUMBER_LENGTH) {
          return true;
        }
        continue;
      }
      if ((c == 'e' || c == 'E') && digits > 0 && exponentDigits(json, i + 1) >= 3) {
        return true;
      }
      digits = 0;
    }
    return false;
  }

  private static int exponentDigits(String json, int from) {
    int i = from;
    if (i < json.length() && (json.charAt(i) == '+' || json.charAt(i) == '-')) {
      i++;
    }
    int start = i;
    while (i < json.length() && json.charAt(i) >= '0' && json.charAt(i) <= '9') {
      i++;
    }
    return i - start;
  }

  private static void checkNumbers(JsonElement element, Descriptor type, int depth)
      throws InvalidProtocolBufferException {
    if (!element.isJsonObject()) {
      return;
    }
    if (depth > MAX_DEPTH) {
      throw new InvalidProtocolBufferException("JSON nested too deeply");
    }
    for (Map.Entry<String, JsonElement> entry : ((JsonObject) element).entrySet()) {
      FieldDescriptor field = field(type, entry.getKey());
      if (field == null) {
        continue;
      }
      JsonElement value = entry.getValue();
      if (field.isMapField()) {
        FieldDescriptor mapValue = field.getMessageType().findFieldByName("value");
        if (value.isJsonObject()) {
          for (Map.Entry<String, JsonElement> item : value.getAsJsonObject().entrySet()) {
            checkValue(item.getValue(), mapValue, depth);
          }
        }
      } else {
        checkValue(value, field, depth);
      }
    }
  }

  private static void checkValue(JsonElement value, FieldDescriptor field, int depth)
      throws InvalidProtocolBufferException {
    if (value.isJsonArray()) {
      // Repeated fields — and singular ones given an array: JsonFormat reads a one-element array
      // as its element.
      if (depth > MAX_DEPTH) {
        throw new InvalidProtocolBufferException("JSON nested too deeply");
      }
      for (JsonElement item : value.getAsJsonArray()) {
        checkValue(item, field, depth + 1);
      }
      return;
    }
    switch (field.getJavaType()) {
      case INT, LONG, FLOAT, DOUBLE, ENUM -> {
        if (value.isJsonPrimitive() && !isSaneNumber(value.getAsJsonPrimitive().getAsString())) {
          throw new InvalidProtocolBufferException(
              "number out of range for field " + field.getJsonName());
        }
      }
      case MESSAGE -> checkNumbers(value, field.getMessageType(), depth + 1);
      default -> {}
    }
  }

  private static FieldDescriptor field(Descriptor type, String name) {
    FieldDescriptor byName = type.findFieldByName(name);
    if (byName != null) {
      return byName;
    }
    for (FieldDescriptor f : type.getFields()) {
      if (f.getJsonName().equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** A literal short enough, with a small enough exponent, to be parsed in constant time. */
  static boolean isSaneNumber(String literal) {
    if (literal.isEmpty() || "+-.0123456789".indexOf(literal.charAt(0)) < 0) {
      return true; // not a number (an enum's name, or junk that JsonFormat refuses at once)
    }
    if (literal.length() > MAX_NUMBER_LENGTH) {
      return false;
    }
    int e = Math.max(literal.indexOf('e'), literal.indexOf('E'));
    if (e < 0) {
      return true;
    }
    String exponent = literal.substring(e + 1);
    if (exponent.startsWith("+") || exponent.startsWith("-")) {
      exponent = exponent.substring(1);
    }
    if (exponent.length() > 3) {
      return false;
    }
    if (exponent.isEmpty() || !exponent.chars().allMatch(Character::isDigit)) {
      return true; // not a number at all: JsonFormat refuses it at once
    }
    return Integer.parseInt(exponent) <= MAX_EXPONENT;
  }
}
