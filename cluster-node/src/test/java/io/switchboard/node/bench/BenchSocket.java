package io.switchboard.node.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Close;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One benchmark client of the client protocol over a {@link WsConnection}: Connect (with its own
 * user's token), then (for a subscriber) Join of one group; answers Ping with Pong; acks deliveries
 * every 100 messages or 1 s like a real client (configurable); checks offsets are gap-free; records
 * publish→delivery latency from the timestamp in the payload. A publisher sends Publish frames and
 * times their Published answers.
 *
 * <p>Payload layout (big-endian): send time (System.nanoTime, 8 bytes), step (4), flags (4),
 * sequence (8), zero padding.
 */
final class BenchSocket implements WsConnection.Handler {

  /** What a socket does once connected. */
  enum Role {
    SUBSCRIBER,
    IDLE,
    PUBLISHER
  }

  static final int MEASURED = 1;
  static final int HEADER_BYTES = 24;
  private static final int SENT_RING = 1 << 16;
  private static final byte DELIVERY_TAG = 0x72; // ServerFrame.delivery: field 14, length-delimited

  private final Role role;
  private final String group;
  private final Stats stats;
  private final String token;
  private final int ackEvery;
  private final long ackIntervalNanos;
  private final CompletableFuture<BenchSocket> ready = new CompletableFuture<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private volatile WsConnection connection;
  private volatile boolean closing;
  private volatile int nodeCloseCode;

  // subscriber state, guarded by this
  private long lastOffset = -1;
  private int unacked;
  private long lastAckNanos = System.nanoTime();

  // publisher state, guarded by this
  private final long[] sentAt;
  private final int[] sentStep;
  private long nextId = 10;

  BenchSocket(
      Role role, String group, String token, Stats stats, int ackEvery, long ackIntervalMs) {
    this.role = role;
    this.token = token;
    this.group = group;
    this.stats = stats;
    this.ackEvery = Math.max(1, ackEvery);
    this.ackIntervalNanos = TimeUnit.MILLISECONDS.toNanos(ackIntervalMs);
    this.sentAt = role == Role.PUBLISHER ? new long[SENT_RING] : null;
    this.sentStep = role == Role.PUBLISHER ? new int[SENT_RING] : null;
  }

  /** Completes when connected (and joined, for a subscriber). */
  CompletableFuture<BenchSocket> ready() {
    return ready;
  }

  /** Completes with the close code when the connection is gone. */
  CompletableFuture<Integer> closed() {
    return closed;
  }

  boolean isOpen() {
    return !closed.isDone();
  }

  WsConnection connection() {
    return connection;
  }

  @Override
  public void onOpen(WsConnection c) {
    connection = c;
    send(
        ClientFrame.newBuilder()
            .setId(1)
            .setConnect(Connect.newBuilder().setToken(token).setClient("switchboard-bench"))
            .build());
  }

  @Override
  public void onBinary(WsConnection c, ByteBuffer message) {
    if (message.hasRemaining() && message.get(message.position()) == DELIVERY_TAG) {
      fastDelivery(message);
      return;
    }
    ServerFrame frame;
    try {
      frame = ServerFrame.parseFrom(message);
    } catch (InvalidProtocolBufferException e) {
      stats.errors.increment();
      stats.problem("malformed server frame: " + e.getMessage());
      return;
    }
    switch (frame.getKindCase()) {
      case PING -> {
        send(ClientFrame.newBuilder().setId(0).setPong(Pong.getDefaultInstance()).build());
        stats.pongs.increment();
      }
      case CONNECTED -> {
        if (role == Role.SUBSCRIBER) {
          send(
              ClientFrame.newBuilder().setId(2).setJoin(Join.newBuilder().setGroup(group)).build());
        } else {
          ready.complete(this);
        }
      }
      case JOINED -> {
        synchronized (this) {
          lastOffset = frame.getJoined().getHead();
        }
        ready.complete(this);
      }
      case DELIVERY -> {
        ByteString payload = frame.getDelivery().getPayload();
        delivered(frame.getDelivery().getOffset(), payload.asReadOnlyByteBuffer(), 0);
      }
      case PUBLISHED -> published(frame.getId());
      case ERROR -> {
        stats.errors.increment();
        if (role == Role.PUBLISHER) {
          stats.refused.increment();
        }
        stats.problem(
            "node error " + frame.getError().getCode() + ": " + frame.getError().getMessage());
        if (!ready.isDone()) {
          ready.completeExceptionally(
              new IllegalStateException("refused: " + frame.getError().getMessage()));
        }
      }
      case CLOSE -> nodeCloseCode = frame.getClose().getCode();
      default -> {}
    }
  }

  @Override
  public void onClosed(int code, String reason) {
    int effective = nodeCloseCode != 0 ? nodeCloseCode : code;
    if (!closing) {
      stats.lost.increment();
      stats.problem(role + " connection lost: " + effective + " " + reason);
    }
    if (!ready.isDone()) {
      ready.completeExceptionally(
          new IllegalStateException("closed before ready: " + effective + " " + reason));
    }
    closed.complete(effective);
  }

  /** Parses a Delivery frame in place: no allocation on the hot path. */
  private void fastDelivery(ByteBuffer m) {
    int p = m.position() + 1;
    int end = m.limit();
    long len = 0;
    int shift = 0;
    byte b;
    do {
      b = m.get(p++);
      len |= (long) (b & 0x7f) << shift;
      shift += 7;
    } while (b < 0 && p < end);
    int stop = (int) Math.min(end, p + len);
    long offset = 0;
    int payloadAt = -1;
    while (p < stop) {
      long tag = 0;
      shift = 0;
      do {
        b = m.get(p++);
        tag |= (long) (b & 0x7f) << shift;
        shift += 7;
      } while (b < 0 && p < stop);
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      long value = 0;
      if (wire == 0 || wire == 2) {
        shift = 0;
        do {
          b = m.get(p++);
          value |= (long) (b & 0x7f) << shift;
          shift += 7;
        } while (b < 0 && p < stop);
      }
      switch (wire) {
        case 0 -> {
          if (field == 2) {
            offset = value;
          }
        }
        case 1 -> p += 8;
        case 2 -> {
          if (field == 3) {
            payloadAt = p;
          }
          p += (int) value;
        }
        case 5 -> p += 4;
        default -> p = stop;
      }
    }
    if (payloadAt < 0) {
      stats.errors.increment();
      stats.problem("delivery without payload");
      return;
    }
    delivered(offset, m, payloadAt);
  }

  private void delivered(long offset, ByteBuffer payload, int at) {
    long now = System.nanoTime();
    if (payload.limit() - at >= HEADER_BYTES) {
      long sent = payload.getLong(at);
      int step = payload.getInt(at + 8);
      int flags = payload.getInt(at + 12);
      if ((flags & MEASURED) != 0) {
        stats.deliveryLatency(step, now - sent);
      }
    }
    stats.delivered.increment();
    long ackOffset = -1;
    synchronized (this) {
      if (lastOffset >= 0 && offset != lastOffset + 1) {
        if (offset > lastOffset + 1) {
          stats.gaps.add(offset - lastOffset - 1);
        } else {
          stats.duplicates.increment();
        }
      }
      lastOffset = Math.max(lastOffset, offset);
      unacked++;
      if (unacked >= ackEvery || now - lastAckNanos >= ackIntervalNanos) {
        unacked = 0;
        lastAckNanos = now;
        ackOffset = lastOffset;
      }
    }
    if (ackOffset >= 0) {
      sendAck(ackOffset);
    }
  }

  /** Sends a time-based ack if one is due (called every few hundred ms). */
  void tick(long now) {
    long ackOffset = -1;
    synchronized (this) {
      if (unacked > 0 && now - lastAckNanos >= ackIntervalNanos) {
        unacked = 0;
        lastAckNanos = now;
        ackOffset = lastOffset;
      }
    }
    if (ackOffset >= 0) {
      sendAck(ackOffset);
    }
  }

  private void sendAck(long offset) {
    send(
        ClientFrame.newBuilder()
            .setAck(
                Ack.newBuilder().addCursors(Cursor.newBuilder().setStream(group).setOffset(offset)))
            .build());
  }

  /** Publishes one message stamped with the current time; returns false if not connected. */
  boolean publish(byte[] payload, int step, int flags, long sequence) {
    WsConnection c = connection;
    if (c == null || closed.isDone()) {
      return false;
    }
    long now = System.nanoTime();
    ByteBuffer.wrap(payload).putLong(now).putInt(step).putInt(flags).putLong(sequence);
    long id;
    synchronized (this) {
      id = nextId++;
      int slot = (int) (id & (SENT_RING - 1));
      sentAt[slot] = now;
      sentStep[slot] = (flags & MEASURED) != 0 ? step : 0;
    }
    c.sendBinary(
        ClientFrame.newBuilder()
            .setId(id)
            .setPublish(
                Publish.newBuilder().setGroup(group).setPayload(ByteString.copyFrom(payload)))
            .build()
            .toByteArray());
    return true;
  }

  private void published(long id) {
    long now = System.nanoTime();
    stats.published.increment();
    if (sentAt == null) {
      return;
    }
    long sent;
    int step;
    synchronized (this) {
      int slot = (int) (id & (SENT_RING - 1));
      sent = sentAt[slot];
      step = sentStep[slot];
    }
    if (step > 0) {
      stats.publishAckLatency(step, now - sent);
    }
  }

  /** Ends the session (Close frame: the node ends it and leaves its groups) and the socket. */
  void closeSession() {
    closing = true;
    WsConnection c = connection;
    if (c != null && !closed.isDone()) {
      send(
          ClientFrame.newBuilder()
              .setClose(Close.newBuilder().setCode(1000).setReason("benchmark done"))
              .build());
    }
  }

  /** Drops the socket without ending the session. */
  void abort() {
    closing = true;
    WsConnection c = connection;
    if (c != null) {
      c.abort();
    }
  }

  private void send(ClientFrame frame) {
    WsConnection c = connection;
    if (c != null) {
      c.sendBinary(frame.toByteArray());
    }
  }
}
