package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The front door over raw TCP: what is not a WebSocket of the client endpoint reaches Pekko HTTP
 * untouched (pipelined keep-alive requests, heads too large to look at), a connection that stalls
 * in its request head holds up nobody else, and a WebSocket is read as flow control allows: not
 * while its client leaves its answers unread, and to the last frame before the client went.
 */
@ExtendWith(LogCapturingExtension.class)
class FrontDoorIT {
  private static final int READ_TIMEOUT_MS = 10_000;
  private static TestNode node;

  /** Clients may flood publishes; small socket send buffers, so unread answers pile up fast. */
  private static final String FLOOD =
      """
      switchboard.edge.frames-per-second = 100000
      switchboard.edge.frame-burst = 100000
      switchboard.edge.client-publish = any
      switchboard.edge.websocket.outbound-buffer = 256
      switchboard.edge.front-door.send-buffer = 16KiB
      """;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(FLOOD);
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void pipelinedKeepAliveRequestsAreAnsweredByPekkoInOrder() throws IOException {
    try (Socket socket = connect()) {
      String request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      socket.getOutputStream().write((request + request).getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      for (int i = 0; i < 2; i++) {
        Response response = Response.read(in);
        assertEquals(200, response.status(), response.toString());
        assertTrue(response.body().startsWith("Switchboard node"), response.body());
      }
    }
  }

  @Test
  void aHeadTooLargeToLookAtIsPekkosToRefuse() throws IOException {
    try (Socket socket = connect()) {
      String huge = "x".repeat(20 * 1024);
      socket
          .getOutputStream()
          .write(
              ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + huge + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      Response response = Response.read(socket.getInputStream());
      assertTrue(response.status() >= 400 && response.status() < 500, response.toString());
    }
    assertServesWebSockets();
  }

  @Test
  void aConnectionStalledInItsHeadHoldsUpNobody() throws IOException {
    try (Socket stalled = connect()) {
      stalled.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: 127.".getBytes());
      stalled.getOutputStream().flush();
      assertServesWebSockets();
      try (Socket plain = connect()) {
        plain
            .getOutputStream()
            .write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes());
        assertEquals(200, Response.read(plain.getInputStream()).status());
      }
    }
  }

  @Test
  void anUpgradeOfAnotherPathIsRelayed() throws IOException {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /no-such-socket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      assertEquals(404, Response.read(socket.getInputStream()).status());
    }
  }

