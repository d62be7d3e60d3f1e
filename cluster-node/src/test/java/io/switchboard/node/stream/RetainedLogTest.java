package io.switchboard.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RetainedLogTest {

  private static Publication pub(long offset) {
    return new Publication(offset, ByteString.copyFromUtf8("m" + offset), 1_000 + offset);
  }

  private static RetainedLog logWith(long count) {
    RetainedLog log = new RetainedLog();
    for (long o = 1; o <= count; o++) {
      log.append(pub(o));
    }
    return log;
  }

  private static List<Long> offsets(List<Publication> items) {
    return items.stream().map(Publication::offset).toList();
  }

  private static List<Long> range(long fromInclusive, long toInclusive) {
    return LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
  }

  @Test
  void newLogIsEmptyAndStartsAtOffsetOne() {
    RetainedLog log = new RetainedLog();
    assertEquals(0, log.head());
    assertEquals(0, log.trimmedThrough());
    assertEquals(1, log.firstOffset());
    assertEquals(0, log.size());
    assertNull(log.oldest());
    assertNull(log.newest());
    assertEquals(List.of(), log.read(1, 10));
  }

  @Test
  void appendOnlyAcceptsTheNextOffset() {
    RetainedLog log = logWith(2);
    assertThrows(IllegalArgumentException.class, () -> log.append(pub(4)));
    assertThrows(IllegalArgumentException.class, () -> log.append(pub(2)));
    log.append(pub(3));
    assertEquals(3, log.head());
    assertEquals(3, log.size());
    assertEquals(1, log.oldest().offset());
    assertEquals(3, log.newest().offset());
  }

  @Test
  void logCreatedAtAHeadContinuesAfterIt() {
    RetainedLog log = new RetainedLog(41, 41);
    assertEquals(42, log.firstOffset());
    assertThrows(IllegalArgumentException.class, () -> log.append(pub(1)));
    log.append(pub(42));
    assertEquals(List.of(42L), offsets(log.read(0, 10)));
  }

  @Test
  void readReturnsAtMostMaxCountFromTheOffsetOn() {
    RetainedLog log = logWith(5);
    assertEquals(List.of(2L, 3L), offsets(log.read(2, 2)));
    assertEquals(List.of(4L, 5L), offsets(log.read(4, 100)));
    assertEquals(List.of(5L), offsets(log.read(5, 1)));
    assertEquals(pub(3), log.read(3, 1).get(0));
  }

  @Test
  void readBeyondTheHeadOrWithNoRoomIsEmpty() {
    RetainedLog log = logWith(5);
    assertEquals(List.of(), log.read(6, 10));
    assertEquals(List.of(), log.read(100, 10));
    assertEquals(List.of(), log.read(1, 0));
  }

  @Test
  void readHandsOutACopy() {
    RetainedLog log = logWith(3);
    List<Publication> page = log.read(1, 3);
    log.trimThrough(3);
    log.append(pub(4));
    assertEquals(List.of(1L, 2L, 3L), offsets(page));
  }

  @Test
  void trimThroughForgetsUpToAndIncludingTheOffset() {
    RetainedLog log = logWith(5);
    log.trimThrough(2);
    assertEquals(2, log.trimmedThrough());
    assertEquals(3, log.firstOffset());
    assertEquals(3, log.size());
    assertEquals(5, log.head());
    assertEquals(List.of(3L, 4L, 5L), offsets(log.read(1, 10)));
  }

  @Test
  void trimThroughBelowWhatIsTrimmedIsANoOp() {
    RetainedLog log = logWith(5);
    log.trimThrough(3);
    log.trimThrough(1);
    assertEquals(3, log.trimmedThrough());
    assertEquals(List.of(4L, 5L), offsets(log.all()));
  }

  @Test
  void trimThroughBeyondTheHeadStopsAtTheHeadAndOffsetsContinue() {
    RetainedLog log = logWith(5);
    log.trimThrough(100);
    assertEquals(5, log.trimmedThrough());
    assertEquals(6, log.firstOffset());
    assertEquals(0, log.size());
    assertEquals(5, log.head());
    log.append(pub(6));
    assertEquals(List.of(6L), offsets(log.read(1, 10)));
  }

  @Test
  void trimToCountKeepsTheNewest() {
    RetainedLog log = logWith(10);
    log.trimToCount(4);
    assertEquals(4, log.size());
    assertEquals(7, log.firstOffset());
    assertEquals(List.of(7L, 8L, 9L, 10L), offsets(log.all()));
    log.trimToCount(4);
    assertEquals(4, log.size());
    log.trimToCount(0);
    assertEquals(0, log.size());
    assertEquals(10, log.trimmedThrough());
  }

  @Test
  void lastOffsetBeforeFindsTheNewestOlderThanTheCutoff() {
    RetainedLog log = logWith(5); // timestamps 1001..1005
    assertEquals(0, log.lastOffsetBefore(1001));
    assertEquals(1, log.lastOffsetBefore(1002));
    assertEquals(3, log.lastOffsetBefore(1004));
    assertEquals(5, log.lastOffsetBefore(10_000));
    log.trimThrough(2);
    assertEquals(0, log.lastOffsetBefore(1003));
    assertEquals(3, log.lastOffsetBefore(1004));
  }

  @Test
  void ringGrowsPastSixteenAndKeepsOrder() {
    RetainedLog log = logWith(100);
    assertEquals(100, log.size());
    assertEquals(range(1, 100), offsets(log.all()));
    assertEquals(range(17, 33), offsets(log.read(17, 17)));
  }

  @Test
  void ringWrapsAroundAndGrowsWhileWrapped() {
    RetainedLog log = logWith(16);
    log.trimThrough(10); // start moves to slot 10 of 16
    for (long o = 17; o <= 26; o++) {
      log.append(pub(o)); // wraps into slots 0..9, ring is full again
    }
    assertEquals(16, log.size());
    assertEquals(range(11, 26), offsets(log.all()));
    log.append(pub(27)); // grows while the content wraps
    assertEquals(range(11, 27), offsets(log.all()));
    assertEquals(range(15, 20), offsets(log.read(15, 6)));
    assertEquals(11, log.oldest().offset());
    assertEquals(27, log.newest().offset());
  }

  @Test
  void emptiedLargeRingStillContinuesAtTheHead() {
    RetainedLog log = logWith(2_000);
    log.trimThrough(2_000);
    assertEquals(0, log.size());
    log.append(pub(2_001));
    log.append(pub(2_002));
    assertEquals(List.of(2_001L, 2_002L), offsets(log.read(0, 10)));
    assertEquals(2_000, log.trimmedThrough());
  }

  @Test
  void randomAppendsAndTrimsMatchASimpleModel() {
    Random random = new Random(42);
    RetainedLog log = new RetainedLog();
    ArrayDeque<Long> model = new ArrayDeque<>();
    long head = 0;
    long trimmed = 0;
    for (int step = 0; step < 5_000; step++) {
      int op = random.nextInt(10);
      if (op < 6) {
        head++;
        log.append(pub(head));
        model.addLast(head);
      } else if (op < 8) {
        long through = trimmed + random.nextInt(8);
        log.trimThrough(through);
        trimmed = Math.max(trimmed, Math.min(through, head));
        while (!model.isEmpty() && model.peekFirst() <= trimmed) {
          model.removeFirst();
        }
      } else if (op < 9) {
        int max = random.nextInt(40);
        log.trimToCount(max);
        while (model.size() > max) {
          trimmed = model.removeFirst();
        }
      }
      long from = trimmed + 1 - 3 + random.nextInt(Math.max(1, model.size() + 6));
      int count = random.nextInt(20);
      List<Long> expected = new ArrayList<>();
      for (long o : model) {
        if (o >= from && expected.size() < count) {
          expected.add(o);
        }
      }
      assertEquals(expected, offsets(log.read(from, count)), "read at step " + step);
      assertEquals(head, log.head());
      assertEquals(trimmed, log.trimmedThrough());
      assertEquals(model.size(), log.size());
      assertTrue(log.firstOffset() == trimmed + 1);
    }
  }
}
