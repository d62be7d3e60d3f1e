package io.switchboard.node.edge;

import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.auth.InterceptorChain;
import io.switchboard.node.auth.Rejection;
import io.switchboard.node.auth.TokenVerifier;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.bridge.UpstreamStatus;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.group.CursorRelay;
import io.switchboard.node.group.FanoutRegistryActor;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import io.switchboard.node.stream.StreamNames;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connected;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.Joined;
import io.switchboard.protocol.v1.Left;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.Published;
import io.switchboard.protocol.v1.Recovery;
import io.switchboard.protocol.v1.ServerFrame;
import io.switchboard.protocol.v1.TokenExpiring;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * One client connection on this node: speaks the client protocol over a {@link Transport}, attaches
 * to its {@link SessionEntity}, keeps a {@link StreamCursor} per stream (inbox and each group) fed
 * by the node's fan-out and by reads from the log, and watches the client's heartbeat and frame
 * rate. Never sharded, never persisted: when it stops, its session is detached and the client
 * resumes anywhere.
 */
public final class ConnectionActor extends AbstractBehavior<Socket.Command>
    implements StreamCursor.Output {

  /** The inbound side delivers a frame; {@code ackTo} releases the next one. */
  record InboundFrame(InboundAck ackTo, InboundFrames.Inbound inbound) implements Socket.Command {
    /** For a Pekko stream feeding the actor through {@code ActorSink.actorRefWithBackpressure}. */
    InboundFrame(ActorRef<StreamAck> ackTo, InboundFrames.Inbound inbound) {
      this(InboundAck.of(ackTo), inbound);
    }
  }

  /** The inbound side started; {@code ackTo} releases the first frame. */
  record InboundStarted(InboundAck ackTo) implements Socket.Command {
    /** For a Pekko stream feeding the actor through {@code ActorSink.actorRefWithBackpressure}. */
    InboundStarted(ActorRef<StreamAck> ackTo) {
      this(InboundAck.of(ackTo));
    }
  }

  /**
   * Releases the next inbound frame: the actor acknowledges each frame (and the start) exactly
   * once, when it may take another, so a socket is read no faster than its connection handles
   * frames (a transport may hand a few frames ahead of the releases, never more than it bounds).
   * Thread-safe.
   */
  @FunctionalInterface
  interface InboundAck {
    void release();

    static InboundAck of(ActorRef<StreamAck> stream) {
      return () -> stream.tell(StreamAck.INSTANCE);
    }
  }

  /** The acknowledgement an inbound Pekko stream waits for. */
  enum StreamAck {
    INSTANCE
  }

  /** The inbound stream ended (client closed, or the socket went away). */
  enum InboundCompleted implements Socket.Command {
    INSTANCE
  }

  record InboundFailed(Throwable cause) implements Socket.Command {}

  private record SessionReady(
      long frameId,
      boolean resumed,
      String token,
      SessionEntity.Attached attached,
      Map<String, Long> clientCursors)
      implements Socket.Command {}

  private record SessionRefused(long frameId, boolean resume, String reason)
      implements Socket.Command {}

  private record JoinDone(long frameId, String groupId, Long since, SessionEntity.Joined joined)
      implements Socket.Command {}

  private record Refused(long frameId, ErrorCode code, String reason, String groupId)
      implements Socket.Command {}

  private record LeaveDone(long frameId, String groupId) implements Socket.Command {}

  private record PublishDone(long frameId, String groupId, long offset) implements Socket.Command {}

  private record PageArrived(String stream, Page page) implements Socket.Command {}

  private record PageFailed(String stream) implements Socket.Command {}

  /** A bridge session accepted a client Message for its upstream. */
  private record UpstreamAccepted() implements Socket.Command {}

  /** The answer to this connection's request for a slot among its user's connections. */
  private record SlotAnswered(ClientFrame hello, String userId, boolean granted)
      implements Socket.Command {}

  private enum Tick implements Socket.Command {
    HEARTBEAT,
    CONNECT_TIMEOUT,
    REANNOUNCE,
    ROOM_CHECK,
    CLOSE_GRACE_OVER,
    TOKEN_EXPIRING,
    TOKEN_EXPIRED
  }

  private enum Phase {
    AWAITING_HELLO,
    CONNECTING,
    LIVE,
    CLOSING
  }

  // Frames held back while the session starts; each keeps its inbound release until handled, and
  // a transport reads only a few frames ahead of the releases, so this bound is a safety net.
  private static final int MAX_STASHED = 64;

  /** The key of the token's one timer: first TOKEN_EXPIRING, then TOKEN_EXPIRED. */
  private static final String TOKEN_TIMER = "token";

  /**
   * A connection speaking over {@code transport}, for {@code identity} as proven at the upgrade
   * ({@link Identity#UNAUTHENTICATED} when its token is to come in Connect or Resume).
   */
  public static Behavior<Socket.Command> create(
      Transport transport,
      Identity identity,
      Gatekeeper gate,
      EdgeSettings settings,
      String nodeName,
      ActorRef<FanoutRegistryActor.Command> fanouts) {
    return create(transport, identity, gate, settings, nodeName, fanouts, null);
  }

  /**
   * A connection on a bridge route ({@code bridge} non-null): a session it opens is a bridge
   * session, and its client's Message frames go to the session's upstream.
   */
  public static Behavior<Socket.Command> create(
      Transport transport,
      Identity identity,
      Gatekeeper gate,
      EdgeSettings settings,
      String nodeName,
      ActorRef<FanoutRegistryActor.Command> fanouts,
      BridgeBinding bridge) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new ConnectionActor(
                        ctx, timers, transport, identity, gate, settings, nodeName, fanouts,
                        bridge)));
  }

  private final TimerScheduler<Socket.Command> timers;
  private final Transport transport;
  private final Gatekeeper gate;
  private final InterceptorChain interceptors;
  private final String connectionId = UUID.randomUUID().toString();
  private final EdgeSettings settings;
  private final String nodeName;
  private final ActorRef<FanoutRegistryActor.Command> fanouts;
  private final ClusterSharding sharding;
  private final NodeMetrics metrics;
  private final ClientRequests requests;
  // Concurrent: the socket's thread reads it to take acks (AckLane); only this actor changes it.
  private final Map<String, StreamCursor> streams = new ConcurrentHashMap<>();
  private final Set<String> joining = new HashSet<>();
  // Join, Leave and Publish frames naming a group whose Join is in flight, handled in the client's
  // order once it is answered (made at first use).
  private Map<String, List<ClientFrame>> afterJoin;
  private final List<InboundFrames.Decoded> stash = new ArrayList<>();
  private Phase phase = Phase.AWAITING_HELLO;
  private String sessionId;
  private EntityRef<SessionEntity.Command> sessionRef;
  private boolean sessionOver;
  private long lastInboundNanos = System.nanoTime();
  private Identity identity;
  private String slotUserId;
  private int inFlight;
  // Releases of frames taken while too many requests were in flight: the inbound side may have
  // handed several ahead (NettySocket reads a few frames ahead), each released once.
  private InboundAck heldAck;
  private int heldReleases;
  // Group cursors the client acked: forwarded to the groups at once (through the node's relay),
  // told to the session at most every AckLane.SESSION_SYNC_SECONDS and before the connection
  // detaches. The socket records acks there itself while this actor holds none of its frames.
  private final AckLane acks;
  private final BridgeBinding bridge;
  private UpstreamStatus upstreamStatus;

  private ConnectionActor(
      ActorContext<Socket.Command> context,
      TimerScheduler<Socket.Command> timers,
      Transport transport,
      Identity identity,
      Gatekeeper gate,
      EdgeSettings settings,
      String nodeName,
      ActorRef<FanoutRegistryActor.Command> fanouts,
      BridgeBinding bridge) {
    super(context);
    this.bridge = bridge;
    this.timers = timers;
    this.transport = transport;
    this.identity = identity;
    this.gate = gate;
    this.interceptors = gate.newChain();
    this.settings = settings;
    this.nodeName = nodeName;
    this.fanouts = fanouts;
    this.sharding = ClusterSharding.get(context.getSystem());
    this.metrics = NodeMetrics.get(context.getSystem());
    this.acks = new AckLane(streams, interceptors, CursorRelay.get(context.getSystem()), metrics);
    transport.ackLane(acks);
    this.requests = new ClientRequests(context, nodeName, this::send);
    metrics.connections.increment();
    timers.startSingleTimer(Tick.CONNECT_TIMEOUT, settings.connectTimeout());
    if (!transport.keepsHeartbeat()) {
      timers.startTimerAtFixedRate(Tick.HEARTBEAT, settings.heartbeatInterval());
    }
  }

  /**
   * One case that dispatches by type, rather than a builder case per message: a receive is built
   * per actor, and every socket has one.
   */
  @Override
  public Receive<Socket.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Socket.Command.class, this::onMessage)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Socket.Command> onMessage(Socket.Command message) {
    if (message instanceof InboundFrame m) {
      return onInboundFrame(m);
    }
    if (message instanceof InboundStarted m) {
      return ack(m.ackTo());
    }
    if (message instanceof InboundCompleted m) {
      return Behaviors.stopped();
    }
    if (message instanceof InboundFailed m) {
      return Behaviors.stopped();
    }
    if (message instanceof Socket.Fanned m) {
      return onLive(m.stream(), m.publication(), m.encoded());
    }
    if (message instanceof Socket.Live m) {
      return onLive(m.stream(), m.publication(), null);
    }
    if (message instanceof Socket.HeadMoved m) {
      return onHeadMoved(m);
    }
    if (message instanceof Socket.Close m) {
      return onCloseRequested(m);
    }
    if (message instanceof SessionReady m) {
      return onSessionReady(m);
    }
    if (message instanceof SessionRefused m) {
      return onSessionRefused(m);
    }
    if (message instanceof JoinDone m) {
      return onJoinDone(m);
    }
    if (message instanceof Refused m) {
      return onRefused(m);
    }
    if (message instanceof LeaveDone m) {
      return onLeaveDone(m);
    }
    if (message instanceof PublishDone m) {
      return onPublishDone(m);
    }
    if (message instanceof PageArrived m) {
      return onPageArrived(m);
    }
    if (message instanceof PageFailed m) {
      return onPageFailed(m);
    }
    if (message instanceof SlotAnswered m) {
      return onSlotAnswered(m);
    }
    if (message instanceof Tick m) {
      return onTick(m);
    }
    if (message instanceof ClientRequests.Result m) {
      return onRequestResult(m);
    }
    if (message instanceof Socket.Ask m) {
      return onAsk(m);
    }
    if (message instanceof Socket.Membership m) {
      return onMembership(m);
    }
    if (message instanceof UpstreamStatus m) {
      return onUpstreamStatus(m);
    }
    if (message instanceof UpstreamAccepted m) {
      return onUpstreamAccepted();
    }
    return Behaviors.unhandled();
  }

  // ---- inbound frames

  private Behavior<Socket.Command> onInboundFrame(InboundFrame frame) {
    metrics.framesIn.increment();
    lastInboundNanos = System.nanoTime();
    int held = stash.size();
    if (phase != Phase.CLOSING) {
      Optional<Rejection> rejection = admit(frame.inbound());
      if (rejection.isPresent()) {
        refuse(frame.inbound(), rejection.get());
      } else {
        handle(frame.inbound());
      }
    }
    if (stash.size() > held || inFlight >= settings.maxInFlight()) {
      // Backpressure: the next frame is read once the session has started and the frames held
      // back meanwhile are handled, or once an entity answered one of the requests in flight.
      heldAck = frame.ackTo();
      heldReleases++;
      return this;
    }
    return ack(frame.ackTo());
  }

  /** Counts a request to an entity made on behalf of a client frame. */
  private void started() {
    inFlight++;
  }

  /** An entity answered; releases the inbound stream if it was held. */
  private void answered() {
    inFlight = Math.max(0, inFlight - 1);
    if (heldReleases > 0 && inFlight < settings.maxInFlight()) {
      heldReleases--;
      heldAck.release();
    }
  }

  /** The frames held back while the session started are handled: reads go on (within limits). */
  private void releaseStashed() {
    while (heldReleases > 0 && inFlight < settings.maxInFlight()) {
      heldReleases--;
      heldAck.release();
    }
  }

  private Behavior<Socket.Command> ack(InboundAck ackTo) {
    ackTo.release();
    return this;
  }

  /** Runs the interceptor chain (rate, size, ACL, user-defined) before a frame is handled. */
  private Optional<Rejection> admit(InboundFrames.Inbound inbound) {
    if (inbound instanceof InboundFrames.Refused refused) {
      return Optional.of(refused.rejection()); // checked on the socket's thread
    }
    return inbound instanceof InboundFrames.Decoded d
        ? interceptors.check(identity, d.frame())
        : interceptors.checkUndecodable();
  }

  private void refuse(InboundFrames.Inbound inbound, Rejection rejection) {
    long frameId =
        inbound instanceof InboundFrames.Decoded d
            ? d.frame().getId()
            : inbound instanceof InboundFrames.Refused r ? r.frame().getId() : 0;
    send(ServerFrames.error(frameId, rejection.code(), rejection.message()));
    rejection.closes().ifPresent(code -> closeWith(code, rejection.message()));
  }

  private void handle(InboundFrames.Inbound inbound) {
    if (inbound instanceof InboundFrames.TooLarge tooLarge) {
      transport.sendUrgent(
          ServerFrames.error(
              0, ErrorCode.FRAME_TOO_LARGE, "frame exceeds " + tooLarge.limit() + " bytes"));
      closeWith(CloseCode.FRAME_TOO_LARGE, "frame too large");
    } else if (inbound instanceof InboundFrames.Malformed malformed) {
      send(ServerFrames.error(0, ErrorCode.BAD_FRAME, malformed.reason()));
    } else if (inbound instanceof InboundFrames.Decoded decoded) {
      handleFrame(decoded);
    }
  }

  private void handleFrame(InboundFrames.Decoded decoded) {
    ClientFrame frame = decoded.frame();
    long id = frame.getId();
    switch (frame.getKindCase()) {
      case PING ->
          send(ServerFrame.newBuilder().setId(id).setPong(Pong.getDefaultInstance()).build());
      case PONG -> {}
      case CONNECT, RESUME -> onHello(frame);
      case CLOSE -> onClientClose();
      case KIND_NOT_SET ->
          send(ServerFrames.error(id, ErrorCode.UNKNOWN_FRAME, "unknown frame kind"));
      default -> {
        if (phase == Phase.LIVE) {
          handleSessionFrame(frame);
        } else if (phase == Phase.CONNECTING && stash.size() < MAX_STASHED) {
          stash.add(decoded);
        } else {
          send(ServerFrames.error(id, ErrorCode.NOT_CONNECTED, "send Connect or Resume first"));
        }
      }
    }
  }

  private void handleSessionFrame(ClientFrame frame) {
    if (waitsForJoin(frame)) {
      return;
    }
    long id = frame.getId();
    switch (frame.getKindCase()) {
      case JOIN -> onJoin(id, frame.getJoin());
      case LEAVE -> onLeave(id, frame.getLeave().getGroup());
      case PUBLISH -> onPublish(id, frame.getPublish());
      case ACK -> onAck(frame.getAck().getCursorsList());
      case MESSAGE -> {
        if (bridge != null) {
          toUpstream(id, frame.getMessage());
        } else {
          requests.message(id, frame.getMessage());
        }
      }
      case REQUEST -> requests.request(id, frame.getRequest());
      case REPLY -> requests.reply(id, frame.getReply());
      case REFRESH -> onRefresh(id, frame.getRefresh().getToken());
      default -> send(ServerFrames.error(id, ErrorCode.UNKNOWN_FRAME, "unexpected frame"));
    }
  }

  // ---- authentication: Connect/Resume, connection slots, Refresh, token expiry

  /**
   * Connect or Resume: proves the identity (the frame's token, or the upgrade's), takes a slot
   * among the user's connections, then opens or resumes the session.
   */
  private void onHello(ClientFrame frame) {
    if (phase != Phase.AWAITING_HELLO) {
      send(ServerFrames.error(frame.getId(), ErrorCode.ALREADY_CONNECTED, "already connected"));
      return;
    }
    String token =
        frame.hasConnect() ? frame.getConnect().getToken() : frame.getResume().getToken();
    TokenVerifier.Result result = gate.atHello(identity, token);
    if (result instanceof TokenVerifier.Rejected rejected) {
      getContext().getLog().debug("Connection refused: {}", rejected.reason());
      send(ServerFrames.error(frame.getId(), ErrorCode.UNAUTHORIZED, rejected.reason()));
      closeWith(CloseCode.UNAUTHORIZED, rejected.reason());
      return;
    }
    identity = ((TokenVerifier.Verified) result).identity();
    scheduleTokenExpiry();
    String userId = identity.userId();
    if (identity.anonymous() || userId.equals(slotUserId)) {
      proceed(frame);
      return;
    }
    releaseSlot();
    // Frames that follow wait in the stash until the slot is answered. The slot counts as held
    // from now on, so that a connection stopping before the answer gives it back.
    phase = Phase.CONNECTING;
    slotUserId = userId;
    CompletionStage<Boolean> slot = gate.slots().acquire(userId, connectionId);
    CompletableFuture<Boolean> now = slot.toCompletableFuture();
    if (now.isDone()) {
      onSlotAnswered(new SlotAnswered(frame, userId, now.exceptionally(e -> true).join()));
    } else {
      getContext()
          .pipeToSelf(
              slot,
              (granted, failure) -> new SlotAnswered(frame, userId, failure != null || granted));
    }
  }

  private Behavior<Socket.Command> onSlotAnswered(SlotAnswered answered) {
    if (!answered.granted() && answered.userId().equals(slotUserId)) {
      slotUserId = null;
    }
    if (phase != Phase.CONNECTING) {
      return this;
    }
    phase = Phase.AWAITING_HELLO;
    if (!answered.granted()) {
      send(
          ServerFrames.error(
              answered.hello().getId(),
              ErrorCode.LIMIT_EXCEEDED,
              "too many connections for this user"));
      refuseStashed();
      return this;
    }
    proceed(answered.hello());
    return this;
  }

  private void proceed(ClientFrame hello) {
    if (hello.hasConnect()) {
      onConnect(hello.getId());
    } else {
      onResume(hello);
    }
    if (phase == Phase.AWAITING_HELLO) {
      refuseStashed();
    }
  }

  private void refuseStashed() {
    for (InboundFrames.Decoded d : stash) {
      send(ServerFrames.error(d.frame().getId(), ErrorCode.NOT_CONNECTED, "not connected"));
    }
    stash.clear();
    releaseStashed();
  }

  private void releaseSlot() {
    if (slotUserId != null) {
      gate.slots().release(slotUserId, connectionId);
      slotUserId = null;
    }
  }

  /** A fresh token for this connection: same user required; answered by Pong. */
  private void onRefresh(long frameId, String token) {
    TokenVerifier.Result result = gate.refresh(identity, token);
    if (result instanceof TokenVerifier.Verified verified) {
      identity = verified.identity();
      acks.identity(identity);
      scheduleTokenExpiry();
      send(ServerFrame.newBuilder().setId(frameId).setPong(Pong.getDefaultInstance()).build());
    } else {
      String reason = ((TokenVerifier.Rejected) result).reason();
      send(
          ServerFrames.error(
              frameId,
              gate.anonymousMode() ? ErrorCode.INVALID_ARGUMENT : ErrorCode.UNAUTHORIZED,
              reason));
    }
  }

  /**
   * TokenExpiring ahead of the token's end, and the close (TOKEN_EXPIRED) at it: one timer (every
   * socket holds it), which the warning re-arms for the close.
   */
  private void scheduleTokenExpiry() {
    timers.cancel(TOKEN_TIMER);
    tokenTimer(Tick.TOKEN_EXPIRING);
  }

  private void tokenTimer(Tick tick) {
    Optional<Instant> closeAt = gate.closeAt(identity);
    if (closeAt.isEmpty()) {
      return;
    }
    Duration left = Duration.between(Instant.now(), closeAt.get());
    Duration in = tick == Tick.TOKEN_EXPIRING ? left.minus(gate.expiryWarning()) : left;
    timers.startSingleTimer(TOKEN_TIMER, tick, in.isNegative() ? Duration.ZERO : in);
  }

  private void warnTokenExpiring() {
    gate.closeAt(identity)
        .ifPresent(
            at ->
                send(
                    ServerFrame.newBuilder()
                        .setTokenExpiring(
                            TokenExpiring.newBuilder().setExpiresAtMs(at.toEpochMilli()))
                        .build()));
  }

  // ---- connect and resume

  private void onConnect(long frameId) {
    if (phase != Phase.AWAITING_HELLO) {
      send(ServerFrames.error(frameId, ErrorCode.ALREADY_CONNECTED, "already connected"));
      return;
    }
    phase = Phase.CONNECTING;
    sessionId = SessionSecrets.newSessionId();
    String token = SessionSecrets.newResumeToken();
    started();
    getContext()
        .askWithStatus(
            SessionEntity.Attached.class,
            session(),
            settings.askTimeout(),
            replyTo ->
                new SessionEntity.Start(
                    identity.userId(),
                    SessionSecrets.hash(token),
                    bridge,
                    getContext().getSelf(),
                    replyTo),
            (attached, failure) ->
                attached != null
                    ? new SessionReady(frameId, false, token, attached, Map.of())
                    : new SessionRefused(frameId, false, failure.getMessage()));
  }

  private void onResume(ClientFrame frame) {
    long frameId = frame.getId();
    if (phase != Phase.AWAITING_HELLO) {
      send(ServerFrames.error(frameId, ErrorCode.ALREADY_CONNECTED, "already connected"));
      return;
    }
    var resume = frame.getResume();
    if (resume.getSessionId().isEmpty() || resume.getResumeToken().isEmpty()) {
      send(
          ServerFrames.error(
              frameId, ErrorCode.INVALID_ARGUMENT, "Resume needs session_id and resume_token"));
      return;
    }
    Map<String, Long> cursors = new HashMap<>();
    for (Cursor c : resume.getCursorsList()) {
      cursors.merge(c.getStream(), c.getOffset(), Math::max);
    }
    phase = Phase.CONNECTING;
    sessionId = resume.getSessionId();
    String token = resume.getResumeToken();
    started();
    getContext()
        .askWithStatus(
            SessionEntity.Attached.class,
            session(),
            settings.askTimeout(),
            replyTo ->
                new SessionEntity.Attach(
                    identity.userId(), SessionSecrets.hash(token), getContext().getSelf(), replyTo),
            (attached, failure) ->
                attached != null
                    ? new SessionReady(frameId, true, token, attached, cursors)
                    : new SessionRefused(frameId, true, failure.getMessage()));
  }

  private Behavior<Socket.Command> onSessionReady(SessionReady ready) {
    answered();
    if (phase != Phase.CONNECTING) {
      return this;
    }
    phase = Phase.LIVE;
    acks.live(sessionId);
    timers.cancel(Tick.CONNECT_TIMEOUT);
    timers.startTimerWithFixedDelay(Tick.REANNOUNCE, settings.reannounceInterval());
    SessionEntity.Attached attached = ready.attached();
    send(
        ServerFrame.newBuilder()
            .setId(ready.frameId())
            .setConnected(
                Connected.newBuilder()
                    .setSessionId(sessionId)
                    .setResumeToken(ready.token())
                    .setResumed(ready.resumed())
                    .setUserId(attached.userId())
                    .addAllGroups(attached.groups())
                    .setPingIntervalMs((int) settings.heartbeatInterval().toMillis())
                    .setNode(nodeName))
            .build());
    requests.connected(sessionId, ready.attached().userId(), ready.resumed());
    Map<String, Long> client = ready.clientCursors();
    long inboxStart =
        ready.resumed()
            ? client.getOrDefault(StreamNames.INBOX, attached.inboxFirst() - 1)
            : attached.inboxHead();
    openStream(StreamNames.INBOX, inboxStart, ready.resumed());
    for (String groupId : attached.groups()) {
      long start = client.getOrDefault(groupId, attached.cursors().getOrDefault(groupId, 0L));
      openStream(groupId, start, true);
    }
    if (upstreamStatus != null) {
      send(ServerFrames.upstream(upstreamStatus)); // it came before the session's answer
    }
    List<InboundFrames.Decoded> pending = new ArrayList<>(stash);
    stash.clear();
    pending.forEach(this::handleFrame);
    releaseStashed();
    if (phase == Phase.LIVE) {
      acks.open(identity); // after what was held back: the socket's acks come after it
    }
    return this;
  }

  private Behavior<Socket.Command> onSessionRefused(SessionRefused refused) {
    answered();
    if (phase != Phase.CONNECTING) {
      return this;
    }
    phase = Phase.AWAITING_HELLO;
    boolean notFound = refused.resume() && String.valueOf(refused.reason()).contains("not found");
    if (notFound) {
      // A guessed or stolen session id, or a token of another user: nothing is revealed.
      getContext()
          .getLog()
          .info("Resume of session [{}] refused to user [{}]", sessionId, identity.userId());
    }
    sessionId = null;
    send(
        ServerFrames.error(
            refused.frameId(),
            notFound ? ErrorCode.SESSION_NOT_FOUND : ErrorCode.UNAVAILABLE,
            notFound ? "session not found" : "session unavailable, retry"));
    refuseStashed();
    return this;
  }

  private void onClientClose() {
    if (sessionId != null && phase == Phase.LIVE) {
      session()
          .tell(new SessionEntity.End("client closed", 0, getContext().getSystem().ignoreRef()));
      sessionOver = true;
    }
    closeWith(CloseCode.NORMAL, "closed by client");
  }

  // ---- groups

  private void onJoin(long frameId, io.switchboard.protocol.v1.Join join) {
    String groupId = join.getGroup();
    if (!StreamNames.isValidGroup(groupId)) {
      send(ServerFrames.error(frameId, ErrorCode.INVALID_ARGUMENT, "invalid group name"));
      return;
    }
    StreamCursor existing = streams.get(groupId);
    if (existing != null) {
      send(joined(frameId, groupId, existing.lastDelivered()));
      return;
    }
    if (!joining.contains(groupId)
        && streams.size() - 1 + joining.size() >= settings.maxGroupsPerSession()) {
      send(ServerFrames.error(frameId, ErrorCode.LIMIT_EXCEEDED, "too many groups"));
      return;
    }
    joining.add(groupId);
    Long since = join.hasSinceOffset() ? join.getSinceOffset() : null;
    started();
    getContext()
        .askWithStatus(
            SessionEntity.Joined.class,
            session(),
            settings.askTimeout(),
            replyTo -> new SessionEntity.JoinGroup(groupId, replyTo),
            (joined, failure) ->
                joined != null
                    ? new JoinDone(frameId, groupId, since, joined)
                    : new Refused(frameId, ErrorCode.UNAVAILABLE, "join failed, retry", groupId));
  }

  private Behavior<Socket.Command> onJoinDone(JoinDone done) {
    answered();
    joining.remove(done.groupId());
    if (phase != Phase.LIVE) {
      return this;
    }
    StreamCursor existing = streams.get(done.groupId());
    long head = done.joined().head();
    send(
        joined(done.frameId(), done.groupId(), existing != null ? existing.lastDelivered() : head));
    if (existing == null) {
      boolean replay = done.since() != null;
      openStream(done.groupId(), replay ? Math.min(done.since(), head) : head, replay);
      requests.joined(done.groupId());
    }
    handleAfterJoin(done.groupId());
    return this;
  }

  /**
   * Whether {@code frame} waits for the Join of its group in flight (queued, counted in flight): a
   * client's frames about one group take effect in its order — a Publish after a Join lands after
   * the join (the client gets its own publication), a Leave after a Join leaves what the join
   * joined — while the session and the group entity answer them at different speeds.
   */
  private boolean waitsForJoin(ClientFrame frame) {
    String groupId =
        switch (frame.getKindCase()) {
          case JOIN -> frame.getJoin().getGroup();
          case LEAVE -> frame.getLeave().getGroup();
          case PUBLISH -> frame.getPublish().getGroup();
          default -> null;
        };
    if (groupId == null || !joining.contains(groupId)) {
      return false;
    }
    if (afterJoin == null) {
      afterJoin = new HashMap<>();
    }
    afterJoin.computeIfAbsent(groupId, g -> new ArrayList<>()).add(frame);
    started();
    return true;
  }

  /** The group's Join was answered: the frames that waited for it are handled, in order. */
  private void handleAfterJoin(String groupId) {
    List<ClientFrame> waiting = afterJoin == null ? null : afterJoin.remove(groupId);
    if (waiting == null) {
      return;
    }
    for (ClientFrame frame : waiting) {
      answered();
      handleSessionFrame(frame); // a Join among them queues those after it again
    }
  }

  private void onLeave(long frameId, String groupId) {
    if (!StreamNames.isValidGroup(groupId)) {
      send(ServerFrames.error(frameId, ErrorCode.INVALID_ARGUMENT, "invalid group name"));
      return;
    }
    StreamCursor left = streams.remove(groupId);
    if (left != null) {
      left.setOpen(false);
      fanouts.tell(new FanoutRegistryActor.Unregister(groupId, getContext().getSelf()));
    }
    started();
    getContext()
        .askWithStatus(
            Done.class,
            session(),
            settings.askTimeout(),
            replyTo -> new SessionEntity.LeaveGroup(groupId, replyTo),
            (done, failure) ->
                done != null
                    ? new LeaveDone(frameId, groupId)
                    : new Refused(frameId, ErrorCode.UNAVAILABLE, "leave failed, retry", null));
  }

  private Behavior<Socket.Command> onLeaveDone(LeaveDone done) {
    answered();
    requests.left(done.groupId());
    send(
        ServerFrame.newBuilder()
            .setId(done.frameId())
            .setLeft(Left.newBuilder().setGroup(done.groupId()))
            .build());
    return this;
  }

  private void onPublish(long frameId, io.switchboard.protocol.v1.Publish publish) {
    String groupId = publish.getGroup();
    if (!StreamNames.isValidGroup(groupId)) {
      send(ServerFrames.error(frameId, ErrorCode.INVALID_ARGUMENT, "invalid group name"));
      return;
    }
    switch (settings.clientPublish()) {
      case NONE -> {
        send(ServerFrames.error(frameId, ErrorCode.FORBIDDEN, "clients may not publish"));
        return;
      }
      case JOINED -> {
        // (A Publish after a Join in flight waited for it: waitsForJoin.)
        if (!streams.containsKey(groupId)) {
          send(ServerFrames.error(frameId, ErrorCode.NOT_A_MEMBER, "join the group first"));
          return;
        }
      }
      case ANY -> {}
    }
    started();
    getContext()
        .askWithStatus(
            GroupEntity.Receipt.class,
            sharding.entityRefFor(GroupEntity.ENTITY_KEY, groupId),
            settings.askTimeout(),
            replyTo ->
                new GroupEntity.Publish(publish.getPayload(), publish.getIdempotencyKey(), replyTo),
            (receipt, failure) ->
                receipt != null
                    ? new PublishDone(frameId, groupId, receipt.offset())
                    : new Refused(frameId, ErrorCode.UNAVAILABLE, "not published, retry", null));
  }

  private Behavior<Socket.Command> onPublishDone(PublishDone done) {
    answered();
    send(
        ServerFrame.newBuilder()
            .setId(done.frameId())
            .setPublished(Published.newBuilder().setGroup(done.groupId()).setOffset(done.offset()))
            .build());
    return this;
  }

  private Behavior<Socket.Command> onRefused(Refused refused) {
    answered();
    send(ServerFrames.error(refused.frameId(), refused.code(), refused.reason()));
    if (refused.groupId() != null) {
      joining.remove(refused.groupId());
      handleAfterJoin(refused.groupId());
    }
    return this;
  }

  /**
   * Acked cursors. A group cursor goes to the node's {@link CursorRelay} right away (the relay
   * batches per group), so the group trims as before; the session, which keeps cursors only to
   * start streams of a client that resumes without one and to re-send them to a restarted group,
   * hears them at most every {@value AckLane#SESSION_SYNC_SECONDS} s and before the connection
   * detaches. An inbox cursor goes to the session at once (it journals the trim). Thousands of
   * clients acking every second would otherwise cost the node three sharding hops and a session
   * command per ack. Most acks of a WebSocket never come here: its socket records them in the
   * {@link AckLane} itself, and hands this actor the one that finds the session due.
   */
  private void onAck(List<Cursor> cursors) {
    long inbox = -1;
    for (Cursor c : cursors) {
      if (StreamNames.INBOX.equals(c.getStream())) {
        inbox = Math.max(inbox, c.getOffset());
      } else {
        acks.record(c.getStream(), c.getOffset());
      }
    }
    if (inbox >= 0 || acks.syncDue(System.nanoTime())) {
      tellSessionAcked(inbox);
    }
  }

  /**
   * Tells the session the acked group cursors it has not heard yet, and {@code inbox} when not
   * negative; nothing when there is neither.
   */
  private void tellSessionAcked(long inbox) {
    Map<String, Long> told = new HashMap<>();
    for (StreamCursor cursor : streams.values()) {
      long acked = cursor.ackedUntold();
      if (acked != StreamCursor.NOT_ACKED) {
        told.put(cursor.stream(), acked);
      }
    }
    acks.synced(System.nanoTime());
    if (inbox >= 0) {
      told.put(StreamNames.INBOX, inbox);
    }
    if (!told.isEmpty()) {
      session().tell(new SessionEntity.Ack(told));
    }
  }

  // ---- backends (ClientRequests keeps the bookkeeping)

  private Behavior<Socket.Command> onRequestResult(ClientRequests.Result result) {
    requests.onResult(result);
    return this;
  }

  private Behavior<Socket.Command> onAsk(Socket.Ask ask) {
    requests.ask(ask, phase == Phase.LIVE);
    return this;
  }

  /** A backend joined or left a group for this session (its own changes are already known). */
  private Behavior<Socket.Command> onMembership(Socket.Membership change) {
    String groupId = change.groupId();
    if (phase != Phase.LIVE || joining.contains(groupId)) {
      return this;
    }
    if (change.joined() && !streams.containsKey(groupId)) {
      send(joined(0, groupId, change.head()));
      openStream(groupId, change.head(), false);
      requests.joined(groupId);
    } else if (!change.joined() && streams.containsKey(groupId)) {
      streams.remove(groupId).setOpen(false);
      fanouts.tell(new FanoutRegistryActor.Unregister(groupId, getContext().getSelf()));
      send(ServerFrame.newBuilder().setLeft(Left.newBuilder().setGroup(groupId)).build());
      requests.left(groupId);
    }
    return this;
  }

  // ---- bridge routes: Message frames go to the session's upstream

  private void toUpstream(long frameId, io.switchboard.protocol.v1.Message message) {
    started();
    getContext()
        .askWithStatus(
            Done.class,
            session(),
            settings.askTimeout(),
            replyTo -> new SessionEntity.ToUpstream(message.getBody(), message.getPath(), replyTo),
            (done, failure) ->
                done != null
                    ? new UpstreamAccepted()
                    : new Refused(
                        frameId,
                        BridgeRefusals.code(failure),
                        BridgeRefusals.reason(failure),
                        null));
  }

  private Behavior<Socket.Command> onUpstreamAccepted() {
    answered();
    return this;
  }

  private Behavior<Socket.Command> onUpstreamStatus(UpstreamStatus status) {
    if (phase == Phase.LIVE) {
      send(ServerFrames.upstream(status));
    } else {
      upstreamStatus = status;
    }
    return this;
  }

  // ---- streams

  private void openStream(String stream, long lastDelivered, boolean replay) {
    StreamCursor cursor =
        new StreamCursor(
            stream,
            lastDelivered,
            replay,
            this,
            settings.replayPageSize(),
            settings.maxPendingPerStream());
    StreamCursor replaced = streams.put(stream, cursor);
    if (replaced != null) {
      replaced.setOpen(false);
    }
    cursor.setOpen(phase == Phase.LIVE);
    if (!StreamNames.INBOX.equals(stream)) {
      // Live traffic first, then the replay: nothing falls between the two.
      fanouts.tell(new FanoutRegistryActor.Register(stream, getContext().getSelf(), cursor));
    }
    if (replay) {
      cursor.start();
    }
    scheduleRoomCheck();
  }

  private Behavior<Socket.Command> onLive(
      String stream, Publication publication, EncodedOnce shared) {
    StreamCursor cursor = streams.get(stream);
    if (cursor != null && phase == Phase.LIVE) {
      cursor.onLive(publication, shared);
      scheduleRoomCheck();
    }
    return this;
  }

  private Behavior<Socket.Command> onHeadMoved(Socket.HeadMoved moved) {
    StreamCursor cursor = streams.get(moved.stream());
    if (cursor != null && phase == Phase.LIVE) {
      cursor.onHead(moved.head());
      scheduleRoomCheck();
    }
    return this;
  }

  private Behavior<Socket.Command> onPageArrived(PageArrived arrived) {
    metrics.replayed.add(arrived.page().items().size());
    StreamCursor cursor = streams.get(arrived.stream());
    if (cursor != null && phase == Phase.LIVE) {
      cursor.onPage(arrived.page());
      scheduleRoomCheck();
    }
    return this;
  }

  private Behavior<Socket.Command> onPageFailed(PageFailed failed) {
    StreamCursor cursor = streams.get(failed.stream());
    if (cursor != null) {
      cursor.onFetchFailed();
      timers.startSingleTimer(Tick.ROOM_CHECK, Duration.ofMillis(500));
    }
    return this;
  }

  private void scheduleRoomCheck() {
    if (!timers.isTimerActive(Tick.ROOM_CHECK)
        && streams.values().stream().anyMatch(StreamCursor::isDeferred)) {
      timers.startSingleTimer(Tick.ROOM_CHECK, Duration.ofMillis(20));
    }
  }

  @Override
  public void deliver(String stream, Publication publication, EncodedOnce shared) {
    if (phase != Phase.LIVE) {
      return;
    }
    if (transport.sendDelivery(stream, publication, shared)) {
      metrics.deliveries.increment();
      metrics.framesOut.increment();
    } else {
      closeWith(CloseCode.SLOW_CONSUMER, "outbound buffer full");
    }
  }

  @Override
  public Executor liveExecutor() {
    return transport.ioThread();
  }

  /** From the fan-out's thread (see {@link StreamCursor#offer}): the transport only. */
  @Override
  public boolean deliverLive(String stream, Publication publication, EncodedOnce shared) {
    if (!transport.sendDelivery(stream, publication, shared)) {
      return false;
    }
    metrics.deliveries.increment();
    metrics.framesOut.increment();
    return true;
  }

  @Override
  public void fetch(String stream, long fromOffset, int maxCount) {
    if (StreamNames.INBOX.equals(stream)) {
      getContext()
          .ask(
              Page.class,
              session(),
              settings.askTimeout(),
              replyTo -> new SessionEntity.ReadInbox(fromOffset, maxCount, replyTo),
              (page, failure) ->
                  page != null ? new PageArrived(stream, page) : new PageFailed(stream));
    } else {
      getContext()
          .ask(
              Page.class,
              sharding.entityRefFor(GroupEntity.ENTITY_KEY, stream),
              settings.askTimeout(),
              replyTo -> new GroupEntity.Read(fromOffset, maxCount, replyTo),
              (page, failure) ->
                  page != null ? new PageArrived(stream, page) : new PageFailed(stream));
    }
  }

  @Override
  public int room() {
    return transport.capacity() - transport.queued();
  }

  @Override
  public void recovery(String stream, boolean recovered, long firstOffset, long head) {
    send(
        ServerFrame.newBuilder()
            .setRecovery(
                Recovery.newBuilder()
                    .setStream(stream)
                    .setRecovered(recovered)
                    .setFirstOffset(firstOffset)
                    .setHead(head))
            .build());
  }

  // ---- timers, closing

  private Behavior<Socket.Command> onTick(Tick tick) {
    switch (tick) {
      case HEARTBEAT -> {
        if (phase == Phase.CLOSING) {
          break;
        }
        long silentNanos = System.nanoTime() - lastInboundNanos;
        if (silentNanos > settings.heartbeatTimeout().toNanos()) {
          closeWith(CloseCode.HEARTBEAT_TIMEOUT, "no heartbeat");
        } else {
          send(ServerFrame.newBuilder().setPing(Ping.getDefaultInstance()).build());
        }
      }
      case CONNECT_TIMEOUT -> {
        if (phase == Phase.AWAITING_HELLO) {
          closeWith(CloseCode.CONNECT_TIMEOUT, "no Connect or Resume in time");
        } else if (phase == Phase.CONNECTING) {
          // The client did send Connect/Resume and the node is still on it (a slow session start,
          // a connection slot): wait; every request it makes is answered within its ask timeout.
          timers.startSingleTimer(Tick.CONNECT_TIMEOUT, settings.connectTimeout());
        }
      }
      case REANNOUNCE -> {
        if (phase == Phase.LIVE) {
          session().tell(new SessionEntity.Reannounce(getContext().getSelf()));
        }
      }
      case ROOM_CHECK -> {
        if (phase == Phase.LIVE) {
          for (StreamCursor cursor : streams.values()) {
            if (cursor.isDeferred() && room() > 0) {
              cursor.retry();
            }
          }
          scheduleRoomCheck();
        }
      }
      case TOKEN_EXPIRING -> {
        if (phase != Phase.CLOSING) {
          warnTokenExpiring();
        }
        tokenTimer(Tick.TOKEN_EXPIRED);
      }
      case TOKEN_EXPIRED -> closeWith(CloseCode.TOKEN_EXPIRED, "token expired");
      case CLOSE_GRACE_OVER -> {
        transport.abort();
        return Behaviors.stopped();
      }
    }
    return this;
  }

  private Behavior<Socket.Command> onCloseRequested(Socket.Close close) {
    int code = close.code();
    if (code == CloseCode.SESSION_REPLACED.code()
        || code == CloseCode.SESSION_ENDED.code()
        || CloseCode.isApplication(code)) {
      sessionOver = true;
    }
    closeWith(code, close.reason());
    return this;
  }

  private void closeWith(CloseCode code, String reason) {
    closeWith(code.code(), reason);
  }

  private void closeWith(int code, String reason) {
    if (phase == Phase.CLOSING) {
      return;
    }
    getContext()
        .getLog()
        .debug("Connection of session [{}] closing: {} {}", sessionId, code, reason);
    phase = Phase.CLOSING;
    acks.close();
    streams.values().forEach(cursor -> cursor.setOpen(false));
    if (code == CloseCode.SLOW_CONSUMER.code()) {
      metrics.slowConsumerCloses.increment();
    }
    transport.sendUrgent(ServerFrames.close(code, reason));
    transport.complete(code, reason);
    timers.cancel(Tick.HEARTBEAT);
    timers.cancel(Tick.REANNOUNCE);
    timers.startSingleTimer(Tick.CLOSE_GRACE_OVER, settings.closeGrace());
  }

  private void send(ServerFrame frame) {
    if (phase == Phase.CLOSING) {
      return;
    }
    if (!transport.send(frame)) {
      closeWith(CloseCode.SLOW_CONSUMER, "outbound buffer full");
      return;
    }
    metrics.framesOut.increment();
    if (frame.hasError()) {
      metrics.framesRefused.increment();
    }
  }

  private Behavior<Socket.Command> onPostStop() {
    transport.connectionStopped();
    requests.closed(); // pending asks fail now; workers hear DISCONNECTED
    releaseSlot();
    metrics.connections.decrement();
    if (sessionId != null && !sessionOver && (phase == Phase.LIVE || phase == Phase.CLOSING)) {
      tellSessionAcked(-1); // before the Detach: same sender, same entity, kept in order
      session().tell(new SessionEntity.Detach(getContext().getSelf()));
    }
    return this;
  }

  private static ServerFrame joined(long frameId, String groupId, long head) {
    return ServerFrame.newBuilder()
        .setId(frameId)
        .setJoined(Joined.newBuilder().setGroup(groupId).setHead(head))
        .build();
  }

  /** The session entity, its reference made once per session id (acks use it every second). */
  private EntityRef<SessionEntity.Command> session() {
    if (sessionRef == null || !sessionRef.getEntityId().equals(sessionId)) {
      sessionRef = sharding.entityRefFor(SessionEntity.ENTITY_KEY, sessionId);
    }
    return sessionRef;
  }
}
