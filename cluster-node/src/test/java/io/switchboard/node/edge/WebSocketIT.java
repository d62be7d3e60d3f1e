package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.Recovery;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The foundation's guarantees end to end, over real WebSockets against a real node: ordering,
 * resume with no gap and no duplicate while publishing continues, acks trimming the log, explicit
 * loss of history, slow consumers, heartbeats, and hostile frames.
 */
@ExtendWith(LogCapturingExtension.class)
class WebSocketIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  static final String CONFIG =
      """
      switchboard.edge.frames-per-second = 100000
      switchboard.edge.frame-burst = 100000
      switchboard.edge.websocket.outbound-buffer = 256
      switchboard.edge.websocket.max-frame-size = 16KiB
      switchboard.edge.client-publish = any
      switchboard.group.retention.max-count = 5000
      switchboard.edge.websocket.close-grace = 20s
      switchboard.session.cursor-forward-interval = 100ms
      switchboard.group.trim-interval = 100ms
      """;
  static TestNode node;
  // Whether the WebSocket close status repeats the Close frame's code (the front door's sockets).
  static boolean closeStatusCarriesTheCode;

  /** Sockets on the Netty front door (the default). */
  @BeforeAll
  static void startNode() {
    node = TestNode.start(CONFIG);
    closeStatusCarriesTheCode = true;
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  private static String group() {
    return "g-" + UUID.randomUUID();
  }

  @ParameterizedTest(name = "json={0}")
  @ValueSource(booleans = {false, true})
  void twoClientsInAGroupReceivePublicationsInTheSameOrder(boolean json) {
    String g = group();
    try (WsClient a = WsClient.open(node.wsUri(), json);
        WsClient b = WsClient.open(node.wsUri(), !json)) {
      a.connect();
      b.connect();
      a.join(g);
      b.join(g);
      for (int i = 1; i <= 200; i++) {
        a.publishAsync(g, "m" + i);
      }
      List<ServerFrame> aOthers = new ArrayList<>();
      List<Delivery> atA = a.deliveriesUntil(g, 200, WAIT, aOthers);
      List<Delivery> atB = b.deliveriesUntil(g, 200, WAIT, null);
      assertSequence(atA, 1, 200);
      assertSequence(atB, 1, 200);
      for (int i = 0; i < 200; i++) {
        assertEquals("m" + (i + 1), atA.get(i).getPayload().toStringUtf8());
        assertEquals(atA.get(i).getPayload(), atB.get(i).getPayload());
      }
      long published = aOthers.stream().filter(ServerFrame::hasPublished).count();
      assertTrue(published <= 200, "at most one Published per Publish");
    }
  }

  @ParameterizedTest(name = "json={0}")
  @ValueSource(booleans = {false, true})
  void resumeWhilePublishingDeliversExactlyTheGapThenLive(boolean json) throws Exception {
    String g = group();
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient first = WsClient.open(node.wsUri(), json)) {
      publisher.connect();
      Connected session = first.connect();
      first.join(g);
      publisher.publishAll(g, 20, i -> "m" + i);
      long last = lastOffset(first.deliveriesUntil(g, 20, WAIT, null));
      first.abort();

      // 1,000 publications while the client is away, and more during the resume itself.
      publisher.publishAll(g, 1000, i -> "m" + (20 + i));
      AtomicBoolean publishing = new AtomicBoolean(true);
      AtomicLong published = new AtomicLong(1020);
      Thread background =
          new Thread(
              () -> {
                while (publishing.get() && published.get() < 1500) {
                  publisher.publishAsync(g, "m" + published.incrementAndGet());
                }
              });
      background.start();
      WsClient second = WsClient.open(node.wsUri(), json);
      try {
        second.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, last));
        ServerFrame connected = second.expect(ServerFrame.KindCase.CONNECTED);
        assertTrue(connected.getConnected().getResumed());
        assertEquals(List.of(g), connected.getConnected().getGroupsList());
        publishing.set(false);
        background.join(TimeUnit.SECONDS.toMillis(20));
        long total = published.get();
        List<ServerFrame> others = new ArrayList<>();
        List<Delivery> got = new ArrayList<>();
        second = readResuming(second, json, session, g, last, total, got, others);
        assertSequence(got, last + 1, total);
        for (Delivery d : got) {
          assertEquals("m" + d.getOffset(), d.getPayload().toStringUtf8());
        }
        WsClient current = second;
        Recovery recovery =
            others.stream()
                .filter(f -> f.hasRecovery() && f.getRecovery().getStream().equals(g))
                .findFirst()
                .orElseGet(() -> current.expect(ServerFrame.KindCase.RECOVERY))
                .getRecovery();
        assertTrue(recovery.getRecovered());
        // Live after the seam: one more publication arrives once.
        publisher.publishAsync(g, "m" + (total + 1));
        assertSequence(second.deliveriesUntil(g, total + 1, WAIT, null), total + 1, total + 1);
      } finally {
        second.close();
      }
    }
  }

  /**
   * Reads {@code g} up to offset {@code until} as a real client does: when the node closes the
   * socket with a resumable code (its outbound buffer overflowed while publishing ran at full
   * speed: SLOW_CONSUMER), it resumes from the last offset it got. Deliveries go to {@code got},
   * other frames to {@code others}; returns the client connected at the end.
   */
  private static WsClient readResuming(
      WsClient client,
      boolean json,
      Connected session,
      String g,
      long from,
      long until,
      List<Delivery> got,
      List<ServerFrame> others) {
    long deadline = System.nanoTime() + 3 * WAIT.toNanos();
    long last = from;
    while (last < until) {
      assertTrue(System.nanoTime() < deadline, "delivered up to " + last + " of " + until);
      ServerFrame f = client.next(WAIT);
      if (f.hasDelivery() && f.getDelivery().getStream().equals(g)) {
        got.add(f.getDelivery());
        last = f.getDelivery().getOffset();
      } else if (f.hasClose()) {
        assertTrue(CloseCode.isResumable(f.getClose().getCode()), f.toString());
        client.abort();
        client = WsClient.open(node.wsUri(), json);
        client.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, last));
        client.expect(ServerFrame.KindCase.CONNECTED);
      } else {
        others.add(f);
      }
    }
    return client;
  }

  @Test
  void acksTrimTheGroupLog() {
    String g = group();
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      a.connect();
      a.join(g);
      for (int i = 1; i <= 50; i++) {
        a.publishAsync(g, "m" + i);
      }
      a.deliveriesUntil(g, 50, WAIT, null);
      assertEquals(1, node.group(g).firstOffset(), "nothing acked yet");
      a.ack(g, 30);
      TestProbe.<Void>create(node.system())
          .awaitAssert(
              WAIT,
              () -> {
                assertEquals(31, node.group(g).firstOffset());
                assertEquals(20, node.group(g).retained());
                return null;
              });
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void framesSentBackToBackAreHandledInTheOrderSent(boolean json) {
    // The socket reads ahead of the connection actor (a window of frames handed before the actor
    // released the earlier ones): 300 publications written without waiting must be numbered in the
    // order sent.
    String g = group();
    try (WsClient reader = WsClient.open(node.wsUri(), false);
        WsClient writer = WsClient.open(node.wsUri(), json)) {
      reader.connect();
      long head = reader.join(g);
      writer.connect();
      Map<Long, Long> offsetById = new java.util.HashMap<>();
      List<Long> ids = new ArrayList<>();
      for (int i = 1; i <= 300; i++) {
        long id = writer.nextId();
        ids.add(id);
        writer.send(
            ClientFrame.newBuilder()
                .setId(id)
                .setPublish(
                    Publish.newBuilder().setGroup(g).setPayload(ByteString.copyFromUtf8("p" + i)))
                .build());
      }
      while (offsetById.size() < 300) {
        ServerFrame frame = writer.next(WAIT);
        if (frame.hasPublished()) {
          offsetById.put(frame.getId(), frame.getPublished().getOffset());
        }
      }
      for (int i = 0; i < 300; i++) {
        assertEquals(head + 1 + i, offsetById.get(ids.get(i)), "offset of publication " + (i + 1));
      }
      List<Delivery> got = reader.deliveriesUntil(g, head + 300, WAIT, null);
      assertSequence(got, head + 1, head + 300);
      for (Delivery d : got) {
        assertEquals("p" + (d.getOffset() - head), d.getPayload().toStringUtf8());
      }
    }
  }

  @Test
  void theLastAckReachesTheSessionBeforeItDetaches() {
    // Acks go to the group at once and to the session at most every few seconds: the second ack
    // here is only told to the session when the connection ends. A client that resumes without a
    // cursor for the group starts from what the session knows, so it must be the last ack.
    String g = group();
    Connected session;
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient a = WsClient.open(node.wsUri(), false)) {
      session = readerOf(publisher, a, g, 50);
      a.ack(g, 30);
      a.ack(g, 45);
      // The node handled both acks (the group, whose only member is this session, trimmed to
      // 45) before the client goes: what it read, the session must end up knowing.
      awaitFirstOffset(g, 46);
    }
    assertResumedWithoutCursorsFrom(session, g, 46, 50);
  }

  @Test
  void anAckBeyondWhatWasDeliveredNeitherTrimsNorSkipsHistory() {
    // A client's bug (another stream's offset, a stale cursor): the node takes the ack as far as it
    // delivered, so neither the group's trim nor a resume without cursors passes what is unread.
    String g = group();
    Connected session;
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient a = WsClient.open(node.wsUri(), false)) {
      session = readerOf(publisher, a, g, 10);
      a.ack(g, 1_000_000);
      awaitFirstOffset(g, 11);
      a.abort();
      publisher.publishAll(g, 5, i -> "while away " + i);
    }
    assertResumedWithoutCursorsFrom(session, g, 11, 15);
  }

  @Test
  void acksTakenOffTheConnectionActorReachTheGroupAndTheSession() {
    // An ack that comes while the connection actor holds none of the client's frames is recorded
    // on the socket's own thread (front door only): the first ack here goes to the actor (the
    // session is due to hear it), the second, sent once the first was handled, does not. The group
    // must trim by it and the session must know it when the client goes.
    String g = group();
    NodeMetrics metrics = NodeMetrics.get(node.system());
    boolean frontDoor =
        node.system().settings().config().getBoolean("switchboard.edge.front-door.enabled");
    Connected session;
    long onSocketBefore;
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient a = WsClient.open(node.wsUri(), false)) {
      session = readerOf(publisher, a, g, 40);
      a.ack(g, 10);
      awaitFirstOffset(g, 11);
      onSocketBefore = metrics.acksOnSocketThread.sum();
      a.ack(g, 25);
      awaitFirstOffset(g, 26);
      long onSocket = metrics.acksOnSocketThread.sum() - onSocketBefore;
      if (frontDoor) {
        assertTrue(onSocket >= 1, "the second ack was taken on the socket's thread");
      } else {
        assertEquals(0, onSocket, "Pekko HTTP's sockets hand every ack to the actor");
      }
    }
    assertResumedWithoutCursorsFrom(session, g, 26, 40);
  }

  /**
   * Connects {@code reader} to a new session in {@code g} and {@code publisher} to another, which
   * publishes {@code count} messages the reader then reads; returns the reader's session.
   */
  private static Connected readerOf(WsClient publisher, WsClient reader, String g, int count) {
    publisher.connect();
    Connected session = reader.connect();
    reader.join(g);
    publisher.publishAll(g, count, i -> "m" + i);
    reader.deliveriesUntil(g, count, WAIT, null);
    return session;
  }

  /**
   * Once {@code session} detached, a client resuming it without cursors gets {@code g} from {@code
   * first} (the session's cursor plus one) to {@code last}, all of it recovered: not from an older
   * cursor whose history the group has trimmed away since.
   */
  private static void assertResumedWithoutCursorsFrom(
      Connected session, String g, long first, long last) {
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            WAIT,
            () -> {
              assertFalse(node.session(session.getSessionId()).attached(), "detached");
              return null;
            });
    try (WsClient b = WsClient.open(node.wsUri(), false)) {
      b.resume(session.getSessionId(), session.getResumeToken(), Map.of());
      assertTrue(b.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
      List<ServerFrame> others = new ArrayList<>();
      assertSequence(b.deliveriesUntil(g, last, WAIT, others), first, last);
      assertTrue(recoveryOf(b, g, others).getRecovered(), "replayed from the last ack");
    }
  }

  /** The Recovery of stream {@code g} among {@code others}, else the next one {@code b} reads. */
  private static Recovery recoveryOf(WsClient b, String g, List<ServerFrame> others) {
    return others.stream()
        .filter(ServerFrame::hasRecovery)
        .map(ServerFrame::getRecovery)
        .filter(r -> r.getStream().equals(g))
        .findFirst()
        .orElseGet(() -> b.expect(ServerFrame.KindCase.RECOVERY).getRecovery());
  }

  private static void awaitFirstOffset(String g, long first) {
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            WAIT,
            () -> {
              assertEquals(first, node.group(g).firstOffset());
              return null;
            });
  }

  @Test
  void historyBeyondRetentionIsReportedAsNotRecovered() {
    String g = group();
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient a = WsClient.open(node.wsUri(), false)) {
      publisher.connect();
      Connected session = a.connect();
      a.join(g);
      a.abort();
      assertEquals(5300, publisher.publishAll(g, 5300, i -> "m" + i));
      try (WsClient b = WsClient.open(node.wsUri(), false)) {
        b.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, 0L));
        b.expect(ServerFrame.KindCase.CONNECTED);
        List<ServerFrame> others = new ArrayList<>();
        List<Delivery> got = b.deliveriesUntil(g, 5300, WAIT, others);
        assertSequence(got, 301, 5300);
        Recovery recovery = recoveryOf(b, g, others);
        assertFalse(recovery.getRecovered());
        assertEquals(301, recovery.getFirstOffset());
      }
    }
  }

  @ParameterizedTest(name = "json={0}")
  @ValueSource(booleans = {false, true})
  void slowConsumerIsClosedWithItsCodeThenResumesWithNothingLost(boolean json) {
    String g = group();
    String payload = "x".repeat(8000);
    int total = 3000;
    try (WsClient publisher = WsClient.open(node.wsUri(), false);
        WsClient slow = WsClient.open(node.wsUri(), json)) {
      publisher.connect();
      Connected session = slow.connect();
      slow.join(g);
      slow.pauseReading();
      publisher.publishAll(g, total, i -> payload);
      // 24 MB were published; the paused socket cannot have taken them: its buffer overflowed.
      slow.resumeReading();
      List<Delivery> before = new ArrayList<>();
      ServerFrame close = null;
      while (close == null) {
        ServerFrame f = slow.next(WAIT);
        if (f.hasDelivery()) {
          before.add(f.getDelivery());
        } else if (f.hasClose()) {
          close = f;
        }
      }
      assertEquals(CloseCode.SLOW_CONSUMER.code(), close.getClose().getCode());
      assertTrue(before.size() < total, "closed before everything was delivered");
      long last = before.isEmpty() ? 0 : lastOffset(before);
      if (!before.isEmpty()) {
        assertSequence(before, 1, last);
      }
      try (WsClient resumed = WsClient.open(node.wsUri(), json)) {
        resumed.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, last));
        resumed.expect(ServerFrame.KindCase.CONNECTED);
        assertSequence(resumed.deliveriesUntil(g, total, WAIT, null), last + 1, total);
      }
    }
  }

  @Test
  void badFramesGetErrorsAndTheNodeKeepsServingOthers() {
    String g = group();
    try (WsClient good = WsClient.open(node.wsUri(), false);
        WsClient bad = WsClient.open(node.wsUri(), false);
        WsClient badJson = WsClient.open(node.wsUri(), true)) {
      good.connect();
      good.join(g);
      bad.connect();

      bad.sendRawBinary(new byte[] {(byte) 0xff, 0x13, 0x37, 0x00, 0x42});
      assertEquals(
          ErrorCode.BAD_FRAME, bad.expect(ServerFrame.KindCase.ERROR).getError().getCode());

      // A frame kind this node does not know (field 99), as a newer client might send.
      bad.sendRawBinary(new byte[] {0x08, 0x07, (byte) 0x9a, 0x06, 0x00});
      ServerFrame unknown = bad.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.UNKNOWN_FRAME, unknown.getError().getCode());
      assertEquals(7, unknown.getId());

      badJson.sendRawText("{\"join\": ");
      assertEquals(
          ErrorCode.BAD_FRAME, badJson.expect(ServerFrame.KindCase.ERROR).getError().getCode());
      badJson.send(
          ClientFrame.newBuilder()
              .setId(5)
              .setJoin(io.switchboard.protocol.v1.Join.newBuilder().setGroup("x"))
              .build());
      ServerFrame notConnected = badJson.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.NOT_CONNECTED, notConnected.getError().getCode());
      assertEquals(5, notConnected.getId());
    }
    try (WsClient good = WsClient.open(node.wsUri(), false);
        WsClient bad = WsClient.open(node.wsUri(), false)) {
      good.connect();
      good.join(g);
      bad.connect();
      bad.send(
          ClientFrame.newBuilder()
              .setId(9)
              .setJoin(io.switchboard.protocol.v1.Join.newBuilder().setGroup(""))
              .build());
      ServerFrame invalid = bad.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.INVALID_ARGUMENT, invalid.getError().getCode());

      bad.sendRawBinary(new byte[20 * 1024]);
      assertEquals(
          ErrorCode.FRAME_TOO_LARGE, bad.expect(ServerFrame.KindCase.ERROR).getError().getCode());
      assertEquals(
          CloseCode.FRAME_TOO_LARGE.code(),
          bad.expect(ServerFrame.KindCase.CLOSE).getClose().getCode());

      good.publishAsync(g, "still here");
      assertSequence(good.deliveriesUntil(g, 1, WAIT, null), 1, 1);
    }
  }

  @Test
  void framesSentRightBehindConnectAreAllHandledInOrder() {
    // The session starts while they arrive: they wait for it (the socket is read no further than
    // they can wait), none is refused for coming early.
    String g = group();
    int count = 400;
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      a.send(
          ClientFrame.newBuilder()
              .setId(a.nextId())
              .setConnect(io.switchboard.protocol.v1.Connect.getDefaultInstance())
              .build());
      for (int i = 1; i <= count; i++) {
        a.publishAsync(g, "m" + i);
      }
      a.expect(ServerFrame.KindCase.CONNECTED);
      List<Long> offsets = new ArrayList<>();
      while (offsets.size() < count) {
        ServerFrame frame = a.next(WAIT);
        assertTrue(frame.hasPublished(), () -> "expected Published, got " + frame);
        offsets.add(frame.getPublished().getOffset());
      }
      assertEquals(
          LongStream.rangeClosed(1, count).boxed().toList(), offsets.stream().sorted().toList());
    }
  }

  @Test
  void aPublishRightBehindAJoinLandsAfterTheJoinAndReachesThePublisher() {
    String g = group();
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      a.connect();
      a.joinAsync(g);
      a.publishAsync(g, "mine");
      assertEquals(0, a.expect(ServerFrame.KindCase.JOINED).getJoined().getHead());
      // The receipt and the delivery come by different paths, in either order.
      List<ServerFrame> others = new ArrayList<>();
      Delivery own = a.deliveriesUntil(g, 1, WAIT, others).get(0);
      assertEquals(1, own.getOffset());
      assertEquals("mine", own.getPayload().toStringUtf8());
      ServerFrame receipt = others.isEmpty() ? a.next(WAIT) : others.get(0);
      assertEquals(1, receipt.getPublished().getOffset(), () -> "expected Published: " + receipt);
    }
  }

  @Test
  void aLeaveRightBehindAJoinLeavesWhatTheJoinJoined() {
    String g = group();
    try (WsClient a = WsClient.open(node.wsUri(), false);
        WsClient other = WsClient.open(node.wsUri(), false)) {
      a.connect();
      a.joinAsync(g);
      a.send(
          ClientFrame.newBuilder()
              .setId(a.nextId())
              .setLeave(io.switchboard.protocol.v1.Leave.newBuilder().setGroup(g))
              .build());
      // In the client's order, and the join is not reported as failed (a client would retry it).
      assertEquals(g, a.expect(ServerFrame.KindCase.JOINED).getJoined().getGroup());
      assertEquals(g, a.expect(ServerFrame.KindCase.LEFT).getLeft().getGroup());
      // Not a member: a publication to the group does not reach it, one to its next group does.
      other.connect();
      other.publishAll(g, 1, i -> "after the leave");
      String next = group();
      a.join(next);
      other.publishAll(next, 1, i -> "next");
      Delivery first = a.expect(ServerFrame.KindCase.DELIVERY).getDelivery();
      assertEquals(next, first.getStream());
    }
  }

  @Test
  void aSecondConnectionResumingTheSessionReplacesTheFirst() {
    String g = group();
    try (WsClient first = WsClient.open(node.wsUri(), false);
        WsClient second = WsClient.open(node.wsUri(), true);
        WsClient publisher = WsClient.open(node.wsUri(), false)) {
      Connected session = first.connect();
      first.join(g);
      second.resume(session.getSessionId(), session.getResumeToken(), Map.of(g, 0L));
      assertTrue(second.expect(ServerFrame.KindCase.CONNECTED).getConnected().getResumed());
      // The first hears why, in the Close frame and in the WebSocket close status alike.
      int frameCode = first.closed().orTimeout(10, TimeUnit.SECONDS).join();
      int status = first.webSocketStatus().orTimeout(10, TimeUnit.SECONDS).join();
      assertEquals(CloseCode.SESSION_REPLACED.code(), frameCode);
      assertFalse(CloseCode.isResumable(frameCode), "the replaced connection must not resume");
      assertEquals(closeStatusCarriesTheCode ? CloseCode.SESSION_REPLACED.code() : 1000, status);
      publisher.connect();
      publisher.publishAll(g, 3, i -> "to the second " + i);
      assertSequence(second.deliveriesUntil(g, 3, WAIT, null), 1, 3);
    }
  }

  @Test
  void resumeWithAWrongTokenYieldsNothing() {
    try (WsClient owner = WsClient.open(node.wsUri(), false);
        WsClient thief = WsClient.open(node.wsUri(), false)) {
      Connected session = owner.connect();
      thief.resume(session.getSessionId(), "not-the-token", Map.of());
      ServerFrame refused = thief.expect(ServerFrame.KindCase.ERROR);
      assertEquals(ErrorCode.SESSION_NOT_FOUND, refused.getError().getCode());
      assertTrue(node.session(session.getSessionId()).attached(), "owner stays attached");
      // The refused socket can still start its own session.
      assertFalse(thief.connect().getSessionId().equals(session.getSessionId()));
    }
  }

  @Test
  void directMessagesReachTheInboxAndSurviveAResume() {
    try (WsClient a = WsClient.open(node.wsUri(), false)) {
      Connected session = a.connect();
      var ref =
          org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(node.system())
              .entityRefFor(
                  io.switchboard.node.session.SessionEntity.ENTITY_KEY, session.getSessionId());
      for (int i = 1; i <= 3; i++) {
        String text = "direct " + i;
        ref.askWithStatus(
                (org.apache.pekko.actor.typed.ActorRef<
                            org.apache.pekko.pattern.StatusReply<
                                io.switchboard.node.session.SessionEntity.Queued>>
                        r) ->
                    new io.switchboard.node.session.SessionEntity.SendDirect(
                        com.google.protobuf.ByteString.copyFromUtf8(text), r),
                Duration.ofSeconds(5))
            .toCompletableFuture()
            .join();
      }
      List<Delivery> got = a.deliveriesUntil("@", 3, WAIT, null);
      assertSequence(got, 1, 3);
      a.abort();
      try (WsClient b = WsClient.open(node.wsUri(), false)) {
        b.resume(session.getSessionId(), session.getResumeToken(), Map.of("@", 1L));
        b.expect(ServerFrame.KindCase.CONNECTED);
        assertSequence(b.deliveriesUntil("@", 3, WAIT, null), 2, 3);
      }
    }
  }

  private static void assertSequence(List<Delivery> deliveries, long from, long to) {
    WebSocketITSupport.assertSequence(deliveries, from, to);
  }

  private static long lastOffset(List<Delivery> deliveries) {
    return deliveries.get(deliveries.size() - 1).getOffset();
  }
}
