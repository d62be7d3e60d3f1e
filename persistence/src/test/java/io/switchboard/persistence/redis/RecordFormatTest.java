package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RecordFormatTest {

  @Test
  void aJournalEntryRoundTrips() {
    byte[] payload = {0, 1, 2, (byte) 0xff};
    byte[] bytes =
        RecordFormat.encodeEntry(42, 1_700_000_000_000L, 17, "ser-ü", "adapter", "uuid", payload);
    RecordFormat.Entry entry = RecordFormat.decodeEntry(bytes);
    assertEquals(42, entry.sequenceNr());
    assertEquals(1_700_000_000_000L, entry.timestamp());
    assertEquals(17, entry.serializerId());
    assertEquals("ser-ü", entry.serializerManifest());
    assertEquals("adapter", entry.adapterManifest());
    assertEquals("uuid", entry.writerUuid());
    assertArrayEquals(payload, entry.payload());
  }

  @Test
  void emptyAndMissingStringsDecodeAsEmpty() {
    RecordFormat.Entry entry =
        RecordFormat.decodeEntry(RecordFormat.encodeEntry(1, 0, 1, "", null, "", new byte[0]));
    assertEquals("", entry.serializerManifest());
    assertEquals("", entry.adapterManifest());
    assertEquals(0, entry.payload().length);
  }

  @Test
  void aSnapshotRoundTrips() {
    byte[] payload = new byte[100_000];
    Arrays.fill(payload, (byte) 7);
    RecordFormat.Snapshot snapshot =
        RecordFormat.decodeSnapshot(RecordFormat.encodeSnapshot(9, 123, 5, "m", payload));
    assertEquals(9, snapshot.sequenceNr());
    assertEquals(123, snapshot.timestamp());
    assertEquals(5, snapshot.serializerId());
    assertEquals("m", snapshot.manifest());
    assertArrayEquals(payload, snapshot.payload());
  }

  @Test
  void anUnknownVersionIsRefused() {
    byte[] bytes = RecordFormat.encodeEntry(1, 0, 1, "", "", "", new byte[] {1});
    bytes[0] = 9;
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> RecordFormat.decodeEntry(bytes));
    assertEquals("Unknown journal entry format version 9", e.getMessage());
  }

  @Test
  void aTruncatedRecordIsRefused() {
    byte[] bytes = RecordFormat.encodeEntry(1, 0, 1, "manifest", "", "uuid", new byte[] {1, 2, 3});
    for (int length = 1; length < bytes.length; length++) {
      byte[] truncated = Arrays.copyOf(bytes, length);
      assertThrows(
          IllegalStateException.class,
          () -> RecordFormat.decodeEntry(truncated),
          "length " + length);
    }
  }
}
