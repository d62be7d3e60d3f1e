package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.Left;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Published;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The long-poll outbox: retention by cursors, held polls, exchanges, closes. */
class LongPollTransportTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Duration LONG = Duration.ofSeconds(30);

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static LongPollTransport transport(int capacity) {
    return new LongPollTransport(
        KIT.system().scheduler(),
        KIT.system().executionContext(),
        capacity,
        256,
        Duration.ofMillis(10));
  }

  private static boolean deliver(LongPollTransport t, String stream, long offset) {
    return t.sendDelivery(
        stream, new Publication(offset, ByteString.copyFromUtf8("m" + offset), 0), null);
  }

  private static List<Long> offsets(CompletableFuture<List<ServerFrame>> poll) {
    return poll.join().stream()
        .filter(ServerFrame::hasDelivery)
        .map(f -> f.getDelivery().getOffset())
        .toList();
  }

  private static CompletableFuture<List<ServerFrame>> poll(
      LongPollTransport t, Map<String, Long> cursors, Duration wait) {
    return t.poll(cursors, wait).toCompletableFuture();
  }

  @Test
  void deliveriesAreSentAgainUntilTheCursorsCoverThem() {
    LongPollTransport t = transport(100);
    for (long o = 1; o <= 3; o++) {
      assertTrue(deliver(t, "g", o));
    }
    assertEquals(List.of(1L, 2L, 3L), offsets(poll(t, Map.of(), LONG)));
    assertEquals(List.of(1L, 2L, 3L), offsets(poll(t, Map.of(), LONG)), "answer lost: again");
    assertEquals(List.of(3L), offsets(poll(t, Map.of("g", 2L), LONG)));
    assertTrue(poll(t, Map.of("g", 3L), Duration.ofMillis(50)).join().isEmpty());
    assertEquals(0, t.queued());
  }

  @Test
  void otherFramesAreSentOnceAndPingsNotAtAll() {
    LongPollTransport t = transport(100);
    t.send(ServerFrame.newBuilder().setPing(Ping.getDefaultInstance()).build());
    t.send(ServerFrames.error(0, io.switchboard.protocol.v1.ErrorCode.INTERNAL, "x"));
    assertEquals(1, poll(t, Map.of(), LONG).join().size());
    assertTrue(poll(t, Map.of(), Duration.ofMillis(50)).join().isEmpty());
  }

  @Test
  void aHeldPollAnswersWhenAFrameArrivesAndANewerPollEndsAnOlderOne() throws Exception {
    LongPollTransport t = transport(100);
    CompletableFuture<List<ServerFrame>> older = poll(t, Map.of(), LONG);
    CompletableFuture<List<ServerFrame>> newer = poll(t, Map.of(), LONG);
    assertTrue(older.get(5, TimeUnit.SECONDS).isEmpty(), "ended by the newer poll");
    assertFalse(newer.isDone());
    deliver(t, "g", 1);
    assertEquals(
        List.of(1L),
        newer.get(5, TimeUnit.SECONDS).stream().map(f -> f.getDelivery().getOffset()).toList());
  }

  @Test
  void answersToASendGoToItsExchangeNotToPolls() throws Exception {
    LongPollTransport t = transport(100);
    CompletableFuture<List<ServerFrame>> answers =
        t.exchange(Set.of(5L, 6L), Set.of(5L), LONG).toCompletableFuture();
    ServerFrame published =
        ServerFrame.newBuilder().setId(5).setPublished(Published.newBuilder().setOffset(9)).build();
    t.send(published);
    assertEquals(List.of(published), answers.get(5, TimeUnit.SECONDS));
    assertEquals(0, t.queued());
  }

  @Test
  void aSilentCloseEndsTheHeldPollEmptyAndTheInbound() throws Exception {
    LongPollTransport t = transport(100);
    AtomicBoolean inboundEnded = new AtomicBoolean();
    t.onComplete(() -> inboundEnded.set(true));
    CompletableFuture<List<ServerFrame>> held = poll(t, Map.of(), LONG);
    t.sendUrgent(ServerFrames.close(CloseCode.SESSION_REPLACED.code(), "replaced"));
    t.complete();
    assertTrue(held.get(5, TimeUnit.SECONDS).isEmpty(), "no Close the client would obey");
    assertTrue(inboundEnded.get());
    assertTrue(t.isSpent());
  }

  @Test
  void aTerminalCloseReachesThePollAndAWaitingSendAndStaysForTheNextPoll() throws Exception {
    LongPollTransport t = transport(100);
    CompletableFuture<List<ServerFrame>> send =
        t.exchange(Set.of(1L), Set.of(1L), LONG).toCompletableFuture();
    CompletableFuture<List<ServerFrame>> held = poll(t, Map.of(), LONG);
    t.sendUrgent(ServerFrames.close(CloseCode.NORMAL.code(), "bye"));
    t.complete();
    assertTrue(held.get(5, TimeUnit.SECONDS).get(0).hasClose());
    assertTrue(send.get(5, TimeUnit.SECONDS).get(0).hasClose());
    assertFalse(t.isSpent());
    assertTrue(poll(t, Map.of(), LONG).join().get(0).hasClose(), "a lost answer: again");
  }

  @Test
  void theCapacityCountsUnacknowledgedDeliveriesAndLeftGroupsAreForgotten() {
    LongPollTransport t = transport(2);
    assertTrue(deliver(t, "g", 1));
    assertTrue(deliver(t, "g", 2));
    assertFalse(deliver(t, "g", 3), "full: the connection closes as a slow consumer");
    assertEquals(List.of(1L, 2L), offsets(poll(t, Map.of(), LONG)));
    t.send(ServerFrame.newBuilder().setLeft(Left.newBuilder().setGroup("g")).build());
    List<ServerFrame> next = poll(t, Map.of(), LONG).join();
    assertEquals(1, next.size());
    assertTrue(next.get(0).hasLeft(), "deliveries of a left group wait for no cursor");
  }
}
