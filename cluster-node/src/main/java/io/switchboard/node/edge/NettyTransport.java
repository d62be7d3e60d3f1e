package io.switchboard.node.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ServerFrame;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A WebSocket's outbound side on the {@link FrontDoor}: frames are written straight to the Netty
 * channel from the connection actor's thread, counted until the socket took them, and flushed once
 * per burst (one flush task runs after every write queued before it). A delivery shared by many
 * sockets is encoded once; each socket wraps the same bytes. Binary Protobuf or canonical JSON,
 * fixed per connection by the subprotocol.
 */
final class NettyTransport implements Transport {

  /** Room kept beyond the capacity for control frames, answers and the final Close. */
  private static final int HEADROOM = 64;

  private static final ServerFrame PING =
      ServerFrame.newBuilder()
          .setPing(io.switchboard.protocol.v1.Ping.getDefaultInstance())
          .build();
  private static final byte[] PING_BINARY = FrameCodec.encodeBinary(PING);
  private static final byte[] PING_JSON =
      FrameCodec.encodeJson(PING).getBytes(java.nio.charset.StandardCharsets.UTF_8);

  private final Channel channel;
  private final boolean json;
  private final int capacity;
  private final AtomicInteger queued = new AtomicInteger();
  private final ChannelFutureListener written = future -> queued.decrementAndGet();
  // A linked queue: nothing pre-allocated per socket (an idle socket costs two nodes).
  private final Queue<WebSocketFrame> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drain = this::drain;
  private final AtomicBoolean completed = new AtomicBoolean();

  NettyTransport(Channel channel, boolean json, int capacity) {
    this.channel = channel;
    this.json = json;
    this.capacity = capacity;
  }

  @Override
  public boolean send(ServerFrame frame) {
    if (queued.get() >= capacity + HEADROOM - 1) {
      return false;
    }
    write(encode(frame));
    return true;
  }

  @Override
  public boolean sendDelivery(String stream, Publication publication, EncodedOnce shared) {
    if (queued.get() >= capacity) {
      return false;
    }
    if (shared == null) {
      write(encode(ServerFrames.delivery(stream, publication)));
    } else if (json) {
      // The encoding exists for all but the first socket: no encoder is made for the others.
      byte[] utf8 = shared.jsonUtf8IfEncoded();
      if (utf8 == null) {
        utf8 =
            shared.jsonUtf8(
                () -> FrameCodec.encodeJson(ServerFrames.delivery(stream, publication)));
      }
      write(new TextWebSocketFrame(Unpooled.wrappedBuffer(utf8)));
    } else {
      byte[] bytes = shared.binaryIfEncoded();
      if (bytes == null) {
        bytes =
            shared.binary(
                () -> FrameCodec.encodeBinary(ServerFrames.delivery(stream, publication)));
      }
      write(frame(bytes));
    }
    return true;
  }

  @Override
  public void sendUrgent(ServerFrame frame) {
    write(encode(frame));
  }

  @Override
  public int queued() {
    return queued.get();
  }

  @Override
  public int capacity() {
    return capacity;
  }

  /** Queues the WebSocket close after every frame before it; the client's answer ends the TCP. */
  @Override
  public void complete() {
    if (completed.compareAndSet(false, true)) {
      write(new CloseWebSocketFrame(1000, ""));
    }
  }

  @Override
  public boolean keepsHeartbeat() {
    return true;
  }

  /** Sends the heartbeat Ping (on the socket's thread): one encoding shared by every socket. */
  void ping() {
    if (!completed.get()) {
      write(frame(json ? PING_JSON : PING_BINARY));
    }
  }

  /** Whether the node has sent (or queued) its WebSocket close. */
  boolean completed() {
    return completed.get();
  }

  @Override
  public void abort() {
    channel.close();
  }

  /** Sends the WebSocket close if not yet sent, then closes once flushed, or after 5 s at most. */
  @Override
  public void connectionStopped() {
    complete();
    channel
        .eventLoop()
        .execute(
            () -> {
              channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
              channel.eventLoop().schedule(() -> channel.close(), 5, TimeUnit.SECONDS);
            });
  }

  @Override
  public String name() {
    return "websocket";
  }

  @Override
  public Executor ioThread() {
    return channel.eventLoop();
  }

  /**
   * Queues {@code frame} for the event loop; the first frame after a drain schedules the next one,
   * which writes everything queued by then and flushes once.
   */
  private void write(WebSocketFrame frame) {
    queued.incrementAndGet();
    if (channel.eventLoop().inEventLoop()) {
      // On the socket's own thread (the fan-out's live lane): after what is queued, at once.
      drainNow();
      writeOne(frame);
      channel.flush();
      return;
    }
    outbox.add(frame);
    if (drainScheduled.compareAndSet(false, true)) {
      channel.eventLoop().execute(drain);
    }
  }

  private void drain() {
    // Cleared before polling: a frame queued after the last poll schedules a drain of its own.
    drainScheduled.set(false);
    drainNow();
    channel.flush();
  }

  private void drainNow() {
    if (outbox.isEmpty()) {
      return;
    }
    WebSocketFrame frame;
    while ((frame = outbox.poll()) != null) {
      writeOne(frame);
    }
  }

  private void writeOne(WebSocketFrame frame) {
    ChannelPromise promise = channel.newPromise();
    promise.addListener(written);
    channel.write(frame, promise);
  }

  private WebSocketFrame encode(ServerFrame frame) {
    return json
        ? new TextWebSocketFrame(FrameCodec.encodeJson(frame))
        : frame(FrameCodec.encodeBinary(frame));
  }

  /** A frame of this connection's kind around encoded bytes (UTF-8 JSON or Protobuf), shared. */
  private WebSocketFrame frame(byte[] encoded) {
    ByteBuf content = Unpooled.wrappedBuffer(encoded);
    return json ? new TextWebSocketFrame(content) : new BinaryWebSocketFrame(content);
  }
}
