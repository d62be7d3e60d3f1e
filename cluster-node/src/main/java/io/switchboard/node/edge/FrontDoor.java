package io.switchboard.node.edge;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.config.EdgeSettings;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The node's HTTP port, on Netty. A connection whose first request is a WebSocket upgrade of the
 * client endpoint is served here natively ({@link NettySocket}, {@link NettyTransport}): no stream
 * machinery between the connection actor and the socket, so a delivery costs one write and a socket
 * a few KB. Every other connection (long-poll, the HTTP/JSON API, bridge routes, upgrades that need
 * the connect hook) is passed byte for byte to the node's Pekko HTTP server, bound on loopback
 * behind it ({@link HttpRelay}). With {@code switchboard.edge.front-door = off} Pekko HTTP binds
 * the port itself and serves WebSockets too.
 */
public final class FrontDoor {

  /** The longest request head looked at before deciding (larger heads go to Pekko). */
  private static final int MAX_HEAD = 16 * 1024;

  private final EventLoopGroup acceptor;
  private final EventLoopGroup workers;
  private final Channel server;

  private FrontDoor(EventLoopGroup acceptor, EventLoopGroup workers, Channel server) {
    this.acceptor = acceptor;
    this.workers = workers;
    this.server = server;
  }

  /** The address the front door listens on. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  /**
   * Binds the front door at {@code host:port}, relaying what it does not serve to {@code pekko};
   * unbinds with coordinated shutdown. A failed bind terminates the node.
   */
  public static CompletionStage<FrontDoor> start(
      ActorSystem<?> system,
      String host,
      int port,
      EdgeSettings settings,
      Gatekeeper gate,
      ActorRef<ConnectionRegistryActor.Command> connections,
      InetSocketAddress pekko) {
    int threads =
        settings.ioThreads() > 0
            ? settings.ioThreads()
            : Math.max(1, Runtime.getRuntime().availableProcessors());
    EventLoops loops = EventLoops.choose(settings.nativeEpoll());
    if (settings.nativeEpoll() && !loops.epoll()) {
      system
          .log()
          .info("Native epoll unavailable, the front door uses NIO: {}", EventLoops.whyNotNative());
    }
    EventLoopGroup acceptor = loops.group(1, "sb-accept");
    EventLoopGroup workers = loops.group(threads, "sb-io");
    ServerBootstrap bootstrap = new ServerBootstrap();
    if (settings.sendBuffer() > 0) {
      bootstrap.childOption(ChannelOption.SO_SNDBUF, settings.sendBuffer());
    }
    bootstrap =
        bootstrap
            .group(acceptor, workers)
            .channel(loops.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    channel
                        .pipeline()
                        .addLast(
                            "first-request",
                            new FirstRequest(system, settings, gate, connections, pekko));
                  }
                });
    CompletableFuture<FrontDoor> started = new CompletableFuture<>();
    ChannelFuture bound = bootstrap.bind(host, port);
    bound.addListener(
        done -> {
          if (!done.isSuccess()) {
            acceptor.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            system.log().error("Failed to bind HTTP (WebSocket /ws), terminating", done.cause());
            system.terminate();
            started.completeExceptionally(done.cause());
            return;
          }
          FrontDoor door = new FrontDoor(acceptor, workers, bound.channel());
          InetSocketAddress address = door.address();
          system
              .log()
              .info(
                  "Switchboard HTTP (WebSocket /{}, {}) at http://{}:{}/",
                  settings.websocketPath(),
                  loops.name(),
                  address.getHostString(),
                  address.getPort());
          CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
          shutdown.addTask(
              CoordinatedShutdown.PhaseServiceUnbind(),
              "front-door-unbind",
              () -> {
                door.server.close().syncUninterruptibly();
                return CompletableFuture.completedFuture(Done.getInstance());
              });
          shutdown.addTask(
              CoordinatedShutdown.PhaseServiceStop(),
              "front-door-stop",
              () -> {
                door.acceptor.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                door.workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                return CompletableFuture.completedFuture(Done.getInstance());
              });
          started.complete(door);
        });
    return started;
  }

  /**
   * Reads a connection's first request head and decides: a WebSocket upgrade of the client endpoint
   * that needs no connect hook stays here; anything else is relayed to Pekko HTTP. Bytes read so
   * far are handed on to whichever serves the connection.
   */
  private static final class FirstRequest extends ByteToMessageDecoder {
    private final ActorSystem<?> system;
    private final EdgeSettings settings;
    private final Gatekeeper gate;
    private final ActorRef<ConnectionRegistryActor.Command> connections;
    private final InetSocketAddress pekko;

    FirstRequest(
        ActorSystem<?> system,
        EdgeSettings settings,
        Gatekeeper gate,
        ActorRef<ConnectionRegistryActor.Command> connections,
        InetSocketAddress pekko) {
      this.system = system;
      this.settings = settings;
      this.gate = gate;
      this.connections = connections;
      this.pekko = pekko;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      // A connection that never completes a request head does not hold its socket forever.
      ctx.executor()
          .schedule(
              () -> {
                if (ctx.pipeline().context(this) != null) {
                  ctx.close();
                }
              },
              30,
              TimeUnit.SECONDS);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int end = headEnd(in);
      if (end < 0 && in.readableBytes() < MAX_HEAD) {
        return;
      }
      Gatekeeper.UpgradeDecision upgrade =
          end < 0
              ? null
              : nativeUpgrade(in.toString(in.readerIndex(), end, StandardCharsets.ISO_8859_1));
      if (upgrade != null) {
        ctx.pipeline()
            .addAfter(ctx.name(), "http", new HttpServerCodec(4096, MAX_HEAD, 8192))
            .addAfter("http", "http-aggregator", new HttpObjectAggregator(8192))
            .addAfter(
                "http-aggregator",
                "websocket",
                new NettySocket(system, settings, connections, upgrade));
        // The socket is read when its connection actor asks for frames (NettySocket).
        ctx.channel().config().setAutoRead(false);
      } else {
        ctx.pipeline().addAfter(ctx.name(), "relay", new HttpRelay(pekko));
      }
      ctx.pipeline().remove(this);
    }

    /** The length of the head (up to and without the blank line), or -1 while incomplete. */
    private static int headEnd(ByteBuf in) {
      int from = in.readerIndex();
      int to = in.writerIndex() - 3;
      for (int i = from; i < to; i++) {
        if (in.getByte(i) == '\r'
            && in.getByte(i + 1) == '\n'
            && in.getByte(i + 2) == '\r'
            && in.getByte(i + 3) == '\n') {
          return i - from;
        }
      }
      return -1;
    }

    /**
     * The gatekeeper's decision when {@code head} is a WebSocket upgrade this door serves; null
     * when the connection is Pekko's (another path or method, or a token-less upgrade that the
     * connect hook decides on).
     */
    private Gatekeeper.UpgradeDecision nativeUpgrade(String head) {
      String[] lines = head.split("\r\n");
      String[] requestLine = lines[0].split(" ");
      if (requestLine.length != 3 || !requestLine[0].equals("GET")) {
        return null;
      }
      QueryStringDecoder uri = new QueryStringDecoder(requestLine[1]);
      if (!uri.path().equals("/" + settings.websocketPath())) {
        return null;
      }
      Map<String, String> headers = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.merge(
              lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
              lines[i].substring(colon + 1).trim(),
              (a, b) -> a + ", " + b);
        }
      }
      if (!headers.getOrDefault("upgrade", "").toLowerCase(Locale.ROOT).contains("websocket")) {
        return null;
      }
      List<String> token = uri.parameters().get(gate.queryParameter());
      Optional<String> cookie =
          gate.cookieName().isEmpty() || !headers.containsKey("cookie")
              ? Optional.empty()
              : ServerCookieDecoder.LAX.decode(headers.get("cookie").replace(", ", "; ")).stream()
                  .filter(c -> c.name().equals(gate.cookieName()))
                  .map(Cookie::value)
                  .findFirst();
      Gatekeeper.UpgradeDecision decision =
          gate.admitUpgrade(
              new Gatekeeper.UpgradeRequest(
                  Optional.ofNullable(headers.get("origin")),
                  Optional.ofNullable(headers.get("host")),
                  Optional.ofNullable(headers.get("authorization")),
                  token == null || token.isEmpty() ? Optional.empty() : Optional.of(token.get(0)),
                  cookie));
      if (decision instanceof Gatekeeper.Proceed proceed
          && !proceed.identity().authenticated()
          && gate.usesConnectHook()) {
        return null;
      }
      return decision;
    }
  }
}
