package io.switchboard.node.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A lean non-blocking WebSocket client (RFC 6455, client side) for load generation: a few event
 * loop threads, each with one selector serving thousands of sockets, one shared read buffer per
 * loop, frames parsed in place and handed to the handler without copying; control frames (ping,
 * close) answered by the loop. Writes go straight to the socket from the calling thread and are
 * queued (with write interest) only when the socket is full. No TLS, no extensions: just what a
 * loopback benchmark needs, at a fraction of the CPU of a general-purpose client.
 */
final class NioWebSockets implements WsConnection.Client {
  private static final int READ_BUFFER = 256 * 1024;
  private static final int MAX_FRAME = READ_BUFFER / 2;
  private static final int MAX_HANDSHAKE = 16 * 1024;
  private static final String SUBPROTOCOL = "switchboard.v1";
  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private final Loop[] loops;
  private final AtomicInteger next = new AtomicInteger();

  NioWebSockets(int threads) throws IOException {
    loops = new Loop[Math.max(1, threads)];
    for (int i = 0; i < loops.length; i++) {
      loops[i] = new Loop("bench-nio-" + i);
    }
  }

  @Override
  public String name() {
    return "nio (" + loops.length + " event loop" + (loops.length == 1 ? "" : "s") + ")";
  }

  @Override
  public void open(URI uri, WsConnection.Handler handler) {
    Loop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
    loop.execute(() -> new Conn(loop, uri, handler).connect());
  }

  @Override
  public void close() {
    for (Loop loop : loops) {
      loop.shutdown();
    }
  }

  /** One selector thread. */
  private static final class Loop implements Runnable {
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ByteBuffer in = ByteBuffer.allocateDirect(READ_BUFFER);
    private volatile boolean running = true;

    Loop(String name) throws IOException {
      selector = Selector.open();
      thread = new Thread(this, name);
      thread.setDaemon(true);
      thread.start();
    }

    void execute(Runnable task) {
      tasks.add(task);
      if (Thread.currentThread() != thread) {
        selector.wakeup();
      }
    }

    boolean inLoop() {
      return Thread.currentThread() == thread;
    }

    @Override
    public void run() {
      try {
        while (running) {
          selector.select(50);
          for (Runnable task; (task = tasks.poll()) != null; ) {
            task.run();
          }
          Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
          while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            Conn conn = (Conn) key.attachment();
            try {
              if (!key.isValid()) {
                continue;
              }
              if (key.isConnectable()) {
                conn.finishConnect();
              }
              if (key.isValid() && key.isReadable()) {
                conn.read(in);
              }
              if (key.isValid() && key.isWritable()) {
                conn.flush();
              }
            } catch (IOException | RuntimeException e) {
              conn.closeNow(1006, String.valueOf(e));
            }
          }
        }
      } catch (IOException | ClosedSelectorException e) {
        // shutting down
      } finally {
        for (SelectionKey key : new java.util.ArrayList<>(selector.keys())) {
          ((Conn) key.attachment()).closeNow(1001, "client shut down");
        }
        try {
          selector.close();
        } catch (IOException e) {
          // ignored
        }
      }
    }

