package io.switchboard.node.bench;

import java.net.URI;
import java.nio.ByteBuffer;

/** One client WebSocket as the benchmark sees it, whatever client library carries it. */
interface WsConnection {

  /** Sends one binary message; thread-safe, never blocks (queues when the socket is full). */
  void sendBinary(byte[] message);

  /** Bytes queued and not yet written to the socket. */
  long queuedBytes();

  /** Drops the connection at once. */
  void abort();

  /** What happens on one connection; callbacks of one connection never run concurrently. */
  interface Handler {
    void onOpen(WsConnection connection);

    /** A binary message; {@code message} is only valid during the call. */
    void onBinary(WsConnection connection, ByteBuffer message);

    /** The connection is gone: WebSocket close code, or 1006 when it was dropped or failed. */
    void onClosed(int code, String reason);
  }

  /** Opens client WebSockets. */
  interface Client extends AutoCloseable {
    /** Starts opening a socket to {@code uri}; {@code handler} hears of the outcome. */
    void open(URI uri, Handler handler);

    /** Name for the report. */
    String name();

    @Override
    void close();
  }
}
