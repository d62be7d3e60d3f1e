package io.switchboard.persistence.redis;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The binary layout of what the plugin stores in Redis: a journal entry (one event) and a snapshot.
 * Hand-written and versioned by its first byte so the payload bytes stay exactly what Pekko
 * serialization produced (Protobuf events stay Protobuf). The persistence id is not stored: it is
 * part of the key. All integers are big-endian.
 *
 * <pre>
 * journal entry v1: byte 1 | long sequenceNr | long timestamp | int serializerId
 *                   | short+bytes serializer manifest | short+bytes event-adapter manifest
 *                   | short+bytes writerUuid | int+bytes payload
 * snapshot v1:      byte 1 | long sequenceNr | long timestamp | int serializerId
 *                   | short+bytes manifest | int+bytes payload
 * </pre>
 */
final class RecordFormat {

  static final byte JOURNAL_V1 = 1;
  static final byte SNAPSHOT_V1 = 1;

  private RecordFormat() {}

  /** One decoded journal entry. */
  record Entry(
      long sequenceNr,
      long timestamp,
      int serializerId,
      String serializerManifest,
      String adapterManifest,
      String writerUuid,
      byte[] payload) {}

  /** One decoded snapshot. */
  record Snapshot(
      long sequenceNr, long timestamp, int serializerId, String manifest, byte[] payload) {}

  static byte[] encodeEntry(
      long sequenceNr,
      long timestamp,
      int serializerId,
      String serializerManifest,
      String adapterManifest,
      String writerUuid,
      byte[] payload) {
    byte[] m = utf8(serializerManifest);
    byte[] a = utf8(adapterManifest);
    byte[] w = utf8(writerUuid);
    ByteBuffer buf =
        ByteBuffer.allocate(
            1 + 8 + 8 + 4 + 2 + m.length + 2 + a.length + 2 + w.length + 4 + payload.length);
    buf.put(JOURNAL_V1).putLong(sequenceNr).putLong(timestamp).putInt(serializerId);
    putShortBytes(buf, m);
    putShortBytes(buf, a);
    putShortBytes(buf, w);
    buf.putInt(payload.length).put(payload);
    return buf.array();
  }

  static Entry decodeEntry(byte[] bytes) {
    try {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      byte version = buf.get();
      if (version != JOURNAL_V1) {
        throw new IllegalStateException("Unknown journal entry format version " + version);
      }
      long sequenceNr = buf.getLong();
      long timestamp = buf.getLong();
      int serializerId = buf.getInt();
      String serializerManifest = getShortString(buf);
      String adapterManifest = getShortString(buf);
      String writerUuid = getShortString(buf);
      byte[] payload = getIntBytes(buf);
      return new Entry(
          sequenceNr,
          timestamp,
          serializerId,
          serializerManifest,
          adapterManifest,
          writerUuid,
          payload);
    } catch (BufferUnderflowException e) {
      throw new IllegalStateException("Truncated journal entry of " + bytes.length + " bytes", e);
    }
  }

  static byte[] encodeSnapshot(
      long sequenceNr, long timestamp, int serializerId, String manifest, byte[] payload) {
    byte[] m = utf8(manifest);
    ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 8 + 4 + 2 + m.length + 4 + payload.length);
    buf.put(SNAPSHOT_V1).putLong(sequenceNr).putLong(timestamp).putInt(serializerId);
    putShortBytes(buf, m);
    buf.putInt(payload.length).put(payload);
    return buf.array();
  }

  static Snapshot decodeSnapshot(byte[] bytes) {
    try {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      byte version = buf.get();
      if (version != SNAPSHOT_V1) {
        throw new IllegalStateException("Unknown snapshot format version " + version);
      }
      long sequenceNr = buf.getLong();
      long timestamp = buf.getLong();
      int serializerId = buf.getInt();
      String manifest = getShortString(buf);
      byte[] payload = getIntBytes(buf);
      return new Snapshot(sequenceNr, timestamp, serializerId, manifest, payload);
    } catch (BufferUnderflowException e) {
      throw new IllegalStateException("Truncated snapshot of " + bytes.length + " bytes", e);
    }
  }

  private static byte[] utf8(String s) {
    byte[] bytes = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > 0xFFFF) {
      throw new IllegalArgumentException(
          "String longer than 65535 UTF-8 bytes: " + s.substring(0, 40));
    }
    return bytes;
  }

  private static void putShortBytes(ByteBuffer buf, byte[] bytes) {
    buf.putShort((short) bytes.length).put(bytes);
  }

  private static String getShortString(ByteBuffer buf) {
    int length = Short.toUnsignedInt(buf.getShort());
    if (length > buf.remaining()) {
      throw new BufferUnderflowException();
    }
    String s = new String(buf.array(), buf.position(), length, StandardCharsets.UTF_8);
    buf.position(buf.position() + length);
    return s;
  }

  private static byte[] getIntBytes(ByteBuffer buf) {
    int length = buf.getInt();
    if (length < 0 || length > buf.remaining()) {
      throw new BufferUnderflowException();
    }
    byte[] bytes = new byte[length];
    buf.get(bytes);
    return bytes;
  }
}