    void shutdown() {
      running = false;
      selector.wakeup();
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One socket. Reads and control frames on the loop thread; sends from any thread. */
  private static final class Conn implements WsConnection {
    private final Loop loop;
    private final URI uri;
    private final WsConnection.Handler handler;
    private final String secKey;
    private SocketChannel channel;
    private SelectionKey key;
    private boolean open;
    private ByteBuffer partial;
    private ByteArrayOutputStream fragments;
    // guarded by this
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private long queued;
    private boolean writeInterest;
    private volatile boolean closed;

    Conn(Loop loop, URI uri, WsConnection.Handler handler) {
      this.loop = loop;
      this.uri = uri;
      this.handler = handler;
      byte[] nonce = new byte[16];
      ThreadLocalRandom.current().nextBytes(nonce);
      this.secKey = Base64.getEncoder().encodeToString(nonce);
    }

    void connect() {
      try {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        boolean done = channel.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
        key = channel.register(loop.selector, done ? SelectionKey.OP_READ : 0, this);
        if (done) {
          sendHandshake();
        } else {
          key.interestOps(SelectionKey.OP_CONNECT);
        }
      } catch (IOException | RuntimeException e) {
        closeNow(1006, "connect failed: " + e);
      }
    }

    void finishConnect() throws IOException {
      if (channel.finishConnect()) {
        key.interestOps(SelectionKey.OP_READ);
        sendHandshake();
      }
    }

    private void sendHandshake() {
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      String request =
          "GET "
              + path
              + " HTTP/1.1\r\nHost: "
              + uri.getHost()
              + ":"
              + uri.getPort()
              + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
              + secKey
              + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: "
              + SUBPROTOCOL
              + "\r\n\r\n";
      enqueue(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
    }

    void read(ByteBuffer in) throws IOException {
      in.clear();
      if (partial != null) {
        in.put(partial);
        partial = null;
      }
      int n = channel.read(in);
      in.flip();
      if (n < 0) {
        closeNow(1006, "connection closed by the node");
        return;
      }
      if (!open && !readHandshake(in)) {
        keepPartial(in);
        return;
      }
      while (!closed && in.remaining() >= 2) {
        int p = in.position();
        int b0 = in.get(p) & 0xff;
        int b1 = in.get(p + 1) & 0xff;
        long length = b1 & 0x7f;
        int header = 2;
        if (length == 126) {
          if (in.remaining() < 4) {
            break;
          }
          length = in.getShort(p + 2) & 0xffff;
          header = 4;
        } else if (length == 127) {
          if (in.remaining() < 10) {
            break;
          }
          length = in.getLong(p + 2);
          header = 10;
        }
        boolean masked = (b1 & 0x80) != 0;
        if (masked) {
          header += 4;
        }
        if (length < 0 || length > MAX_FRAME) {
          throw new IOException("frame of " + length + " bytes exceeds " + MAX_FRAME);
        }
        if (in.remaining() < header + length) {
          break;
        }
        int start = p + header;
        int end = start + (int) length;
        if (masked) {
          for (int i = start; i < end; i++) {
            in.put(i, (byte) (in.get(i) ^ in.get(start - 4 + ((i - start) & 3))));
          }
        }
        int limit = in.limit();
        in.limit(end).position(start);
        frame((b0 & 0x80) != 0, b0 & 0x0f, in);
        if (closed) {
          return;
        }
        in.limit(limit).position(end);
      }
      keepPartial(in);
    }

    private void keepPartial(ByteBuffer in) {
      if (in.hasRemaining()) {
        ByteBuffer rest = ByteBuffer.allocate(in.remaining());
        rest.put(in).flip();
        partial = rest;
      }
    }

    /** Consumes the HTTP 101 answer; false when it is not complete yet. */
    private boolean readHandshake(ByteBuffer in) throws IOException {
      int end = -1;
      for (int i = in.position(); i + 3 < in.limit(); i++) {
        if (in.get(i) == '\r'
            && in.get(i + 1) == '\n'
            && in.get(i + 2) == '\r'
            && in.get(i + 3) == '\n') {
          end = i + 4;
          break;
        }
      }
      if (end < 0) {
        if (in.remaining() > MAX_HANDSHAKE) {
          throw new IOException("handshake answer too long");
        }
        return false;
      }
      byte[] head = new byte[end - in.position()];
      in.get(head);
      String response = new String(head, StandardCharsets.ISO_8859_1);
      if (!response.startsWith("HTTP/1.1 101")) {
        throw new IOException("upgrade refused: " + response.lines().findFirst().orElse(""));
      }
      String expected = accept(secKey);
      boolean accepted =
          response
              .lines()
              .anyMatch(
                  l ->
                      l.regionMatches(true, 0, "Sec-WebSocket-Accept:", 0, 21)
                          && l.substring(21).trim().equals(expected));
      if (!accepted) {
        throw new IOException("bad Sec-WebSocket-Accept");
      }
      open = true;
      handler.onOpen(this);
      return true;
    }

    private void frame(boolean fin, int opcode, ByteBuffer payload) throws IOException {
      switch (opcode) {
        case 0x1, 0x2 -> {
          if (fin && fragments == null) {
            handler.onBinary(this, payload);
          } else {
            fragments = new ByteArrayOutputStream();
            append(payload);
          }
        }
        case 0x0 -> {
          if (fragments == null) {
            throw new IOException("continuation without a first frame");
          }
          append(payload);
          if (fin) {
            byte[] whole = fragments.toByteArray();
            fragments = null;
            handler.onBinary(this, ByteBuffer.wrap(whole));
          }
        }
        case 0x8 -> {
          int code =
              payload.remaining() >= 2 ? payload.getShort(payload.position()) & 0xffff : 1005;
          String reason = "";
          if (payload.remaining() > 2) {
            byte[] r = new byte[payload.remaining() - 2];
            payload.get(payload.position() + 2, r);
            reason = new String(r, StandardCharsets.UTF_8);
          }
          byte[] echo = new byte[] {(byte) (code >> 8), (byte) code};
          enqueue(frame(0x88, code == 1005 ? new byte[0] : echo));
          closeNow(code, reason);
        }
        case 0x9 -> {
          byte[] data = new byte[payload.remaining()];
          payload.get(payload.position(), data);
          enqueue(frame(0x8A, data));
        }
        case 0xA -> {}
        default -> throw new IOException("unknown opcode " + opcode);
      }
    }

    private void append(ByteBuffer payload) throws IOException {
      if (fragments.size() + payload.remaining() > MAX_FRAME) {
        throw new IOException("fragmented message too large");
      }
      byte[] chunk = new byte[payload.remaining()];
      payload.get(payload.position(), chunk);
      fragments.write(chunk);
    }

    @Override
    public void sendBinary(byte[] message) {
      enqueue(frame(0x82, message));
    }

    @Override
    public synchronized long queuedBytes() {
      return queued;
    }

    @Override
    public void abort() {
      loop.execute(() -> closeNow(1006, "aborted by the client"));
    }

    private void enqueue(ByteBuffer frame) {
      boolean failed = false;
      synchronized (this) {
        if (closed) {
          return;
        }
        if (out.isEmpty()) {
          try {
            channel.write(frame);
          } catch (IOException e) {
            failed = true;
          }
          if (!failed && !frame.hasRemaining()) {
            return;
          }
        }
        if (!failed) {
          out.add(frame);
          queued += frame.remaining();
          if (!writeInterest) {
            writeInterest = true;
            if (loop.inLoop()) {
              key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            } else {
              loop.execute(this::wantWrite);
            }
          }
        }
      }
      if (failed) {
        if (loop.inLoop()) {
          closeNow(1006, "write failed");
        } else {
          loop.execute(() -> closeNow(1006, "write failed"));
        }
      }
    }

    private synchronized void wantWrite() {
      if (!closed && writeInterest && key.isValid()) {
        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    }

    synchronized void flush() throws IOException {
      while (!out.isEmpty()) {
        ByteBuffer head = out.peek();
        int before = head.remaining();
        channel.write(head);
        queued -= before - head.remaining();
        if (head.hasRemaining()) {
          return;
        }
        out.poll();
      }
      writeInterest = false;
      key.interestOps(SelectionKey.OP_READ);
    }

    /** Closes the socket (on the loop thread) and tells the handler once. */
    void closeNow(int code, String reason) {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        if (!out.isEmpty()) {
          // Best effort for a last close frame; never blocks.
          try {
            for (ByteBuffer b : out) {
              channel.write(b);
            }
          } catch (IOException e) {
            // the socket is going away anyway
          }
          out.clear();
        }
      }
      if (key != null) {
        key.cancel();
      }
      try {
        if (channel != null) {
          channel.close();
        }
      } catch (IOException e) {
        // ignored
      }
      handler.onClosed(code, reason);
    }

    /** A masked client frame. */
    private static ByteBuffer frame(int firstByte, byte[] payload) {
      int length = payload.length;
      int header = 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + 4;
      ByteBuffer b = ByteBuffer.allocate(header + length);
      b.put((byte) firstByte);
      if (length < 126) {
        b.put((byte) (0x80 | length));
      } else if (length < 65536) {
        b.put((byte) (0x80 | 126));
        b.putShort((short) length);
      } else {
        b.put((byte) (0x80 | 127));
        b.putLong(length);
      }
      int mask = ThreadLocalRandom.current().nextInt();
      b.putInt(mask);
      for (int i = 0; i < length; i++) {
        b.put((byte) (payload[i] ^ (mask >>> (24 - 8 * (i & 3)))));
      }
      return b.flip();
    }

    private static String accept(String key) {
      try {
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        byte[] digest = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(digest);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
