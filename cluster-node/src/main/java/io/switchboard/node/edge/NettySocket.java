package io.switchboard.node.edge;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ClientFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One WebSocket of the {@link FrontDoor}, from the upgrade request on: answers a request the {@link
 * Gatekeeper} refused with its HTTP status, otherwise spawns the socket's {@link ConnectionActor},
 * completes the handshake (subprotocol {@value FrameCodec#JSON_SUBPROTOCOL} when the client asked
 * for it, else {@value FrameCodec#BINARY_SUBPROTOCOL} or none) and feeds it the client's frames in
 * the order read. Reading is regulated, not stepped: the socket is read while fewer than {@value
 * #WINDOW} frames wait for the actor's release and the client reads its own answers (the outbound
 * queue below half its capacity); otherwise it pauses until both hold again. So a frame costs no
 * wake-up of this thread, while a client that floods frames, or sends requests without reading the
 * answers, is simply not read from (TCP's flow control reaches it) and is never closed for what its
 * own requests produced. Messages split in fragments are joined up to the frame size limit; a
 * larger one is reported as too large and nothing more is read. Runs on the channel's event loop.
 */
final class NettySocket extends ChannelInboundHandlerAdapter {

  private static final long PONG_SPACING_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Frames (and the start) handed to the connection actor and not yet released by it, at most. */
  static final int WINDOW = 8;

  private final ActorSystem<?> system;
  private final EdgeSettings settings;
  private final ActorRef<ConnectionRegistryActor.Command> connections;
  private final Gatekeeper.UpgradeDecision decision;
  private final NodeMetrics metrics;
  private final ArrayDeque<InboundFrames.Inbound> pending = new ArrayDeque<>();
  private final ConnectionActor.InboundAck release = this::released;
  private final Runnable regulate = this::regulate;
  // Handed to the actor, not yet released; incremented here, decremented on the actor's thread.
  private final AtomicInteger unreleased = new AtomicInteger();
  // Set while reading pauses for a full window: the release that makes room wakes this thread.
  private final AtomicBoolean wakeOnRelease = new AtomicBoolean();
  private ChannelHandlerContext ctx;
  private WebSocketServerHandshaker handshaker;
  private NettyTransport transport;
  private ActorRef<Socket.Command> connection;
  private boolean started;
  private boolean broken;
  private long lastPongNanos = System.nanoTime() - PONG_SPACING_NANOS;

  /** When a frame last came from the client; read and written on the socket's thread only. */
  private long lastHeardNanos = System.nanoTime();

  NettySocket(
      ActorSystem<?> system,
      EdgeSettings settings,
      ActorRef<ConnectionRegistryActor.Command> connections,
      Gatekeeper.UpgradeDecision decision) {
    this.system = system;
    this.settings = settings;
    this.connections = connections;
    this.decision = decision;
    this.metrics = NodeMetrics.get(system);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof FullHttpRequest request) {
        onUpgrade(request);
      } else if (msg instanceof TextWebSocketFrame text) {
        inbound(InboundFrames.decodeText(text.text(), settings.maxFrameSize()));
      } else if (msg instanceof BinaryWebSocketFrame binary) {
        inbound(
            InboundFrames.decodeBinary(
                ByteBufUtil.getBytes(binary.content()), settings.maxFrameSize()));
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
      } else if (msg instanceof CloseWebSocketFrame close) {
        onClientClose(close);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onUpgrade(FullHttpRequest request) {
    if (decision instanceof Gatekeeper.Refuse refuse) {
      system.log().debug("WebSocket upgrade refused ({}): {}", refuse.status(), refuse.reason());
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(refuse.status()),
              Unpooled.copiedBuffer(refuse.reason() + "\n", StandardCharsets.UTF_8));
      if (refuse.status() == 401) {
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
      }
      respondAndClose(response);
      return;
    }
    Identity identity = ((Gatekeeper.Proceed) decision).identity();
    List<String> asked =
        Arrays.stream(
                String.join(",", request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL))
                    .split(","))
            .map(String::trim)
            .toList();
    boolean json = asked.contains(FrameCodec.JSON_SUBPROTOCOL);
    String subprotocol =
        json
            ? FrameCodec.JSON_SUBPROTOCOL
            : asked.contains(FrameCodec.BINARY_SUBPROTOCOL) ? FrameCodec.BINARY_SUBPROTOCOL : null;
    WebSocketServerHandshakerFactory handshakers =
        new WebSocketServerHandshakerFactory(
            "ws://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + request.uri(),
            subprotocol,
            WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(settings.maxFrameSize())
                .allowExtensions(false)
                .closeOnProtocolViolation(false)
                .build());
    handshaker = handshakers.newHandshaker(request);
    if (handshaker == null) {
      WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
      ctx.close();
      return;
    }
    Channel channel = ctx.channel();
    transport = new NettyTransport(channel, json, settings.outboundBuffer());
    FullHttpRequest held = request.retainedDuplicate();
    AskPattern.<ConnectionRegistryActor.Command, ActorRef<Socket.Command>>ask(
            connections,
            replyTo -> new ConnectionRegistryActor.Spawn(transport, identity, null, replyTo),
            Duration.ofSeconds(5),
            system.scheduler())
        .whenComplete(
            (actor, failure) -> channel.eventLoop().execute(() -> spawned(held, actor, failure)));
  }

  private void spawned(FullHttpRequest request, ActorRef<Socket.Command> actor, Throwable failure) {
    try {
      if (failure != null) {
        respondAndClose(
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE));
        return;
      }
      connection = actor;
      if (!ctx.channel().isActive()) {
        connection.tell(ConnectionActor.InboundCompleted.INSTANCE);
        return;
      }
      handshaker
          .handshake(ctx.channel(), request)
          .addListener(
              (ChannelFutureListener)
                  done -> {
                    if (!done.isSuccess()) {
                      ctx.close();
                      return;
                    }
                    ctx.pipeline()
                        .addBefore(
                            ctx.name(),
                            "ws-aggregator",
                            new WebSocketFrameAggregator(settings.maxFrameSize()));
                    ChannelHandlerContext encoder =
                        ctx.pipeline().context(WebSocketFrameEncoder.class);
                    if (encoder != null) {
                      transport.writeFramesAt(encoder);
                    }
                    // The start counts as a frame: the actor releases it like one.
                    unreleased.set(1);
                    connection.tell(new ConnectionActor.InboundStarted(release));
                    started = true;
                    startHeartbeat();
                    regulate();
                  });
    } finally {
      request.release();
    }
  }

  private void onClientClose(CloseWebSocketFrame close) {
    if (transport.completed()) {
      // The client answers the node's close: the conversation is over.
      ctx.close();
    } else {
      handshaker.close(ctx.channel(), close.retain());
    }
  }

  /**
   * One decoded client frame, handed to the actor now if the window has room, else when it has (a
   * single read may hold many frames). A Pong (the answer to the node's heartbeat) only marks the
   * client alive, without the actor, at most once a second; more Pongs than that go to the actor,
   * whose rate limits see them. An Ack goes to the connection's {@link AckLane} when the actor
   * holds none of the client's frames, and to the actor only if the lane declines it.
   */
  private void inbound(InboundFrames.Inbound frame) {
    if (broken) {
      return;
    }
    long now = System.nanoTime();
    lastHeardNanos = now;
    if (frame instanceof InboundFrames.Decoded decoded && pending.isEmpty()) {
      ClientFrame.KindCase kind = decoded.frame().getKindCase();
      if (kind == ClientFrame.KindCase.PONG && now - lastPongNanos >= PONG_SPACING_NANOS) {
        lastPongNanos = now;
        return;
      }
      if (kind == ClientFrame.KindCase.ACK && unreleased.get() == 0) {
        // The actor holds none of the client's frames: the ack lane may take this one in place.
        AckLane lane = transport.ackLane();
        frame = lane == null || transport.completed() ? frame : lane.take(decoded, now);
        if (frame == null) {
          return;
        }
      }
    }
    if (pending.isEmpty() && !mustPause()) {
      hand(frame);
      if (reading() && mustPause()) {
        regulate();
      }
    } else {
      pending.add(frame);
      regulate();
    }
  }

  private void hand(InboundFrames.Inbound frame) {
    unreleased.incrementAndGet();
    connection.tell(new ConnectionActor.InboundFrame(release, frame));
  }

  private boolean windowFull() {
    return unreleased.get() >= WINDOW;
  }

  private boolean outboundFull() {
    return transport.queued() >= transport.capacity() / 2;
  }

  private boolean mustPause() {
    return windowFull() || outboundFull();
  }

  /**
   * Hands waiting frames as far as the window allows, then reads if the window and the outbound
   * queue have room, else pauses and arranges to be called again when they have: by the actor's
   * release that makes room in the window, or by the transport once the client took most of its
   * queue.
   */
  private void regulate() {
    while (true) {
      boolean open = started && !broken && ctx.channel().isActive();
      if (outboundFull()) {
        // Nothing more for the actor, nothing more read: the client first reads what it has.
        setReading(false);
        if (!transport.waitingForRoom()) {
          metrics.readsPausedForRoom.increment();
          transport.whenRoom(regulate);
        }
        return;
      }
      while (!pending.isEmpty() && !windowFull()) {
        hand(pending.poll());
      }
      // Frames still waiting means the window was full a moment ago: only a release may hand them
      // (a release since then is caught below), so they are never left behind.
      if (pending.isEmpty() && !windowFull()) {
        setReading(open);
        return;
      }
      setReading(false);
      wakeOnRelease.set(true);
      // A release between the check and the flag saw no flag: look again; whoever clears the flag
      // first (this thread, or a release that then schedules this) goes on.
      if (windowFull() || !wakeOnRelease.compareAndSet(true, false)) {
        return;
      }
    }
  }

  /** Whether the socket is being read: Netty's auto-read, which only this handler turns. */
  private boolean reading() {
    return ctx.channel().config().isAutoRead();
  }

  private void setReading(boolean on) {
    ctx.channel().config().setAutoRead(on);
  }

  /** Called by the actor (any thread) when it may take another frame. */
  private void released() {
    if (unreleased.decrementAndGet() < WINDOW && wakeOnRelease.compareAndSet(true, false)) {
      try {
        ctx.executor().execute(regulate);
      } catch (RejectedExecutionException stopping) {
        // The node's event loops are shutting down: nothing is read any more.
      }
    }
  }

  /**
   * The heartbeat, on the socket's own thread (no actor message per Ping): every interval, a client
   * silent past the timeout is closed with {@code HEARTBEAT_TIMEOUT} by its connection actor,
   * otherwise it gets a Ping. Stops with the channel.
   */
  private void startHeartbeat() {
    long interval = settings.heartbeatInterval().toNanos();
    long timeout = settings.heartbeatTimeout().toNanos();
    ScheduledFuture<?> beat =
        ctx.executor()
            .scheduleAtFixedRate(
                () -> {
                  if (transport.completed()) {
                    return;
                  }
                  if (System.nanoTime() - lastHeardNanos > timeout) {
                    // Not read because it does not read its answers: it is slow, not silent.
                    connection.tell(
                        transport.waitingForRoom()
                            ? new Socket.Close(
                                CloseCode.SLOW_CONSUMER.code(), "answers not read in time")
                            : new Socket.Close(CloseCode.HEARTBEAT_TIMEOUT.code(), "no heartbeat"));
                  } else {
                    transport.ping();
                  }
                },
                interval,
                interval,
                TimeUnit.NANOSECONDS);
    ctx.channel().closeFuture().addListener(closed -> beat.cancel(false));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (connection != null
        && (cause instanceof TooLongFrameException
            || cause instanceof CorruptedWebSocketFrameException corrupt
                && corrupt.closeStatus() != null
                && corrupt.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code())) {
      // Nothing after an oversized message can be read: the connection answers and closes.
      inbound(new InboundFrames.TooLarge(settings.maxFrameSize()));
      broken = true;
      setReading(false);
      return;
    }
    if (cause instanceof CorruptedWebSocketFrameException && transport != null) {
      broken = true;
      setReading(false);
      ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.PROTOCOL_ERROR))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // After every frame read, window or not: the actor handles them all before it learns the end.
    InboundFrames.Inbound frame;
    while ((frame = pending.poll()) != null) {
      hand(frame);
    }
    if (connection != null) {
      connection.tell(ConnectionActor.InboundCompleted.INSTANCE);
    }
  }

  private void respondAndClose(FullHttpResponse response) {
    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
