package io.switchboard.node.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.Joined;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.Published;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The delivery benchmark's baseline: the least a server can do to pass the same benchmark over the
 * same kernel — a Netty WebSocket server speaking just enough of the binary Switchboard protocol
 * (Connect, Join, Publish, Delivery; acks ignored) with no journal, no actors, no cursors, no
 * replay, no outbound bound and no heartbeat. A publication is encoded once and written to each
 * member socket from its own event loop, one task per event loop, as the node's fan-out does, each
 * socket writing a view of one complete frame in direct memory (no copy, no encoder). What it costs
 * per delivery on this machine is the floor under any server's figure here.
 *
 * <p>Started by {@link DeliveryBenchmark} (option {@code --baseline}) through {@link NodeProcess}:
 * it reads {@code -Dswitchboard.http.port} and {@code -Dswitchboard.management.port} and answers
 * {@code GET /ready} on the latter.
 */
public final class BareBroadcastServer {

  /** Members of one group by event loop, and its last offset. Guarded by itself. */
  private static final class Group {
    final Map<EventLoop, List<Channel>> members = new HashMap<>();
    long offset;
  }

  private final Map<String, Group> groups = new ConcurrentHashMap<>();
  private final AtomicLong sessions = new AtomicLong();

  public static void main(String[] args) throws InterruptedException {
    int http = Integer.getInteger("switchboard.http.port");
    int management = Integer.getInteger("switchboard.management.port");
    new BareBroadcastServer().serve(http, management);
  }

  private void serve(int httpPort, int managementPort) throws InterruptedException {
    // The same kind of event loops as the node's front door: native epoll where it loads.
    boolean epoll = Epoll.isAvailable();
    int threads = Runtime.getRuntime().availableProcessors();
    EventLoopGroup boss = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
    EventLoopGroup workers =
        epoll ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    Class<? extends ServerChannel> server =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    bind(boss, workers, server, httpPort, "/ws");
    bind(boss, workers, server, managementPort, null);
    System.out.println("BASELINE READY " + httpPort + (epoll ? " (epoll)" : " (nio)"));
    Thread.currentThread().join();
  }