  @Test
  void aClientThatLeavesItsAnswersUnreadIsNotReadFromAndNotClosed() throws Exception {
    // 10,000 publishes, read by nobody at first: their answers (Published, 600 KB) outgrow the
    // sockets' buffers (16 KiB sent, 256 KiB received) and the outbound queue (256 frames), so the
    // node stops reading this client, and reads on once it catches up. Answers to a client's own
    // requests never make it a slow consumer.
    String group = "unread-" + UUID.randomUUID();
    int count = 10_000;
    NodeMetrics metrics = NodeMetrics.get(node.system());
    long pausedBefore = metrics.readsPausedForRoom.sum();
    try (RawWebSocket ws = RawWebSocket.open(node.httpPort(), 256 * 1024)) {
      connect(ws);
      CompletableFuture<Void> written = writeInBackground(ws, publishes(group, count));
      TestProbe.<Void>create(node.system())
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertTrue(metrics.readsPausedForRoom.sum() > pausedBefore, "reading paused");
                return null;
              });
      Set<Long> answered = new HashSet<>();
      while (answered.size() < count) {
        ServerFrame frame = ws.read();
        assertNotNull(
            frame, "the node closed the connection after " + answered.size() + " answers");
        assertFalse(frame.hasClose() || frame.hasError(), frame.toString());
        if (frame.hasPublished()) {
          // Publication i was sent with id i + 1 and must be numbered i: in the order sent.
          assertEquals(frame.getId() - 1, frame.getPublished().getOffset(), "offset of " + frame);
          answered.add(frame.getId());
        }
      }
      written.get(20, TimeUnit.SECONDS);
      assertEquals(count, node.group(group).head());
    }
  }

  @Test
  void aClientThatReadsNothingWhileNotReadIsClosedAsSlowNotSilent() throws Exception {
    // Not read because it leaves its answers unread, a client is slow, not silent: once it has read
    // nothing for the heartbeat timeout, it is closed with SLOW_CONSUMER, not HEARTBEAT_TIMEOUT.
    try (TestNode quick =
            TestNode.start(
                FLOOD
                    + "switchboard.edge.heartbeat.interval = 300ms\n"
                    + "switchboard.edge.heartbeat.timeout = 1500ms\n");
        RawWebSocket ws = RawWebSocket.open(quick.httpPort(), 256 * 1024)) {
      NodeMetrics metrics = NodeMetrics.get(quick.system());
      connect(ws);
      String group = "never-read-" + UUID.randomUUID();
      // Its write fails once the node gives up on it: expected, not looked at.
      writeInBackground(ws, publishes(group, 10_000));
      TestProbe.<Void>create(quick.system())
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertTrue(metrics.readsPausedForRoom.sum() > 0, "reading paused");
                assertEquals(1, metrics.slowConsumerCloses.sum(), "closed as a slow consumer");
                return null;
              });
    }
  }

  @Test
  void framesSentJustBeforeTheClientWentAreAllHandled() throws Exception {
    // The node reads ahead of the connection actor: what it read before it saw the connection end
    // is handled all the same, in order.
    String group = "last-words-" + UUID.randomUUID();
    int count = 300;
    try (RawWebSocket ws = RawWebSocket.open(node.httpPort(), 0)) {
      connect(ws);
      ws.write(publishes(group, count));
    }
    TestProbe.<Void>create(node.system())
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              assertEquals(count, node.group(group).head());
              return null;
            });
    try (WsClient reader = WsClient.open(node.wsUri(), false)) {
      reader.connect();
      reader.send(
          ClientFrame.newBuilder()
              .setId(reader.nextId())
              .setJoin(Join.newBuilder().setGroup(group).setSinceOffset(0))
              .build());
      List<Delivery> log = reader.deliveriesUntil(group, count, Duration.ofSeconds(20), null);
      assertEquals(count, log.size());
      for (int i = 0; i < count; i++) {
        assertEquals(i + 1, log.get(i).getOffset());
        assertEquals("m" + (i + 1), log.get(i).getPayload().toStringUtf8());
      }
    }
  }

  @Test
  void deliveriesThroughFullSocketBuffersArriveWholeAndInOrder() throws Exception {
    // 60 deliveries of 60 KB to a client that reads only once they were all published: the node's
    // 16 KiB send buffer and the client's receive buffer fill after a few, the kernel takes part of
    // a frame (loopback sends up to 64 KB in one segment), the rest waits in the node. Every frame
    // must arrive whole, once, in order.
    String group = "full-buffers-" + UUID.randomUUID();
    int count = 60;
    try (RawWebSocket reader = RawWebSocket.open(node.httpPort(), 16 * 1024);
        WsClient publisher = WsClient.open(node.wsUri(), false)) {
      connect(reader);
      reader.write(
          RawWebSocket.frame(
              ClientFrame.newBuilder()
                  .setId(2)
                  .setJoin(Join.newBuilder().setGroup(group).setSinceOffset(0))
                  .build()));
      assertTrue(answer(reader).hasJoined());
      publisher.connect();
      publisher.publishAll(group, count, FrontDoorIT::bulky);
      int delivered = 0;
      while (delivered < count) {
        ServerFrame frame = reader.read();
        assertNotNull(frame, "the node closed the connection after " + delivered + " deliveries");
        assertFalse(frame.hasClose() || frame.hasError(), frame.toString());
        if (frame.hasDelivery()) {
          delivered++;
          assertEquals(delivered, frame.getDelivery().getOffset());
          assertEquals(bulky(delivered), frame.getDelivery().getPayload().toStringUtf8());
        }
      }
    }
  }

  /** Payload {@code i} of 60,000 characters, different for every {@code i}. */
  private static String bulky(int i) {
    return (i + ":").repeat(60_000).substring(0, 60_000);
  }

  /** Sends Connect (id 1) and expects Connected. */
  private static void connect(RawWebSocket ws) throws IOException {
    ws.write(
        RawWebSocket.frame(
            ClientFrame.newBuilder().setId(1).setConnect(Connect.getDefaultInstance()).build()));
    assertTrue(answer(ws).hasConnected());
  }

  /** The next frame that is not the node's heartbeat Ping (null: the node closed). */
  private static ServerFrame answer(RawWebSocket ws) throws IOException {
    ServerFrame frame;
    do {
      frame = ws.read();
    } while (frame != null && frame.hasPing());
    return frame;
  }

  /** Publishes "m1".."m{count}" to {@code group} as frames; publication i has id i + 1. */
  private static byte[] publishes(String group, int count) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 1; i <= count; i++) {
      all.writeBytes(
          RawWebSocket.frame(
              ClientFrame.newBuilder()
                  .setId(i + 1)
                  .setPublish(
                      Publish.newBuilder()
                          .setGroup(group)
                          .setPayload(ByteString.copyFromUtf8("m" + i)))
                  .build()));
    }
    return all.toByteArray();
  }

  /** Writes {@code bytes} on another thread: the write blocks while the node does not read. */
  private static CompletableFuture<Void> writeInBackground(RawWebSocket ws, byte[] bytes) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            ws.write(bytes);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** A client of the protocol connects, joins, publishes and receives its publication. */
  private static void assertServesWebSockets() {
    try (WsClient client = WsClient.open(node.wsUri(), false)) {
      client.connect();
      String group = "front-door-" + UUID.randomUUID();
      long head = client.join(group);
      client.publishAsync(group, "hello");
      assertEquals(
          "hello",
          client
              .deliveriesUntil(group, head + 1, Duration.ofSeconds(10), null)
              .get(0)
              .getPayload()
              .toStringUtf8());
    }
  }

  private static Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", node.httpPort());
    socket.setSoTimeout(READ_TIMEOUT_MS);
    return socket;
  }

  /** An HTTP/1.1 response read off a socket (Content-Length bodies only). */
  private record Response(int status, String head, String body) {
    static Response read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed after " + head);
        }
        head.write(b);
      }
      String text = head.toString(StandardCharsets.ISO_8859_1);
      int length = 0;
      for (String line : text.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      byte[] body = in.readNBytes(length);
      return new Response(
          Integer.parseInt(text.split(" ")[1]), text, new String(body, StandardCharsets.UTF_8));
    }
  }
}
