package io.switchboard.node.edge;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Passes a connection of the {@link FrontDoor} byte for byte to the node's Pekko HTTP server
 * (long-poll, the HTTP/JSON API, bridge routes, health and everything else that is not a native
 * WebSocket): one connection to Pekko per client connection, reads on either side paced by the
 * writes on the other. Bytes that arrive before the connection to Pekko stands are held.
 */
final class HttpRelay extends ChannelInboundHandlerAdapter {

  private final SocketAddress target;
  private final List<Object> early = new ArrayList<>();
  private Channel outbound;

  HttpRelay(SocketAddress target) {
    this.target = target;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    Channel inbound = ctx.channel();
    inbound.config().setAutoRead(false);
    new Bootstrap()
        .group(inbound.eventLoop())
        .channel(EventLoops.outgoingFor(inbound))
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new Back(inbound))
        .connect(target)
        .addListener(
            (ChannelFutureListener)
                connected -> {
                  if (!connected.isSuccess()) {
                    early.forEach(ReferenceCountUtil::release);
                    early.clear();
                    inbound.close();
                    return;
                  }
                  outbound = connected.channel();
                  if (!inbound.isActive()) {
                    outbound.close();
                    return;
                  }
                  early.forEach(outbound::write);
                  early.clear();
                  outbound.flush();
                  inbound.read();
                  outbound.read();
                });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (outbound == null) {
      early.add(msg);
      return;
    }
    forward(msg, outbound, ctx.channel());
  }

  /** Writes {@code msg} to {@code to}; {@code from} reads on once it is written, else closes. */
  private static void forward(Object msg, Channel to, Channel from) {
    to.writeAndFlush(msg)
        .addListener(
            (ChannelFutureListener)
                written -> {
                  if (written.isSuccess()) {
                    from.read();
                  } else {
                    from.close();
                  }
                });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (outbound != null) {
      closeOnFlush(outbound);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeOnFlush(ctx.channel());
  }

  private static void closeOnFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Pekko's side: what it answers goes back to the client. */
  private static final class Back extends ChannelInboundHandlerAdapter {
    private final Channel client;

    Back(Channel client) {
      this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      forward(msg, client, ctx.channel());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(client);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }
}
