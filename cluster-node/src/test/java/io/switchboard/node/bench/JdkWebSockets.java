package io.switchboard.node.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JDK's {@link java.net.http.WebSocket} as the load generator's client, for comparison with
 * {@link NioWebSockets}: one HttpClient (one selector thread) with a fixed executor for listener
 * calls; sends are chained per socket because the JDK allows one outstanding send at a time.
 */
final class JdkWebSockets implements WsConnection.Client {
  private final ExecutorService executor;
  private final HttpClient http;
  private final int threads;

  JdkWebSockets(int threads) {
    this.threads = Math.max(1, threads);
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            this.threads,
            r -> {
              Thread t = new Thread(r, "bench-jdk-ws-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.http = HttpClient.newBuilder().executor(executor).build();
  }

  @Override
  public String name() {
    return "jdk java.net.http.WebSocket (" + threads + " executor threads)";
  }

  @Override
  public void open(URI uri, WsConnection.Handler handler) {
    Conn conn = new Conn(handler);
    http.newWebSocketBuilder()
        .connectTimeout(Duration.ofSeconds(30))
        .subprotocols("switchboard.v1")
        .buildAsync(uri, conn)
        .whenComplete(
            (ws, failure) -> {
              if (failure != null) {
                conn.closed(1006, "connect failed: " + failure);
              }
            });
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  private static final class Conn implements WsConnection, WebSocket.Listener {
    private final WsConnection.Handler handler;
    private volatile WebSocket ws;
    private ByteBuffer partial;
    private boolean done;
    // guarded by this
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private boolean sending;
    private long queued;

    Conn(WsConnection.Handler handler) {
      this.handler = handler;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      ws = webSocket;
      handler.onOpen(this);
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      if (last && partial == null) {
        handler.onBinary(this, data);
      } else {
        ByteBuffer joined =
            ByteBuffer.allocate((partial == null ? 0 : partial.remaining()) + data.remaining());
        if (partial != null) {
          joined.put(partial);
        }
        joined.put(data).flip();
        partial = joined;
        if (last) {
          ByteBuffer whole = partial;
          partial = null;
          handler.onBinary(this, whole);
        }
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed(statusCode, reason);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed(1006, String.valueOf(error));
    }

    synchronized void closed(int code, String reason) {
      if (!done) {
        done = true;
        handler.onClosed(code, reason);
      }
    }

    @Override
    public void sendBinary(byte[] message) {
      synchronized (this) {
        out.add(ByteBuffer.wrap(message));
        queued += message.length;
        if (sending) {
          return;
        }
        sending = true;
      }
      sendNext();
    }

    private void sendNext() {
      ByteBuffer next;
      synchronized (this) {
        next = out.poll();
        if (next == null) {
          sending = false;
          return;
        }
        queued -= next.remaining();
      }
      ws.sendBinary(next, true)
          .whenComplete(
              (w, failure) -> {
                if (failure != null) {
                  synchronized (this) {
                    out.clear();
                    queued = 0;
                    sending = false;
                  }
                  return;
                }
                sendNext();
              });
    }

    @Override
    public synchronized long queuedBytes() {
      return queued;
    }

    @Override
    public void abort() {
      WebSocket w = ws;
      if (w != null) {
        w.abort();
      }
      closed(1006, "aborted by the client");
    }
  }
}
