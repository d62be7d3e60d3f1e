package io.switchboard.node.edge;

import com.google.protobuf.ByteString;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.ServerFrame;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * One long-poll session's socket on this node: a {@link ConnectionActor} fed by a bounded inbound
 * queue (backpressured frame by frame, exactly like a WebSocket's inbound side) and speaking
 * through a {@link LongPollTransport}. A send is an exchange: its frames are fed in order followed
 * by a marker Ping, and its answer is every frame answering one of them. A poll forwards its
 * cursors as acks to the session and takes what the transport has due. Thread-safe.
 */
final class LongPollSocket {

  /** Frame ids this node uses for its own frames: uint64 values clients counting up never reach. */
  private static final AtomicLong OWN_IDS = new AtomicLong(Long.MIN_VALUE);

  /** Frames that are always answered with their id. */
  private static final Set<ClientFrame.KindCase> ANSWERED =
      Set.of(
          ClientFrame.KindCase.CONNECT,
          ClientFrame.KindCase.RESUME,
          ClientFrame.KindCase.JOIN,
          ClientFrame.KindCase.LEAVE,
          ClientFrame.KindCase.PUBLISH,
          ClientFrame.KindCase.REQUEST,
          ClientFrame.KindCase.PING,
          ClientFrame.KindCase.REFRESH,
          ClientFrame.KindCase.KIND_NOT_SET);

  private final LongPollTransport transport;
  private final ActorRef<Socket.Command> connection;
  private final BoundedSourceQueue<InboundFrames.Inbound> inbound;
  private final ClusterSharding sharding;
  private final Map<String, Long> acked = new HashMap<>();
  private final CompletableFuture<List<ServerFrame>> ready = new CompletableFuture<>();
  private volatile String sessionId = "";
  private volatile ByteString tokenHash = ByteString.EMPTY;
  private volatile Identity identity;
  private volatile long keptAliveNanos = System.nanoTime();
  private final AtomicBoolean ended = new AtomicBoolean();

  private LongPollSocket(
      LongPollTransport transport,
      ActorRef<Socket.Command> connection,
      BoundedSourceQueue<InboundFrames.Inbound> inbound,
      ClusterSharding sharding,
      Identity identity) {
    this.transport = transport;
    this.connection = connection;
    this.inbound = inbound;
    this.sharding = sharding;
    this.identity = identity;
  }

  /** Connects the inbound side of {@code connection}, which speaks through {@code transport}. */
  static LongPollSocket start(
      LongPollTransport transport,
      ActorRef<Socket.Command> connection,
      Identity identity,
      int inboundBuffer,
      ClusterSharding sharding,
      Materializer materializer) {
    BoundedSourceQueue<InboundFrames.Inbound> inbound =
        Source.<InboundFrames.Inbound>queue(inboundBuffer)
            .to(
                ActorSink.actorRefWithBackpressure(
                    connection,
                    ConnectionActor.InboundFrame::new,
                    ConnectionActor.InboundStarted::new,
                    ConnectionActor.StreamAck.INSTANCE,
                    ConnectionActor.InboundCompleted.INSTANCE,
                    ConnectionActor.InboundFailed::new))
            .run(materializer);
    LongPollSocket socket = new LongPollSocket(transport, connection, inbound, sharding, identity);
    transport.onComplete(socket::end);
    return socket;
  }

  LongPollTransport transport() {
    return transport;
  }

  ActorRef<Socket.Command> connection() {
    return connection;
  }

  String sessionId() {
    return sessionId;
  }

  Identity identity() {
    return identity;
  }

  void identity(Identity identity) {
    this.identity = identity;
  }

  /** The session this socket serves, and the hash of its resume token. */
  void serves(String sessionId, ByteString tokenHash) {
    this.sessionId = sessionId;
    this.tokenHash = tokenHash;
  }

  /** Whether {@code tokenHash} is the session's resume token's (constant time). */
  boolean holds(ByteString tokenHash) {
    return MessageDigest.isEqual(this.tokenHash.toByteArray(), tokenHash.toByteArray());
  }

  /**
   * Completes with null once the socket serves its session, or with the frames refusing it (the
   * session is gone, or the socket could not resume it).
   */
  CompletionStage<List<ServerFrame>> ready() {
    return ready;
  }

  void ready(List<ServerFrame> refusal) {
    ready.complete(refusal);
  }

  /** Whether the socket can take calls: alive, or holding a close its client has not seen. */
  boolean usable() {
    return !transport.isSpent();
  }

  /** Feeds {@code frames} in order; completes with the answers to them (see the class comment). */
  CompletionStage<List<ServerFrame>> send(List<ClientFrame> frames, Duration deadline) {
    long marker = OWN_IDS.getAndIncrement();
    Set<Long> ids = new HashSet<>();
    Set<Long> awaited = new HashSet<>();
    for (ClientFrame frame : frames) {
      if (frame.getId() != 0) {
        ids.add(frame.getId());
        if (ANSWERED.contains(frame.getKindCase())) {
          awaited.add(frame.getId());
        }
      }
    }
    ids.add(marker);
    awaited.add(marker);
    CompletionStage<List<ServerFrame>> answers = transport.exchange(ids, awaited, deadline);
    for (ClientFrame frame : frames) {
      if (!feed(frame) && frame.getId() != 0) {
        transport.send(
            ServerFrames.error(frame.getId(), ErrorCode.LIMIT_EXCEEDED, "too many frames queued"));
      }
    }
    feed(ClientFrame.newBuilder().setId(marker).setPing(Ping.getDefaultInstance()).build());
    return answers.thenApply(
        list -> list.stream().filter(f -> !(f.getId() == marker && f.hasPong())).toList());
  }

  /** A frame id of this node's own, answered into an exchange and never shown to the client. */
  static long ownId() {
    return OWN_IDS.getAndIncrement();
  }

  /** Acknowledges {@code cursors} to the session and takes what is due (see the transport). */
  CompletionStage<List<ServerFrame>> poll(List<Cursor> cursors, Duration wait) {
    Map<String, Long> advanced = new HashMap<>();
    Map<String, Long> all = new HashMap<>();
    synchronized (acked) {
      for (Cursor c : cursors) {
        all.merge(c.getStream(), c.getOffset(), Math::max);
      }
      all.forEach(
          (stream, offset) -> {
            if (offset > acked.getOrDefault(stream, Long.MIN_VALUE)) {
              acked.put(stream, offset);
              advanced.put(stream, offset);
            }
          });
    }
    if (!advanced.isEmpty() && !sessionId.isEmpty()) {
      sharding
          .entityRefFor(SessionEntity.ENTITY_KEY, sessionId)
          .tell(new SessionEntity.Ack(advanced));
    }
    return transport.poll(all, wait);
  }

  /**
   * Tells the connection the client is there (a Pong, as on a WebSocket) when it has not been told
   * for {@code interval}: a held poll or a pause between polls is no missed heartbeat.
   */
  void keepAlive(Duration interval) {
    long now = System.nanoTime();
    if (now - keptAliveNanos >= interval.toNanos()) {
      keptAliveNanos = now;
      feed(ClientFrame.newBuilder().setPong(Pong.getDefaultInstance()).build());
    }
  }

  /** Ends the socket: the connection stops and detaches from its session. */
  void end() {
    if (ended.compareAndSet(false, true)) {
      inbound.complete();
    }
  }

  private boolean feed(ClientFrame frame) {
    return QueueOfferResult.enqueued().equals(inbound.offer(new InboundFrames.Decoded(frame)));
  }
}
