package io.switchboard.node.edge;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The kind of event loops the {@link FrontDoor} runs on: Linux's epoll through Netty's native
 * transport where it loads (a write goes from the frame's memory to the kernel without the JDK
 * selector's locks and buffer copies), else the JDK's NIO.
 */
record EventLoops(boolean epoll) {

  /** Epoll when {@code preferNative} and the native library loads here, else NIO. */
  static EventLoops choose(boolean preferNative) {
    return new EventLoops(preferNative && Epoll.isAvailable());
  }

  /** Why the native transport is not used, when it was wanted but did not load. */
  static Throwable whyNotNative() {
    return Epoll.unavailabilityCause();
  }

  /** {@code threads} daemon event loops whose threads are named after {@code name}. */
  EventLoopGroup group(int threads, String name) {
    DefaultThreadFactory factory = new DefaultThreadFactory(name, true);
    return epoll
        ? new EpollEventLoopGroup(threads, factory)
        : new NioEventLoopGroup(threads, factory);
  }

  /** The listening socket's channel class for these loops. */
  Class<? extends ServerChannel> serverChannel() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** The class of an outgoing connection on the event loop that serves {@code accepted}. */
  static Class<? extends SocketChannel> outgoingFor(Channel accepted) {
    return accepted instanceof EpollSocketChannel
        ? EpollSocketChannel.class
        : NioSocketChannel.class;
  }

  /** "epoll" or "nio", for the log. */
  String name() {
    return epoll ? "epoll" : "nio";
  }
}
