package io.switchboard.node.chaos;

import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.Resume;
import io.switchboard.protocol.v1.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client that behaves like the SDK: it reconnects with backoff and jitter to whichever node is
 * up, resumes its session with its cursors, drops what it already has by offset, acks every second,
 * and counts what a user would notice: messages lost, delivered twice, or out of order.
 */
final class ResilientClient {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  private final String group;
  private final Supplier<URI> nodes;
  private final ScheduledExecutorService scheduler;
  private final Map<String, Long> cursors = new HashMap<>();
  private final BitSet received = new BitSet();
  private final BitSet receivedInbox = new BitSet();
  private WebSocket socket;
  private String sessionId;
  private String token;
  private long nextFrameId = 1;
  private long joinedHead = -1;
  private long backoffMs = 100;
  private boolean live;
  private boolean stopped;
  long duplicates;
  long outOfOrder;
  long reconnects;
  long sessionsLost;
  String lastClose = "";

  ResilientClient(
      String name, String group, Supplier<URI> nodes, ScheduledExecutorService scheduler) {
    this.name = name;
    this.group = group;
    this.nodes = nodes;
    this.scheduler = scheduler;
  }

  synchronized void start() {
    connect();
    scheduler.scheduleAtFixedRate(this::ack, 1, 1, TimeUnit.SECONDS);
  }

  synchronized void stop() {
    stopped = true;
    if (socket != null) {
      socket.abort();
    }
  }

  /** Connected, attached to its session and joined. */
  synchronized boolean isLive() {
    return live;
  }

  synchronized long cursor() {
    return cursors.getOrDefault(group, joinedHead);
  }

  synchronized long joinedHead() {
    return joinedHead;
  }

  /** Acknowledged offsets after this client's join that it never received. */
  synchronized long lostComparedTo(BitSet ackedByPublisher) {
    BitSet missing = (BitSet) ackedByPublisher.clone();
    missing.clear(0, (int) Math.max(0, joinedHead + 1));
    missing.andNot(received);
    return missing.cardinality();
  }

  /** Direct messages the API acknowledged for this client's session that it never received. */
  synchronized long lostInbox(BitSet ackedByApi) {
    BitSet missing = (BitSet) ackedByApi.clone();
    missing.andNot(receivedInbox);
    return missing.cardinality();
  }

  synchronized long inboxCursor() {
    return cursors.getOrDefault("@", 0L);
  }

  synchronized String sessionId() {
    return sessionId;
  }

  private void connect() {
    if (stopped) {
      return;
    }
    URI uri = nodes.get();
    HTTP.newWebSocketBuilder()
        .buildAsync(uri, new Listener())
        .whenComplete(
            (ws, failure) -> {
              synchronized (ResilientClient.this) {
                if (failure != null) {
                  reconnectLater();
                  return;
                }
                socket = ws;
                if (sessionId == null) {
                  send(
                      ClientFrame.newBuilder()
                          .setId(nextFrameId++)
                          .setConnect(Connect.getDefaultInstance())
                          .build());
                } else {
                  Resume.Builder resume =
                      Resume.newBuilder().setSessionId(sessionId).setResumeToken(token);
                  cursors.forEach(
                      (s, o) -> resume.addCursors(Cursor.newBuilder().setStream(s).setOffset(o)));
                  send(ClientFrame.newBuilder().setId(nextFrameId++).setResume(resume).build());
                }
              }
            });
  }

  private void reconnectLater() {
    live = false;
    socket = null;
    if (stopped) {
      return;
    }
    reconnects++;
    long delay = backoffMs + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1);
    backoffMs = Math.min(2000, backoffMs * 2);
    scheduler.schedule(
        () -> {
          synchronized (ResilientClient.this) {
            connect();
          }
        },
        delay,
        TimeUnit.MILLISECONDS);
  }

  private void onFrame(ServerFrame frame) {
    switch (frame.getKindCase()) {
      case CONNECTED -> {
        backoffMs = 100;
        sessionId = frame.getConnected().getSessionId();
        token = frame.getConnected().getResumeToken();
        if (frame.getConnected().getResumed()) {
          live = true;
        } else {
          Join.Builder join = Join.newBuilder().setGroup(group);
          if (cursors.containsKey(group)) {
            join.setSinceOffset(cursors.get(group)); // a lost session: recover from the cursor
          }
          send(ClientFrame.newBuilder().setId(nextFrameId++).setJoin(join).build());
        }
      }
      case JOINED -> {
        if (joinedHead < 0) {
          joinedHead = frame.getJoined().getHead();
          cursors.put(group, joinedHead);
        }
        live = true;
      }
      case DELIVERY -> onDelivery(frame.getDelivery());
      case ERROR -> {
        if (frame.getError().getCode() == ErrorCode.SESSION_NOT_FOUND) {
          sessionsLost++;
          sessionId = null;
          send(
              ClientFrame.newBuilder()
                  .setId(nextFrameId++)
                  .setConnect(Connect.getDefaultInstance())
                  .build());
        }
      }
      case PING -> send(ClientFrame.newBuilder().setPong(Pong.getDefaultInstance()).build());
      case CLOSE -> lastClose = frame.getClose().getCode() + " " + frame.getClose().getReason();
      default -> {}
    }
  }

  private void onDelivery(Delivery d) {
    long last = cursors.getOrDefault(d.getStream(), 0L);
    if (d.getOffset() <= last) {
      duplicates++; // dropped by offset, as the SDK does; never reaches the application
      return;
    }
    if (d.getOffset() != last + 1) {
      outOfOrder++;
    }
    cursors.put(d.getStream(), d.getOffset());
    if (d.getStream().equals(group)) {
      received.set((int) d.getOffset());
    } else if (d.getStream().equals("@")) {
      receivedInbox.set((int) d.getOffset());
    }
  }

  private void ack() {
    synchronized (this) {
      if (!live || socket == null || cursors.isEmpty()) {
        return;
      }
      Ack.Builder ack = Ack.newBuilder();
      cursors.forEach((s, o) -> ack.addCursors(Cursor.newBuilder().setStream(s).setOffset(o)));
      send(ClientFrame.newBuilder().setAck(ack).build());
    }
  }

  private void send(ClientFrame frame) {
    WebSocket ws = socket;
    if (ws == null || ws.isOutputClosed()) {
      return;
    }
    try {
      ws.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      ws.abort();
    }
  }

  private final class Listener implements WebSocket.Listener {
    private ByteBuffer partial = ByteBuffer.allocate(0);

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      ByteBuffer joined = ByteBuffer.allocate(partial.remaining() + data.remaining());
      joined.put(partial).put(data).flip();
      partial = joined;
      if (last) {
        byte[] bytes = new byte[partial.remaining()];
        partial.get(bytes);
        partial = ByteBuffer.allocate(0);
        try {
          ServerFrame frame = ServerFrame.parseFrom(bytes);
          synchronized (ResilientClient.this) {
            onFrame(frame);
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          ws.abort();
        }
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      synchronized (ResilientClient.this) {
        if (socket == ws) {
          reconnectLater();
        }
      }
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      synchronized (ResilientClient.this) {
        if (socket == ws) {
          reconnectLater();
        }
      }
    }
  }
}
