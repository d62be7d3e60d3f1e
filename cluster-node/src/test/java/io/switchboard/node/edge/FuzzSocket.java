package io.switchboard.node.edge;

import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lean WebSocket for fuzzing: sends whatever it is given from one thread, reads everything the
 * node sends, keeps only counts, the close code and whether a given Pong arrived — nothing that
 * grows with the number of frames. (It never answers Pings: the JDK socket takes one send at a
 * time, and a fuzzing socket is never silent long enough to need them.)
 */
final class FuzzSocket implements WebSocket.Listener {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** The close code: the node's Close frame, else the WebSocket close status; -1 on an error. */
  final CompletableFuture<Integer> closed = new CompletableFuture<>();

  final AtomicLong received = new AtomicLong();
  private volatile long awaitedPong = Long.MIN_VALUE;
  private volatile CompletableFuture<Void> pong = new CompletableFuture<>();
  private final StringBuilder text = new StringBuilder();
  private ByteBuffer binary = ByteBuffer.allocate(0);
  private WebSocket ws;
  private final java.util.ArrayDeque<FuzzFrames.Fuzz> lastSent = new java.util.ArrayDeque<>();
  private volatile String sendFailure = "";

  static FuzzSocket open(URI uri, boolean json, Map<String, String> headers) {
    FuzzSocket socket = new FuzzSocket();
    WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    headers.forEach(b::header);
    b.subprotocols(json ? FrameCodec.JSON_SUBPROTOCOL : FrameCodec.BINARY_SUBPROTOCOL);
    socket.ws = b.buildAsync(uri, socket).orTimeout(10, TimeUnit.SECONDS).join();
    return socket;
  }

  /** Sends one message; false when the socket is closed (or stuck for 10 s). */
  boolean send(FuzzFrames.Fuzz fuzz) {
    if (closed.isDone()) {
      return false;
    }
    if (lastSent.size() == 12) {
      lastSent.removeFirst();
    }
    lastSent.addLast(fuzz);
    try {
      (fuzz.isText()
              ? ws.sendText(fuzz.text(), true)
              : ws.sendBinary(ByteBuffer.wrap(fuzz.binary()), true))
          .get(10, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      sendFailure = e.toString();
      return false;
    }
  }

  /** Sends a Ping with {@code id}; the future completes when its Pong arrives. */
  CompletableFuture<Void> ping(long id) {
    pong = new CompletableFuture<>();
    awaitedPong = id;
    send(
        new FuzzFrames.Fuzz(
            ClientFrame.newBuilder()
                .setId(id)
                .setPing(io.switchboard.protocol.v1.Ping.getDefaultInstance())
                .build()
                .toByteArray(),
            null));
    return pong;
  }

  /** The last frames sent and the last send failure, for a report on a stuck connection. */
  String recent() {
    return "last frames sent "
        + lastSent.stream().map(FuzzSocket::describe).toList()
        + ", last send failure ["
        + sendFailure
        + "]";
  }

  private static String describe(FuzzFrames.Fuzz fuzz) {
    int size = fuzz.isText() ? fuzz.text().length() : fuzz.binary().length;
    String kind;
    try {
      ClientFrame frame =
          fuzz.isText()
              ? FrameCodec.decodeJson(fuzz.text())
              : FrameCodec.decodeBinary(fuzz.binary());
      kind = frame.getKindCase().name();
    } catch (FrameCodec.MalformedFrameException | RuntimeException e) {
      kind = "malformed";
    }
    return (fuzz.isText() ? "text " : "binary ") + size + "B " + kind;
  }

  void abort() {
    ws.abort();
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
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
        closed.complete(-2);
      }
    }
    w.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
    text.append(data);
    if (last) {
      try {
        received(FrameCodec.decodeServerJson(text.toString()));
      } catch (FrameCodec.MalformedFrameException e) {
        closed.complete(-2);
      }
      text.setLength(0);
    }
    w.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
    closed.complete(statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket w, Throwable error) {
    closed.complete(-1);
  }

  private void received(ServerFrame frame) {
    received.incrementAndGet();
    if (frame.hasClose()) {
      closed.complete(frame.getClose().getCode());
    } else if (frame.hasPong() && frame.getId() == awaitedPong) {
      pong.complete(null);
    }
  }
}
