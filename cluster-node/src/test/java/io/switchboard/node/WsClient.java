package io.switchboard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.Resume;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real WebSocket client of the client protocol (the JDK's), binary or JSON, for end-to-end tests.
 * Frames received are queued; {@link #pauseReading()} stops reading from the socket (a slow
 * consumer). Pings from the node are not answered unless {@link #answerPings} is set.
 */
public final class WsClient implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final boolean json;
  private final BlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final CompletableFuture<Integer> webSocketStatus = new CompletableFuture<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private volatile boolean reading = true;
  private volatile boolean answerPings = true;
  private WebSocket socket;

  private WsClient(boolean json) {
    this.json = json;
  }

  /** Opens a socket to {@code uri}; JSON encoding with the JSON subprotocol. */
  public static WsClient open(URI uri, boolean json) {
    return open(uri, json, Map.of());
  }

  /** Opens a socket with extra upgrade request headers (Authorization, Origin, Cookie). */
  public static WsClient open(URI uri, boolean json, Map<String, String> headers) {
    WsClient client = new WsClient(json);
    WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    headers.forEach(builder::header);
    if (json) {
      builder.subprotocols(FrameCodec.JSON_SUBPROTOCOL);
    }
    client.socket = builder.buildAsync(uri, client.new Listener()).join();
    return client;
  }

  /**
   * The HTTP status answering an upgrade request with these headers: 101 when the socket opened (it
   * is then dropped at once), else the refusal's status (401, 403, ...).
   */
  public static int upgradeStatus(URI uri, Map<String, String> headers) {
    try {
      open(uri, false, headers).abort();
      return 101;
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw e;
    }
  }

  public boolean isJson() {
    return json;
  }

  /** Whether the client answers the node's Ping frames with Pong. */
  public void answerPings(boolean answer) {
    this.answerPings = answer;
  }

  public long nextId() {
    return nextId.getAndIncrement();
  }

  /**
   * Sends a frame in this client's encoding. Synchronized: the JDK socket takes one message at a
   * time, and the listener answers Pings from another thread.
   */
  public synchronized void send(ClientFrame frame) {
    if (json) {
      socket.sendText(FrameCodec.encodeJson(frame), true).join();
    } else {
      socket.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).join();
    }
  }

  /** Sends a frame unless the node has closed the connection; false if it has. */
  public boolean trySend(ClientFrame frame) {
    try {
      send(frame);
      return true;
    } catch (java.util.concurrent.CompletionException closedByNode) {
      return false;
    }
  }

  public synchronized void sendRawBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
  }

  public synchronized void sendRawText(String text) {
    socket.sendText(text, true).join();
  }

  /** The next frame that is not a Ping, within the timeout. */
  public ServerFrame next(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      ServerFrame frame;
      try {
        frame = frames.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (frame == null) {
        fail(
            "no frame within "
                + timeout
                + (closed.isDone() ? " (closed " + closed.join() + ")" : ""));
      }
      if (frame.getKindCase() != ServerFrame.KindCase.PING) {
        return frame;
      }
    }
  }

  /** Waits for {@code count} Ping frames from the node (answered if pings are answered). */
  public void awaitPings(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    while (seen < count) {
      ServerFrame frame;
      try {
        frame = frames.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (frame == null) {
        fail("only " + seen + " pings within " + timeout);
      }
      if (frame.hasClose()) {
        fail("closed while waiting for pings: " + frame);
      }
      if (frame.hasPing()) {
        seen++;
      }
    }
  }

  /** The next frame, which must be of {@code kind}. */
  public ServerFrame expect(ServerFrame.KindCase kind) {
    ServerFrame frame = next(Duration.ofSeconds(10));
    assertEquals(kind, frame.getKindCase(), () -> "unexpected frame " + frame);
    return frame;
  }

  /** Connects a new session. */
  public Connected connect() {
    send(ClientFrame.newBuilder().setId(nextId()).setConnect(Connect.getDefaultInstance()).build());
    return expect(ServerFrame.KindCase.CONNECTED).getConnected();
  }

  /** Sends a Resume with the given cursors; the answer is left to the caller. */
  public void resume(String sessionId, String token, Map<String, Long> cursors) {
    Resume.Builder resume = Resume.newBuilder().setSessionId(sessionId).setResumeToken(token);
    cursors.forEach((s, o) -> resume.addCursors(Cursor.newBuilder().setStream(s).setOffset(o)));
    send(ClientFrame.newBuilder().setId(nextId()).setResume(resume).build());
  }

  /** Joins a group and waits for Joined; returns the head. */
  public long join(String group) {
    joinAsync(group);
    return expect(ServerFrame.KindCase.JOINED).getJoined().getHead();
  }

  /** Sends a Join without waiting for the answer. */
  public void joinAsync(String group) {
    send(
        ClientFrame.newBuilder()
            .setId(nextId())
            .setJoin(Join.newBuilder().setGroup(group))
            .build());
  }

  /** Publishes without waiting for the answer. */
  public void publishAsync(String group, String payload) {
    send(
        ClientFrame.newBuilder()
            .setId(nextId())
            .setPublish(
                Publish.newBuilder().setGroup(group).setPayload(ByteString.copyFromUtf8(payload)))
            .build());
  }

  /**
   * Publishes {@code count} messages ({@code payload} applied to 1..count) and waits until the node
   * acknowledged every one (Published); returns the offset of the last.
   */
  public long publishAll(String group, int count, java.util.function.IntFunction<String> payload) {
    for (int i = 1; i <= count; i++) {
      publishAsync(group, payload.apply(i));
    }
    long last = 0;
    for (int seen = 0; seen < count; ) {
      ServerFrame frame = next(Duration.ofSeconds(20));
      if (frame.hasPublished()) {
        seen++;
        last = Math.max(last, frame.getPublished().getOffset());
      } else if (frame.hasError()) {
        fail("publish refused: " + frame);
      }
    }
    return last;
  }

  public void ack(String stream, long offset) {
    send(
        ClientFrame.newBuilder()
            .setAck(
                Ack.newBuilder()
                    .addCursors(Cursor.newBuilder().setStream(stream).setOffset(offset)))
            .build());
  }

  /**
   * Collects deliveries of {@code stream} until one with {@code lastOffset} arrived; other frames
   * go to {@code others} when given.
   */
  public List<Delivery> deliveriesUntil(
      String stream, long lastOffset, Duration timeout, List<ServerFrame> others) {
    List<Delivery> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      ServerFrame frame = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      if (frame.hasDelivery() && frame.getDelivery().getStream().equals(stream)) {
        out.add(frame.getDelivery());
        if (frame.getDelivery().getOffset() >= lastOffset) {
          return out;
        }
      } else if (others != null) {
        others.add(frame);
      }
    }
  }

  /** Stops reading from the socket: the node's outbound buffer fills up. */
  public void pauseReading() {
    reading = false;
  }

  /** Reads from the socket again after {@link #pauseReading()}. */
  public void resumeReading() {
    reading = true;
    socket.request(1);
  }

  /** The close code of the Close frame or the WebSocket close, whichever came first. */
  public CompletableFuture<Integer> closed() {
    return closed;
  }

  /** The status code of the WebSocket close itself (what a browser's CloseEvent shows). */
  public CompletableFuture<Integer> webSocketStatus() {
    return webSocketStatus;
  }

  /** Drops the TCP connection without a close handshake (a lost network). */
  public void abort() {
    socket.abort();
  }

  @Override
  public void close() {
    if (!socket.isOutputClosed()) {
      socket.abort();
    }
  }

  private void received(ServerFrame frame) {
    if (frame.hasPing() && answerPings) {
      send(
          ClientFrame.newBuilder()
              .setPong(io.switchboard.protocol.v1.Pong.getDefaultInstance())
              .build());
    }
    if (frame.hasClose()) {
      closed.complete(frame.getClose().getCode());
    }
    frames.add(frame);
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();
    private ByteBuffer binary = ByteBuffer.allocate(0);

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        try {
          received(FrameCodec.decodeServerJson(text.toString()));
        } catch (FrameCodec.MalformedFrameException e) {
          throw new IllegalStateException(e);
        }
        text.setLength(0);
      }
      more(ws);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      ByteBuffer joined = ByteBuffer.allocate(binary.remaining() + data.remaining());
      joined.put(binary).put(data).flip();
      binary = joined;
      if (last) {
        byte[] bytes = new byte[binary.remaining()];
        binary.get(bytes);
        binary = ByteBuffer.allocate(0);
        try {
          received(ServerFrame.parseFrom(bytes));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }
      more(ws);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(statusCode);
      webSocketStatus.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.complete(-1);
    }

    private void more(WebSocket ws) {
      if (reading) {
        ws.request(1);
      }
    }
  }
}