  /** Serves HTTP on {@code port}, and WebSockets on {@code webSocketPath} when not null. */
  private void bind(
      EventLoopGroup boss,
      EventLoopGroup workers,
      Class<? extends ServerChannel> server,
      int port,
      String webSocketPath)
      throws InterruptedException {
    new ServerBootstrap()
        .group(boss, workers)
        .channel(server)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast(new HttpServerCodec())
                    .addLast(new HttpObjectAggregator(65536))
                    .addLast(new PlainHttp(webSocketPath));
                if (webSocketPath != null) {
                  ch.pipeline()
                      .addLast(
                          new WebSocketServerProtocolHandler(
                              webSocketPath, "switchboard.v1", false))
                      .addLast(new Frames());
                }
              }
            })
        .bind("127.0.0.1", port)
        .sync();
  }

  /** Answers every plain HTTP request with 200 (readiness, "/"); passes the WebSocket path on. */
  private static final class PlainHttp extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final String webSocketPath;

    PlainHttp(String webSocketPath) {
      super(false);
      this.webSocketPath = webSocketPath;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (webSocketPath != null && request.uri().startsWith(webSocketPath)) {
        ctx.fireChannelRead(request);
        return;
      }
      request.release();
      DefaultFullHttpResponse ok =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              Unpooled.copiedBuffer(new byte[] {'o', 'k'}));
      ok.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
      ctx.writeAndFlush(ok);
    }
  }

  /** One socket's client frames. */
  private final class Frames extends SimpleChannelInboundHandler<BinaryWebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, BinaryWebSocketFrame message)
        throws InvalidProtocolBufferException {
      ClientFrame frame = ClientFrame.parseFrom(ByteBufUtil.getBytes(message.content()));
      switch (frame.getKindCase()) {
        case CONNECT ->
            send(
                ctx.channel(),
                ServerFrame.newBuilder()
                    .setId(frame.getId())
                    .setConnected(
                        Connected.newBuilder()
                            .setSessionId("bare-" + sessions.incrementAndGet())
                            .setNode("bare"))
                    .build());
        case JOIN -> join(ctx.channel(), frame);
        case PUBLISH -> publish(ctx.channel(), frame);
        case PING ->
            send(
                ctx.channel(), ServerFrame.newBuilder().setPong(Pong.getDefaultInstance()).build());
        case CLOSE -> ctx.close();
        default -> {}
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private void join(Channel channel, ClientFrame frame) {
    String name = frame.getJoin().getGroup();
    Group group = groups.computeIfAbsent(name, g -> new Group());
    long head;
    synchronized (group) {
      group.members.computeIfAbsent(channel.eventLoop(), loop -> new ArrayList<>()).add(channel);
      head = group.offset;
    }
    channel
        .closeFuture()
        .addListener(
            (ChannelFutureListener)
                closed -> {
                  synchronized (group) {
                    group.members.get(channel.eventLoop()).remove(channel);
                  }
                });
    send(
        channel,
        ServerFrame.newBuilder()
            .setId(frame.getId())
            .setJoined(Joined.newBuilder().setGroup(name).setHead(head))
            .build());
  }

  private void publish(Channel publisher, ClientFrame frame) {
    String name = frame.getPublish().getGroup();
    Group group = groups.computeIfAbsent(name, g -> new Group());
    ByteString payload = frame.getPublish().getPayload();
    long offset;
    List<Map.Entry<EventLoop, Channel[]>> targets = new ArrayList<>();
    ByteBuf wire;
    synchronized (group) {
      offset = ++group.offset;
      byte[] encoded =
          ServerFrame.newBuilder()
              .setDelivery(
                  Delivery.newBuilder()
                      .setStream(name)
                      .setOffset(offset)
                      .setPayload(payload)
                      .setTimestampMs(System.currentTimeMillis()))
              .build()
              .toByteArray();
      wire = binaryFrame(encoded);
      // One task per event loop, in offset order per loop (tasks run in submission order).
      group.members.forEach(
          (loop, channels) -> targets.add(Map.entry(loop, channels.toArray(new Channel[0]))));
      for (Map.Entry<EventLoop, Channel[]> target : targets) {
        target
            .getKey()
            .execute(
                () -> {
                  for (Channel member : target.getValue()) {
                    writeShared(member, wire);
                  }
                });
      }
    }
    send(
        publisher,
        ServerFrame.newBuilder()
            .setId(frame.getId())
            .setPublished(Published.newBuilder().setGroup(name).setOffset(offset))
            .build());
  }

  /**
   * The complete WebSocket binary frame around {@code payload} (final, unmasked), in direct memory
   * the garbage collector frees: every member writes a view of it, with no copy and no encoder.
   */
  private static ByteBuf binaryFrame(byte[] payload) {
    int length = payload.length;
    int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
    ByteBuf frame = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(header + length)).clear();
    frame.writeByte(0x82);
    if (length < 126) {
      frame.writeByte(length);
    } else if (length <= 0xFFFF) {
      frame.writeByte(126).writeShort(length);
    } else {
      frame.writeByte(127).writeLong(length);
    }
    return Unpooled.unreleasableBuffer(frame.writeBytes(payload));
  }

  private static void send(Channel channel, ServerFrame frame) {
    channel.writeAndFlush(
        new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame.toByteArray())),
        channel.voidPromise());
  }

  /**
   * As the node's fan-out writes a shared frame: straight to the kernel when nothing of the socket
   * waits in Netty's buffer (epoll), else (or what the kernel left) as a view through Netty.
   */
  private static void writeShared(Channel member, ByteBuf wire) {
    int taken = 0;
    ChannelOutboundBuffer pending = member.unsafe().outboundBuffer();
    if (member instanceof UnixChannel unix
        && unix.fd() instanceof Socket socket
        && pending != null
        && pending.isEmpty()
        && pending.totalPendingWriteBytes() == 0) {
      try {
        taken = socket.sendAddress(wire.memoryAddress(), wire.readerIndex(), wire.writerIndex());
      } catch (IOException broken) {
        taken = 0;
      }
      if (taken == wire.readableBytes()) {
        return;
      }
    }
    member.writeAndFlush(wire.duplicate().skipBytes(taken), member.voidPromise());
  }
}
