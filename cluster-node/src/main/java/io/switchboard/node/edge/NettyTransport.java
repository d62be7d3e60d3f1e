package io.switchboard.node.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.IOException;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A WebSocket's outbound side on the {@link FrontDoor}: frames are written straight to the Netty
 * channel from the connection actor's thread, counted until the socket took them, and flushed once
 * per burst (one flush task runs after every write queued before it). Frames go out as complete
 * WebSocket frames ({@link WebSocketWire}): a delivery shared by many sockets is encoded and framed
 * once, and each socket writes a view of the same bytes — or, on its own event loop with nothing of
 * the socket waiting anywhere, hands the bytes to the kernel itself (see {@link #writeShared}).
 * Binary Protobuf or canonical JSON, fixed per connection by the subprotocol.
 */
final class NettyTransport implements Transport {

  /** Room kept beyond the capacity for control frames, answers and the final Close. */
  private static final int HEADROOM = 64;

  private static final ServerFrame PING =
      ServerFrame.newBuilder()
          .setPing(io.switchboard.protocol.v1.Ping.getDefaultInstance())
          .build();
  private static final ByteBuf PING_BINARY =
      WebSocketWire.shared(false, FrameCodec.encodeBinary(PING));
  private static final ByteBuf PING_JSON =
      WebSocketWire.shared(
          true, FrameCodec.encodeJson(PING).getBytes(java.nio.charset.StandardCharsets.UTF_8));

  private final Channel channel;
  // The socket itself when a native transport (epoll) carries the channel, else null.
  private final io.netty.channel.unix.Socket socket;
  private final boolean json;
  private final int capacity;
  private final AtomicInteger queued = new AtomicInteger();
  private final ChannelFutureListener written = future -> tookBack(1);
  // Run on the event loop once the queue fell below a quarter of the capacity (NettySocket).
  private Runnable roomWaiter;
  // A linked queue: nothing pre-allocated per socket (an idle socket costs two nodes). Holds
  // complete frames as bytes (WebSocketWire), and the node's close as a frame for Netty's encoder.
  private final Queue<Object> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drain = this::drain;
  private final AtomicBoolean completed = new AtomicBoolean();
  // The connection's, set once by its actor as it starts; read by the socket's handler.
  private volatile AckLane ackLane;
  // Where complete frames enter the pipeline once the handshake installed the WebSocket encoder:
  // at the encoder's place, so they pass no handler on their way to the socket. Event loop only.
  private ChannelHandlerContext framesIn;
  // Whether shared frames may go to the kernel directly: a native socket, and no outbound handler
  // (TLS, say) between the encoder and the socket that the bytes would skip. Event loop only.
  private boolean sendsDirectly;

  NettyTransport(Channel channel, boolean json, int capacity) {
    this.channel = channel;
    this.socket =
        channel instanceof UnixChannel unix && unix.fd() instanceof io.netty.channel.unix.Socket s
            ? s
            : null;
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
      return true;
    }
    Object wire = shared.wireIfMade(json);
    if (wire == null) {
      // The first socket of the node to send this delivery in this encoding frames it for all.
      wire =
          shared.wire(
              json,
              () ->
                  WebSocketWire.shared(
                      json,
                      json
                          ? shared
                              .json(
                                  () ->
                                      FrameCodec.encodeJson(
                                          ServerFrames.delivery(stream, publication)))
                              .getBytes(java.nio.charset.StandardCharsets.UTF_8)
                          : shared.binary(
                              () ->
                                  FrameCodec.encodeBinary(
                                      ServerFrames.delivery(stream, publication)))));
    }
    writeShared((ByteBuf) wire);
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
    complete(WebSocketCloseStatus.NORMAL_CLOSURE.code(), "");
  }

  /** The same, with the protocol's close code as the WebSocket close status. */
  @Override
  public void complete(int code, String reason) {
    if (completed.compareAndSet(false, true)) {
      // Ours are 1000, 3000-3999 and the application's 4000-4999: all valid on the wire.
      boolean sendable = code == 1000 || (code >= 3000 && code <= 4999);
      write(
          sendable
              ? new CloseWebSocketFrame(code, closeReason(reason))
              : new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE.code(), ""));
    }
  }

  /** A close reason fits in 123 bytes of UTF-8 (RFC 6455 5.5): cut on a character boundary. */
  static String closeReason(String reason) {
    if (reason == null) {
      return "";
    }
    int bytes = 0;
    int end = 0;
    while (end < reason.length()) {
      int c = reason.codePointAt(end);
      int size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (bytes + size > 123) {
        break;
      }
      bytes += size;
      end += Character.charCount(c);
    }
    return reason.substring(0, end);
  }

  @Override
  public void ackLane(AckLane lane) {
    this.ackLane = lane;
  }

  /** The connection's ack lane; null until its actor started. */
  AckLane ackLane() {
    return ackLane;
  }

  @Override
  public boolean keepsHeartbeat() {
    return true;
  }

  /**
   * From now on complete frames are written at {@code encoder}'s place in the pipeline (the
   * WebSocket encoder's context: only handlers nearer the socket see them). Call on the event loop.
   */
  void writeFramesAt(ChannelHandlerContext encoder) {
    framesIn = encoder;
    sendsDirectly = socket != null && nothingOutboundBefore(encoder);
  }

  /** Whether no outbound handler sits between the socket and {@code encoder} in its pipeline. */
  static boolean nothingOutboundBefore(ChannelHandlerContext encoder) {
    for (Map.Entry<String, ChannelHandler> handler : encoder.pipeline()) {
      if (handler.getValue() == encoder.handler()) {
        return true;
      }
      if (handler.getValue() instanceof ChannelOutboundHandler) {
        return false;
      }
    }
    return false;
  }

  /** Sends the heartbeat Ping (on the socket's thread): one encoding shared by every socket. */
  void ping() {
    if (!completed.get()) {
      writeShared(json ? PING_JSON : PING_BINARY);
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
   * Writes a frame shared with other sockets (never released). On the socket's event loop, when
   * nothing of this socket waits — not in the outbox, not in Netty's buffer — and the node has not
   * closed it (and no outbound handler sits below the encoder), the frame's bytes go straight to
   * the kernel ({@code send} on the socket, as Netty's own flush would): no view, no pipeline, no
   * room taken, and the order is kept because nothing was before it. What the kernel does not take
   * (its buffer is full) and every other case is written as a view the usual way, after which Netty
   * waits for the socket to be writable.
   */
  private void writeShared(ByteBuf frame) {
    int taken = 0;
    if (channel.eventLoop().inEventLoop()
        && sendsDirectly
        && frame.hasMemoryAddress()
        && outbox.isEmpty()
        && !completed.get()) {
      ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
      if (pending != null && pending.isEmpty() && pending.totalPendingWriteBytes() == 0) {
        try {
          taken =
              socket.sendAddress(frame.memoryAddress(), frame.readerIndex(), frame.writerIndex());
        } catch (IOException broken) {
          // Netty's write of the same bytes meets the error and closes the channel its own way.
          taken = 0;
        }
        if (taken == frame.readableBytes()) {
          return;
        }
      }
    }
    ByteBuf rest = frame.duplicate();
    write(taken == 0 ? rest : rest.skipBytes(taken));
  }

  /**
   * Queues {@code frame} for the event loop; the first frame after a drain schedules the next one,
   * which writes everything queued by then and flushes once.
   */
  private void write(Object frame) {
    queued.incrementAndGet();
    if (channel.eventLoop().inEventLoop()) {
      // On the socket's own thread (the fan-out's live lane): after what is queued, at once.
      int count = drainNow();
      writeOne(frame, channel.voidPromise());
      flushCounting(count + 1);
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
    int count = drainNow();
    if (count > 0) {
      flushCounting(count);
    }
  }

  /** Writes what is queued, without flushing; returns how many frames that was. */
  private int drainNow() {
    int count = 0;
    Object frame;
    while ((frame = outbox.poll()) != null) {
      writeOne(frame, channel.voidPromise());
      count++;
    }
    return count;
  }

  /**
   * Flushes the {@code count} frames just written and gives their room back once they went: at once
   * when the socket took everything (the common case: no promise, no listener), else when an empty
   * marker written after them completes (Netty completes writes in order).
   */
  private void flushCounting(int count) {
    flush();
    ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
    if (pending == null || pending.isEmpty()) {
      tookBack(count);
      return;
    }
    ChannelPromise promise = channel.newPromise();
    promise.addListener(count == 1 ? written : future -> tookBack(count));
    writeOne(Unpooled.EMPTY_BUFFER, promise);
    flush();
  }

  private void flush() {
    if (framesIn != null) {
      framesIn.flush();
    } else {
      channel.flush();
    }
  }

  private void writeOne(Object frame, ChannelPromise promise) {
    if (framesIn != null && frame instanceof ByteBuf) {
      framesIn.write(frame, promise);
    } else {
      channel.write(frame, promise);
    }
  }

  /** The socket took {@code count} frames (or they failed): room for as many, on the event loop. */
  private void tookBack(int count) {
    if (queued.addAndGet(-count) < capacity / 4 && roomWaiter != null) {
      Runnable waiter = roomWaiter;
      roomWaiter = null;
      waiter.run();
    }
  }

  /** Whether a {@link #whenRoom} waiter waits (the client leaves its frames unread). */
  boolean waitingForRoom() {
    return roomWaiter != null;
  }

  /**
   * Runs {@code waiter} on the event loop once fewer than a quarter of the capacity are queued:
   * now, if so already. One waiter at a time; call on the event loop.
   */
  void whenRoom(Runnable waiter) {
    if (queued.get() < capacity / 4) {
      waiter.run();
    } else {
      roomWaiter = waiter;
    }
  }

  /** The complete frame of {@code frame} in this connection's encoding, for this socket alone. */
  private ByteBuf encode(ServerFrame frame) {
    return WebSocketWire.single(
        channel.alloc(),
        json,
        json
            ? FrameCodec.encodeJson(frame).getBytes(java.nio.charset.StandardCharsets.UTF_8)
            : FrameCodec.encodeBinary(frame));
  }
}
