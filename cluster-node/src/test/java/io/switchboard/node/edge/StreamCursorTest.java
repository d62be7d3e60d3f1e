package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class StreamCursorTest {

  private static final String STREAM = "room-1";

  record Fetch(long fromOffset, int maxCount) {}

  record Recovery(boolean recovered, long firstOffset, long head) {}

  /**
   * Records what the cursor decides and models the outbound buffer (each delivery takes a slot
   * until the test drains it); fails on a second fetch while one is in flight.
   */
  static final class RecordingOutput implements StreamCursor.Output {
    final List<Publication> delivered = new ArrayList<>();
    final List<EncodedOnce> shared = new ArrayList<>();
    final List<Fetch> fetches = new ArrayList<>();
    final List<Recovery> recoveries = new ArrayList<>();
    Fetch pending;
    int capacity = 1_000_000;
    int queued;

    @Override
    public void deliver(String stream, Publication publication, EncodedOnce encoded) {
      assertEquals(STREAM, stream);
      delivered.add(publication);
      shared.add(encoded);
      queued++;
    }

    @Override
    public boolean deliverLive(String stream, Publication publication, EncodedOnce encoded) {
      if (room() <= 0) {
        return false;
      }
      deliver(stream, publication, encoded);
      return true;
    }

    @Override
    public void fetch(String stream, long fromOffset, int maxCount) {
      assertEquals(STREAM, stream);
      if (pending != null) {
        fail("fetch " + fromOffset + " while " + pending + " is in flight");
      }
      pending = new Fetch(fromOffset, maxCount);
      fetches.add(pending);
    }

    @Override
    public int room() {
      return capacity - queued;
    }

    /** The client read everything queued. */
    void drain() {
      queued = 0;
    }

    @Override
    public void recovery(String stream, boolean recovered, long firstOffset, long head) {
      assertEquals(STREAM, stream);
      recoveries.add(new Recovery(recovered, firstOffset, head));
    }

    /** Takes the request in flight, which the test answers with a page. */
    Fetch takePending() {
      Fetch f = pending;
      pending = null;
      return f;
    }

    List<Long> deliveredOffsets() {
      return delivered.stream().map(Publication::offset).toList();
    }
  }

  /** A stream's log: offsets firstOffset..head. */
  static final class ModelLog {
    long firstOffset = 1;
    long head;

    Page read(long fromOffset, int maxCount) {
      List<Publication> items = new ArrayList<>();
      for (long o = Math.max(fromOffset, firstOffset); o <= head && items.size() < maxCount; o++) {
        items.add(pub(o));
      }
      return new Page(STREAM, items, firstOffset, head);
    }
  }

  private static Publication pub(long offset) {
    return new Publication(offset, ByteString.copyFromUtf8("p" + offset), offset);
  }

  private static List<Long> range(long fromInclusive, long toInclusive) {
    return LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
  }

  private final RecordingOutput out = new RecordingOutput();
  private final ModelLog log = new ModelLog();

  private StreamCursor cursor(long lastDelivered, boolean replay, int pageSize, int maxHeld) {
    return new StreamCursor(STREAM, lastDelivered, replay, out, pageSize, maxHeld);
  }

  /** Answers the fetch in flight from the model log. */
  private void answer(StreamCursor cursor) {
    Fetch f = out.takePending();
    assertTrue(f != null, "a fetch is in flight");
    cursor.onPage(log.read(f.fromOffset(), f.maxCount()));
  }

  /** Takes the request in flight and reads at most {@code max} from the model log. */
  private Page readPending(int max) {
    Fetch f = out.takePending();
    assertTrue(f != null, "a fetch is in flight");
    return log.read(f.fromOffset(), Math.min(max, f.maxCount()));
  }

  @Test
  void inOrderLiveGoesStraightOutWithItsSharedEncoding() {
    StreamCursor cursor = cursor(0, false, 10, 100);
    EncodedOnce first = new EncodedOnce();
    EncodedOnce second = new EncodedOnce();
    cursor.onLive(pub(1), first);
    cursor.onLive(pub(2), second);
    assertEquals(List.of(1L, 2L), out.deliveredOffsets());
    assertSame(first, out.shared.get(0));
    assertSame(second, out.shared.get(1));
    assertEquals(List.of(), out.fetches);
    assertEquals(2, cursor.lastDelivered());
  }

  @Test
  void duplicateOrOlderLiveIsDropped() {
    StreamCursor cursor = cursor(0, false, 10, 100);
    cursor.onLive(pub(1), null);
    cursor.onLive(pub(2), null);
    cursor.onLive(pub(2), null);
    cursor.onLive(pub(1), null);
    assertEquals(List.of(1L, 2L), out.deliveredOffsets());
    assertEquals(List.of(), out.fetches);
  }

  @Test
  void cursorStartedMidStreamIgnoresWhatItAlreadyHas() {
    StreamCursor cursor = cursor(7, false, 10, 100);
    cursor.onLive(pub(7), null);
    cursor.onLive(pub(8), null);
    assertEquals(List.of(8L), out.deliveredOffsets());
  }

  @Test
  void aCursorPastTheHeadGoesOnFromTheRealHead() {
    // A resume claiming offsets the stream never had: what is published next is delivered.
    log.head = 5;
    StreamCursor cursor = cursor(1000, true, 10, 100);
    cursor.start();
    answer(cursor);
    assertEquals(List.of(new Recovery(true, 1, 5)), out.recoveries, "the real head");
    assertEquals(5, cursor.lastDelivered());
    log.head = 6;
    cursor.onLive(pub(6), null);
    assertEquals(List.of(6L), out.deliveredOffsets());
  }

  @Test
  void jumpFetchesFromLastPlusOneAndDrainsHeldLiveAfterThePage() {
    log.head = 6;
    StreamCursor cursor = cursor(0, false, 2, 100);
    cursor.onLive(pub(1), null);
    cursor.onLive(pub(4), null);
    assertEquals(new Fetch(2, 2), out.pending);
    cursor.onLive(pub(5), null);
    cursor.onLive(pub(6), null);
    assertEquals(List.of(1L), out.deliveredOffsets(), "nothing after the gap goes out early");

    answer(cursor); // 2,3 from the log, then 4,5,6 held

    assertEquals(range(1, 6), out.deliveredOffsets());
    assertEquals(List.of(new Fetch(2, 2)), out.fetches, "one read for the gap");
    assertNull(out.pending);
    cursor.onLive(pub(7), null);
    assertEquals(range(1, 7), out.deliveredOffsets());
  }

  @Test
  void heldLiveCoveredByThePageIsNotDeliveredTwice() {
    log.head = 5;
    StreamCursor cursor = cursor(0, false, 100, 100);
    cursor.onLive(pub(3), null);
    cursor.onLive(pub(5), null);
    cursor.onLive(pub(4), null);
    answer(cursor); // the page has 1..5, including everything held

    assertEquals(range(1, 5), out.deliveredOffsets());
    assertEquals(List.of(new Fetch(1, 100)), out.fetches);
  }

  @Test
  void headMovedOnAQuietStreamReadsTheMissingRange() {
    log.head = 3;
    StreamCursor cursor = cursor(0, false, 10, 100);
    cursor.onHead(3);
    assertEquals(new Fetch(1, 10), out.pending);
    answer(cursor);
    assertEquals(range(1, 3), out.deliveredOffsets());
    cursor.onHead(3);
    cursor.onHead(2);
    assertEquals(1, out.fetches.size(), "a head we already reached reads nothing");
  }

  @Test
  void pageStartingAfterTheCursorReportsLostHistoryAndContinuesFromItsFirstOffset() {
    log.firstOffset = 6;
    log.head = 10;
    StreamCursor cursor = cursor(2, false, 100, 100);
    cursor.onHead(10);
    assertEquals(new Fetch(3, 100), out.pending);
    answer(cursor);

    assertEquals(List.of(new Recovery(false, 6, 10)), out.recoveries);
    assertEquals(range(6, 10), out.deliveredOffsets());
    assertEquals(10, cursor.lastDelivered());
  }

  @Test
  void replayFetchesPagesUntilTheHeadThenReportsRecovered() {
    log.head = 8;
    StreamCursor cursor = cursor(3, true, 2, 100);
    cursor.start();
    assertEquals(new Fetch(4, 2), out.pending);
    answer(cursor);
    assertEquals(new Fetch(6, 2), out.pending);
    assertEquals(List.of(), out.recoveries, "no report before the head is reached");
    answer(cursor);
    answer(cursor);

    assertEquals(range(4, 8), out.deliveredOffsets());
    assertEquals(List.of(new Recovery(true, 1, 8)), out.recoveries);
    assertNull(out.pending);
    cursor.onLive(pub(9), null);
    assertEquals(range(4, 9), out.deliveredOffsets());
  }

  @Test
  void replayOfAnUpToDateCursorReportsRecoveredAfterOneRead() {
    log.head = 5;
    StreamCursor cursor = cursor(5, true, 10, 100);
    cursor.start();
    assertEquals(new Fetch(6, 10), out.pending);
    answer(cursor);
    assertEquals(List.of(), out.delivered);
    assertEquals(List.of(new Recovery(true, 1, 5)), out.recoveries);
  }

  @Test
  void replayOverTrimmedHistoryReportsNotRecoveredOnceWhenCaughtUp() {
    log.firstOffset = 4;
    log.head = 7;
    StreamCursor cursor = cursor(0, true, 2, 100);
    cursor.start();
    answer(cursor); // 4,5: history 1..3 is gone
    assertEquals(List.of(), out.recoveries, "a replay reports once, at the end");
    answer(cursor); // 6,7
    assertEquals(range(4, 7), out.deliveredOffsets());
    assertEquals(List.of(new Recovery(false, 4, 7)), out.recoveries);
  }

  @Test
  void liveArrivingDuringReplayIsHeldAndNotDuplicated() {
    log.head = 3;
    StreamCursor cursor = cursor(0, true, 100, 100);
    cursor.start();
    // Published while the page is being read: the page will hold 1..3, live 3 and 4 arrive now.
    log.head = 4;
    cursor.onLive(pub(3), null);
    cursor.onLive(pub(4), null);
    assertEquals(List.of(), out.delivered, "nothing goes out before the replayed history");
    assertEquals(1, out.fetches.size());

    out.takePending();
    cursor.onPage(new Page(STREAM, List.of(pub(1), pub(2), pub(3)), 1, 3));

    assertEquals(range(1, 4), out.deliveredOffsets());
    assertEquals(List.of(new Recovery(true, 1, 4)), out.recoveries);
    assertEquals(1, out.fetches.size(), "held live filled the rest, no second read");
    assertNull(out.pending);
  }

  @Test
  void onlyOneFetchIsInFlight() {
    log.head = 20;
    StreamCursor cursor = cursor(0, false, 5, 100);
    cursor.onHead(5);
    cursor.onHead(10);
    cursor.onLive(pub(12), null);
    cursor.onLive(pub(13), null);
    assertEquals(List.of(new Fetch(1, 5)), out.fetches);
    answer(cursor);
    assertEquals(new Fetch(6, 5), out.pending);
  }

  @Test
  void noRoomDefersTheFetchAndRetryResumes() {
    log.head = 3;
    StreamCursor cursor = cursor(0, false, 10, 100);
    out.capacity = 0; // a full buffer
    cursor.onHead(3);
    assertTrue(cursor.isDeferred());
    assertEquals(List.of(), out.fetches);

    out.capacity = 4; // room for less than a page: read only what fits
    cursor.retry();
    assertFalse(cursor.isDeferred());
    assertEquals(new Fetch(1, 4), out.pending);
    answer(cursor);
    assertEquals(range(1, 3), out.deliveredOffsets());
  }

  @Test
  void pageStopsWhenTheBufferIsFullAndTheRestIsReadAgain() {
    log.head = 8;
    StreamCursor cursor = cursor(0, false, 10, 100);
    out.capacity = 12;
    cursor.onHead(8);
    assertEquals(new Fetch(1, 10), out.pending);
    out.queued = 9; // other streams filled the buffer meanwhile: room for 3
    answer(cursor);
    assertEquals(range(1, 3), out.deliveredOffsets());
    assertTrue(cursor.isDeferred());
    assertNull(out.pending);

    out.drain();
    cursor.retry();
    assertEquals(new Fetch(4, 10), out.pending);
    answer(cursor);
    assertEquals(range(1, 8), out.deliveredOffsets());
  }

  @Test
  void heldLiveWaitsForRoomAndKeepsItsSharedEncoding() {
    log.head = 2;
    StreamCursor cursor = cursor(0, false, 2, 100);
    out.capacity = 2;
    EncodedOnce shared = new EncodedOnce();
    cursor.onLive(pub(2), shared);
    out.queued = 1; // room for one frame when the page arrives
    cursor.onPage(readPending(2));
    assertEquals(List.of(1L), out.deliveredOffsets());
    assertTrue(cursor.isDeferred());

    out.drain();
    cursor.retry();
    assertEquals(List.of(1L, 2L), out.deliveredOffsets());
    assertSame(shared, out.shared.get(1));
    assertEquals(1, out.fetches.size());
  }

  @Test
  void failedReadIsRetriedFromTheSameOffset() {
    log.head = 3;
    StreamCursor cursor = cursor(0, false, 10, 100);
    cursor.onHead(3);
    out.takePending();
    cursor.onFetchFailed();
    assertTrue(cursor.isDeferred());
    cursor.retry();
    assertEquals(List.of(new Fetch(1, 10), new Fetch(1, 10)), out.fetches);
    answer(cursor);
    assertEquals(range(1, 3), out.deliveredOffsets());
  }

  @Test
  void emptyPageBelowAClaimedHeadDoesNotSpin() {
    StreamCursor cursor = cursor(0, false, 10, 100);
    cursor.onHead(5);
    out.takePending();
    cursor.onPage(new Page(STREAM, List.of(), 1, 5));
    assertNull(out.pending, "no endless re-read of a log that returns nothing");
    log.head = 6;
    cursor.onLive(pub(6), null);
    answer(cursor); // the next live message makes it read again
    assertEquals(range(1, 6), out.deliveredOffsets());
  }

  @Test
  void liveBeyondTheHoldLimitIsReadBackFromTheLog() {
    log.head = 6;
    StreamCursor cursor = cursor(0, false, 2, 2);
    for (long o = 2; o <= 6; o++) {
      cursor.onLive(pub(o), null); // holds 2 and 3, drops 4..6
    }
    answer(cursor); // 1,2 then held 3
    answer(cursor); // 4,5
    answer(cursor); // 6
    assertEquals(range(1, 6), out.deliveredOffsets());
    assertNull(out.pending);
  }

  /**
   * A stream published at random speed; live delivery shuffles, duplicates and loses messages; the
   * outbound buffer fills and reads fail now and then. Whatever happens, the socket gets exactly
   * the offsets after its start, in order, once each.
   */
  @Test
  void randomizedLiveAndPagesDeliverEveryOffsetOnceInOrder() {
    Random random = new Random(20240611L);
    for (int iteration = 0; iteration < 1_000; iteration++) {
      runRandomScenario(random, iteration);
    }
  }

  private static void runRandomScenario(Random random, int iteration) {
    RecordingOutput out = new RecordingOutput();
    ModelLog log = new ModelLog();
    long start = random.nextInt(5);
    long total = start + random.nextInt(80);
    log.head = start;
    boolean replay = random.nextBoolean();
    int pageSize = 1 + random.nextInt(8);
    // At least one page of room: with less, the cursor never reads (StreamCursor.MIN_FETCH).
    out.capacity = pageSize + random.nextInt(40);
    int maxHeld = 1 + random.nextInt(12);
    StreamCursor cursor = new StreamCursor(STREAM, start, replay, out, pageSize, maxHeld);
    if (replay) {
      cursor.start();
    }
    List<Long> inFlight = new ArrayList<>();
    String where =
        "iteration %d (start %d, total %d, replay %s, capacity %d, page %d, held %d)"
            .formatted(iteration, start, total, replay, out.capacity, pageSize, maxHeld);
    int steps = 0;
    while (log.head < total || !inFlight.isEmpty() || out.pending != null) {
      if (++steps > 100_000) {
        fail(where + ": no progress");
      }
      int action = random.nextInt(10);
      if (action < 3 && log.head < total) {
        log.head++;
        int copies = random.nextInt(10) < 2 ? 0 : 1 + (random.nextInt(10) < 2 ? 1 : 0);
        for (int c = 0; c < copies; c++) {
          inFlight.add(log.head);
        }
      } else if (action < 6 && !inFlight.isEmpty()) {
        long offset = inFlight.remove(random.nextInt(inFlight.size()));
        cursor.onLive(pub(offset), null);
      } else if (action < 8 && out.pending != null) {
        Fetch f = out.takePending();
        if (random.nextInt(10) == 0) {
          cursor.onFetchFailed();
        } else {
          cursor.onPage(log.read(f.fromOffset(), f.maxCount()));
        }
      } else if (action == 8) {
        out.drain(); // the client read its buffer; the connection's room check retries
        if (cursor.isDeferred()) {
          cursor.retry();
        }
      } else if (random.nextInt(4) == 0) {
        cursor.onHead(log.head); // the fan-out's periodic HeadMoved
      }
    }
    // Quiet stream: the fan-out's refresh tells the head; the cursor repairs what live lost.
    cursor.onHead(log.head);
    while (out.pending != null || cursor.isDeferred()) {
      if (++steps > 200_000) {
        fail(where + ": no progress after the stream went quiet");
      }
      if (out.pending != null) {
        Fetch f = out.takePending();
        cursor.onPage(log.read(f.fromOffset(), f.maxCount()));
      } else {
        out.drain();
        cursor.retry();
      }
    }

    assertEquals(range(start + 1, total), out.deliveredOffsets(), where);
    assertEquals(total, cursor.lastDelivered(), where);
    if (replay) {
      assertEquals(1, out.recoveries.size(), where + ": one report per replay");
      assertTrue(out.recoveries.get(0).recovered(), where + ": nothing was trimmed");
    } else {
      assertEquals(List.of(), out.recoveries, where);
    }
  }

  // ---- the live lane (the fan-out's direct path)

  @Test
  void anOpenCursorInStepTakesLiveMessagesThroughItsLane() {
    StreamCursor c = cursor(4, false, 10, 100);
    assertFalse(c.offer(pub(5), null), "a closed lane declines");
    c.setOpen(true);
    assertTrue(c.offer(pub(5), null));
    assertTrue(c.offer(pub(6), null));
    assertTrue(c.offer(pub(6), null), "what it has is not sent twice, and not declined");
    assertEquals(List.of(5L, 6L), out.deliveredOffsets());
    assertEquals(6, c.lastDelivered());
    // The actor path then skips what the lane delivered and continues from there.
    c.onLive(pub(6), null);
    c.onLive(pub(7), null);
    assertEquals(List.of(5L, 6L, 7L), out.deliveredOffsets());
  }

  @Test
  void theLaneDeclinesGapsRepairsAndAFullBuffer() {
    StreamCursor c = cursor(4, false, 10, 100);
    c.setOpen(true);
    assertFalse(c.offer(pub(6), null), "a gap goes to the actor, which repairs it");
    c.onLive(pub(6), null); // held; the cursor reads 5 from the log
    assertEquals(new Fetch(5, 10), out.takePending());
    assertFalse(c.offer(pub(7), null), "declined while the cursor reads the log");
    log.head = 7;
    c.onPage(log.read(5, 10));
    assertEquals(List.of(5L, 6L, 7L), out.deliveredOffsets());
    assertTrue(c.offer(pub(8), null), "in step again");
    out.capacity = out.queued;
    assertFalse(c.offer(pub(9), null), "a full buffer is the actor's to handle (slow consumer)");
    assertEquals(8, c.lastDelivered());
    c.setOpen(false);
    out.drain();
    assertFalse(c.offer(pub(9), null), "closed again");
  }

  @Test
  void acksOnlyMoveForwardAndTheSessionHearsEachHighestOnce() {
    StreamCursor c = cursor(20, false, 10, 100);
    assertEquals(StreamCursor.NOT_ACKED, c.ackedUntold(), "nothing acked yet");
    assertEquals(5, c.acknowledge(5));
    assertEquals(StreamCursor.NOT_ACKED, c.acknowledge(5), "the same offset again moves nothing");
    assertEquals(StreamCursor.NOT_ACKED, c.acknowledge(3), "an older offset moves nothing");
    assertEquals(9, c.acknowledge(9));
    assertEquals(9, c.ackedUntold(), "the highest one");
    assertEquals(StreamCursor.NOT_ACKED, c.ackedUntold(), "told already");
    assertEquals(12, c.acknowledge(12));
    assertEquals(12, c.ackedUntold());
  }

  @Test
  void anAckBeyondWhatWentOutAcknowledgesOnlyWhatWentOut() {
    StreamCursor c = cursor(20, false, 10, 100);
    assertEquals(20, c.acknowledge(1_000_000), "no more than was delivered");
    assertEquals(StreamCursor.NOT_ACKED, c.acknowledge(25), "still nothing beyond 20");
    c.onLive(pub(21), null);
    assertEquals(List.of(21L), out.deliveredOffsets());
    assertEquals(21, c.acknowledge(25), "now 21 went out");
  }
}
