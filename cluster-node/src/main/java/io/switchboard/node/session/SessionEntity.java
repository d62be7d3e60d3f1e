package io.switchboard.node.session;

import com.google.protobuf.ByteString;
import io.switchboard.node.ClusterMessage;
import io.switchboard.node.JournaledEntity;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.bridge.UpstreamActor;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.config.SessionSettings;
import io.switchboard.node.group.CursorRelay;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import io.switchboard.node.stream.StreamNames;
import io.switchboard.node.user.UserEntity;
import io.switchboard.protocol.CloseCode;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A session: the identity of one browser connection across reconnects and nodes. Sharded by session
 * id, event-sourced, remembered (it restarts elsewhere when its node goes away, so a detached
 * session always expires). It owns the user id, the hash of the resume token, the group memberships
 * (told to each group until it confirms: a crash between the two writes heals on recovery), and the
 * inbox of direct messages (stream "@"). The attached socket is runtime state; sockets re-announce
 * themselves. Detached for {@code detached-timeout}, it ends: it leaves its groups and its journal
 * is erased.
 */
public final class SessionEntity
    extends JournaledEntity<SessionEntity.Command, SessionEntity.Event, SessionState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Session");

  /** Everything a session accepts. */
  public sealed interface Command extends ClusterMessage {}

  /**
   * Opens the session for a user and attaches the socket; with a {@code bridge} (null otherwise)
   * the session owns a connection to that bridge route's upstream.
   */
  public record Start(
      String userId,
      ByteString resumeTokenHash,
      BridgeBinding bridge,
      ActorRef<Socket.Command> socket,
      ActorRef<StatusReply<Attached>> replyTo)
      implements Command {
    /** Opens a session that is not a bridge session. */
    public Start(
        String userId,
        ByteString resumeTokenHash,
        ActorRef<Socket.Command> socket,
        ActorRef<StatusReply<Attached>> replyTo) {
      this(userId, resumeTokenHash, null, socket, replyTo);
    }
  }

  /** Re-attaches a socket; needs the resume token's hash and the same user. */
  public record Attach(
      String userId,
      ByteString resumeTokenHash,
      ActorRef<Socket.Command> socket,
      ActorRef<StatusReply<Attached>> replyTo)
      implements Command {}

  /** An attached socket says it is still there (entities that moved find their socket again). */
  public record Reannounce(ActorRef<Socket.Command> socket) implements Command {}

  /** The socket is gone; the detached timeout starts. */
  public record Detach(ActorRef<Socket.Command> socket) implements Command {}

  /** Becomes a member of a group (idempotent); answered with the group's head. */
  public record JoinGroup(String groupId, ActorRef<StatusReply<Joined>> replyTo)
      implements Command {}

  /** Stops being a member of a group (idempotent). */
  public record LeaveGroup(String groupId, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** The client has everything up to these offsets, per stream. */
  public record Ack(Map<String, Long> cursors) implements Command {}

  /** Queues a direct message in the inbox and pushes it to the attached socket. */
  public record SendDirect(ByteString payload, ActorRef<StatusReply<Queued>> replyTo)
      implements Command {}

  /** Reads the inbox from an offset on. */
  public record ReadInbox(long fromOffset, int maxCount, ActorRef<Page> replyTo)
      implements Command {}

  /** Ends the session; {@code closeCode} > 0 also closes the attached socket with that code. */
  public record End(String reason, int closeCode, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Asks for the session's state (presence, diagnostics, tests). */
  public record Inspect(ActorRef<Info> replyTo) implements Command {}

  /**
   * Passes a request to the attached socket (the backend API's Ask), which answers it; without a
   * socket it fails at once with {@link Socket#ASK_NOT_ATTACHED}. Not journaled.
   */
  public record AskClient(Socket.Ask ask) implements Command {}

  /**
   * Tells the attached socket, if any, of a membership change a backend made with JoinGroup or
   * LeaveGroup (sockets learn their own changes from the replies). Not answered.
   */
  public record NotifySocket(Socket.Membership change) implements Command {}

  /**
   * A client message for a bridge session's upstream, as a {@code frameType} frame ("text",
   * "binary", or "" for the route's default): sent, or held while the upstream is not connected;
   * refused when too many are held, the body is not what the frame type needs, or the session is
   * not a bridge session.
   */
  public record ToUpstream(
      ByteString payload, String frameType, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** What the session's upstream actor says (through a message adapter; never remote). */
  record FromUpstream(UpstreamActor.Output output) implements Command {}

  record UpstreamStopped(ActorRef<UpstreamActor.Command> upstream) implements Command {}

  enum GraceOver implements Command {
    INSTANCE
  }

  /**
   * Long-poll: records who the session's client is, so that another node can resume the session for
   * a poll that carries only the session id and resume token. Runtime state, never journaled;
   * refused (session not found) unless the token's hash matches. Answered with Done.
   */
  public record Grant(
      ByteString resumeTokenHash, Identity identity, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * Long-poll: where the session's socket is, and its last {@link Grant}, for the holder of the
   * resume token; session not found otherwise.
   */
  public record Locate(ByteString resumeTokenHash, ActorRef<StatusReply<Location>> replyTo)
      implements Command {}

  record GroupConfirmed(String groupId, GroupEntity.Membership membership) implements Command {}

  record JoinFailed(String groupId, String error) implements Command {}

  record LeaveDone(String groupId, boolean confirmed) implements Command {}

  record SocketTerminated(ActorRef<Socket.Command> socket) implements Command {}

  enum DetachTimeout implements Command {
    INSTANCE
  }

  enum Maintain implements Command {
    INSTANCE
  }

  /** The answer to Start and Attach. */
  public record Attached(
      String userId,
      List<String> groups,
      Map<String, Long> cursors,
      long inboxHead,
      long inboxFirst)
      implements ClusterMessage {}

  /**
   * The answer to Locate: the attached socket and the identity last granted; either may be null (no
   * socket attached; no grant since this entity started).
   */
  public record Location(ActorRef<Socket.Command> socket, Identity grant)
      implements ClusterMessage {}

  /** The answer to JoinGroup: live traffic for the session starts after {@code head}. */
  public record Joined(String groupId, long head, long firstOffset) implements ClusterMessage {}

  /** The answer to SendDirect: the inbox offset of the message. */
  public record Queued(long offset) implements ClusterMessage {}

  /** The answer to Inspect. */
  public record Info(
      String sessionId,
      boolean active,
      String userId,
      List<String> groups,
      List<String> pendingLeaves,
      boolean attached,
      long inboxHead,
      long inboxFirst)
      implements ClusterMessage {}

  /** What a session journals. */
  public sealed interface Event {}

  public record Started(String userId, ByteString resumeTokenHash, long createdMs)
      implements Event {}

  public record GroupJoined(String groupId) implements Event {}

  public record GroupLeft(String groupId) implements Event {}

  public record LeaveConfirmed(String groupId) implements Event {}

  public record DirectQueued(Publication publication) implements Event {}

  public record InboxTrimmed(long throughOffset) implements Event {}

  public record Ended(String reason) implements Event {}

  /** The session is a bridge session of {@code route}, with these upstream request headers. */
  public record BridgeOpened(String route, Map<String, String> headers) implements Event {}

  /** A message from the bridge's upstream went into the inbox; {@code upstreamId} may be "". */
  public record UpstreamQueued(Publication publication, String upstreamId) implements Event {}

  private static final String NOT_FOUND = "session not found";

  /** ToUpstream refused: the session was not opened on a bridge route. */
  public static final String NOT_A_BRIDGE = "not a bridge session";

  /** Registers the entity type with cluster sharding on this node (remembered entities). */
  public static void init(
      ActorSystem<?> system, SessionSettings settings, PersistenceSettings persistence) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ENTITY_KEY,
                    ctx -> create(ctx.getEntityId(), settings, persistence, ctx.getShard()))
                .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** The behavior of one session; {@code shard} (null outside sharding) stops it for good. */
  public static Behavior<Command> create(
      String sessionId,
      SessionSettings settings,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new SessionEntity(sessionId, settings, persistence, shard, ctx, timers)));
  }

  private final String sessionId;
  private final SessionSettings settings;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClusterSharding sharding;
  private final CursorRelay cursorRelay;
  private ActorRef<Socket.Command> attached;
  private Identity grant;
  // Made at the first group operation (see Memberships).
  private Memberships memberships;
  private boolean erasing;
  private final SessionBridge bridge;

  /**
   * What the session tracks of its memberships at run time (never journaled): joins and leaves in
   * flight and their waiting replies, the groups that confirmed, the client's acked cursors, and
   * the joins this incarnation journaled (their confirmation's head is where the client's cursor
   * starts; a group confirmed again after recovery says nothing of what the client acked). Made at
   * the first group operation: most sessions of an idle node join nothing, and six empty
   * collections take a third of a kilobyte.
   */
  private static final class Memberships {
    final Map<String, List<ActorRef<StatusReply<Joined>>>> pendingJoins = new HashMap<>();
    final Set<String> joinsInFlight = new HashSet<>();
    final Set<String> leavesInFlight = new HashSet<>();
    final Set<String> confirmed = new HashSet<>();
    final Map<String, Long> cursors = new HashMap<>();
    final Set<String> freshJoins = new HashSet<>();
  }

  private Memberships memberships() {
    if (memberships == null) {
      memberships = new Memberships();
    }
    return memberships;
  }

  private SessionEntity(
      String sessionId,
      SessionSettings settings,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorContext<Command> context,
      TimerScheduler<Command> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), sessionId),
        persistence,
        settings.snapshotEvery(),
        new SessionEventCodec.Events(),
        new SessionEventCodec.Snapshots());
    this.sessionId = sessionId;
    this.settings = settings;
    this.shard = shard;
    this.context = context;
    this.timers = timers;
    this.sharding = ClusterSharding.get(context.getSystem());
    this.cursorRelay = CursorRelay.get(context.getSystem());
    this.bridge = new SessionBridge(sessionId, context, timers);
    timers.startTimerWithFixedDelay(Maintain.INSTANCE, Duration.ofSeconds(30));
  }

  @Override
  public SessionState emptyState() {
    return SessionState.template();
  }

  @Override
  public SignalHandler<SessionState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::onRecoveryCompleted)
        .build();
  }

  /**
   * One case that dispatches by type, rather than a builder case per command: the handler is built
   * per entity instance, and every connected session has one (25 cases cost ~1.6 KB per session).
   */
  @Override
  public CommandHandlerWithReply<Command, Event, SessionState> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState().onAnyCommand(this::onCommand);
  }

  private ReplyEffect<Event, SessionState> onCommand(SessionState state, Command command) {
    if (command instanceof Start c) {
      return onStart(state, c);
    }
    if (command instanceof Attach c) {
      return onAttach(state, c);
    }
    if (command instanceof Reannounce c) {
      return onReannounce(state, c);
    }
    if (command instanceof Detach c) {
      return onSocketGone(state, c.socket());
    }
    if (command instanceof SocketTerminated c) {
      return onSocketGone(state, c.socket());
    }
    if (command instanceof JoinGroup c) {
      return onJoinGroup(state, c);
    }
    if (command instanceof GroupConfirmed c) {
      return onGroupConfirmed(state, c);
    }
    if (command instanceof JoinFailed c) {
      return onJoinFailed(state, c);
    }
    if (command instanceof LeaveGroup c) {
      return onLeaveGroup(state, c);
    }
    if (command instanceof LeaveDone c) {
      return onLeaveDone(state, c);
    }
    if (command instanceof Ack c) {
      return onAck(state, c);
    }
    if (command instanceof SendDirect c) {
      return onSendDirect(state, c);
    }
    if (command instanceof ReadInbox c) {
      return onReadInbox(state, c);
    }
    if (command instanceof End c) {
      return onEnd(state, c);
    }
    if (command instanceof DetachTimeout c) {
      return onDetachTimeout(state, c);
    }
    if (command instanceof Maintain c) {
      return onMaintain(state, c);
    }
    if (command instanceof Inspect c) {
      return onInspect(state, c);
    }
    if (command instanceof AskClient c) {
      return onAskClient(state, c);
    }
    if (command instanceof NotifySocket c) {
      return onNotifySocket(state, c);
    }
    if (command instanceof ToUpstream c) {
      return onToUpstream(state, c);
    }
    if (command instanceof FromUpstream c) {
      return onFromUpstream(state, c);
    }
    if (command instanceof UpstreamStopped c) {
      return onUpstreamStopped(state, c);
    }
    if (command instanceof GraceOver c) {
      return onGraceOver(state, c);
    }
    if (command instanceof Grant c) {
      return onGrant(state, c);
    }
    if (command instanceof Locate c) {
      return onLocate(state, c);
    }
    return Effect().unhandled().thenNoReply();
  }

  /** One case that dispatches by type, like {@link #commandHandler()}. */
  @Override
  public EventHandler<SessionState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent((BiFunction<SessionState, Event, SessionState>) this::apply);
  }

  private SessionState apply(SessionState state, Event event) {
    if (event instanceof Started e) {
      return state.writable().started(e.userId(), e.resumeTokenHash(), e.createdMs());
    }
    if (event instanceof GroupJoined e) {
      return state.writable().groupJoined(e.groupId());
    }
    if (event instanceof GroupLeft e) {
      return state.writable().groupLeft(e.groupId());
    }
    if (event instanceof LeaveConfirmed e) {
      return state.writable().leaveConfirmed(e.groupId());
    }
    if (event instanceof DirectQueued e) {
      return state.writable().directQueued(e.publication(), settings.inboxMaxCount());
    }
    if (event instanceof InboxTrimmed e) {
      return state.writable().inboxTrimmed(e.throughOffset());
    }
    if (event instanceof Ended) {
      return state.writable().ended();
    }
    if (event instanceof BridgeOpened e) {
      return state.writable().bridgeOpened(e.route(), e.headers());
    }
    if (event instanceof UpstreamQueued e) {
      return state
          .writable()
          .upstreamQueued(e.publication(), e.upstreamId(), settings.inboxMaxCount());
    }
    throw new IllegalStateException("unknown session event " + event.getClass().getName());
  }

  private void onRecoveryCompleted(SessionState state) {
    if (state.isActive()) {
      timers.startSingleTimer(DetachTimeout.INSTANCE, settings.detachedTimeout());
      state.groups().forEach(this::askJoin);
      state.pendingLeaves().forEach(this::askLeave);
      // The user index may have missed the start (a crash between the two writes); idempotent.
      UserEntity.sessionStarted(sharding, state.userId(), sessionId);
      // A bridge session that moved or restarted reconnects upstream from here, with its replay
      // value; its socket finds it again within the grace period.
      bridge.ensureRunning(state);
      bridge.detached(state);
    } else if (state.isEnded()) {
      state.pendingLeaves().forEach(this::askLeave);
      finishIfDone(state);
    }
  }

  private ReplyEffect<Event, SessionState> onStart(SessionState state, Start cmd) {
    if (state.isStarted()) {
      // A retried Start with the same secret is an attach; anything else is a collision.
      return onAttach(
          state, new Attach(cmd.userId(), cmd.resumeTokenHash(), cmd.socket(), cmd.replyTo()));
    }
    Started started = new Started(cmd.userId(), cmd.resumeTokenHash(), System.currentTimeMillis());
    List<Event> events =
        cmd.bridge() == null
            ? List.of(started)
            : List.of(started, new BridgeOpened(cmd.bridge().route(), cmd.bridge().headers()));
    return Effect()
        .persist(events)
        .thenRun(s -> attach(cmd.socket(), s))
        .thenRun(s -> UserEntity.sessionStarted(sharding, s.userId(), sessionId))
        .thenReply(cmd.replyTo(), s -> StatusReply.success(attachedReply(s)));
  }

  private ReplyEffect<Event, SessionState> onAttach(SessionState state, Attach cmd) {
    boolean matches =
        state.isActive()
            && state.userId().equals(cmd.userId())
            && MessageDigest.isEqual(
                state.resumeTokenHash().toByteArray(), cmd.resumeTokenHash().toByteArray());
    if (!matches) {
      if (state.isStarted()) {
        context
            .getLog()
            .warn("Session [{}] refused a resume with a wrong token or user", sessionId);
      }
      passivateIfNeverStarted(state);
      return Effect().reply(cmd.replyTo(), StatusReply.error(NOT_FOUND));
    }
    attach(cmd.socket(), state);
    return Effect().reply(cmd.replyTo(), StatusReply.success(attachedReply(state)));
  }

  private ReplyEffect<Event, SessionState> onReannounce(SessionState state, Reannounce cmd) {
    if (!state.isActive()) {
      cmd.socket().tell(new Socket.Close(CloseCode.SESSION_ENDED.code(), NOT_FOUND));
      passivateIfNeverStarted(state);
    } else if (attached == null) {
      attach(cmd.socket(), state);
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onSocketGone(
      SessionState state, ActorRef<Socket.Command> socket) {
    if (socket.equals(attached)) {
      context.unwatch(attached);
      attached = null;
      if (state.isActive()) {
        timers.startSingleTimer(DetachTimeout.INSTANCE, settings.detachedTimeout());
        bridge.detached(state);
      }
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onJoinGroup(SessionState state, JoinGroup cmd) {
    if (!state.isActive()) {
      passivateIfNeverStarted(state); // the backend API may name sessions that never existed
      return Effect().reply(cmd.replyTo(), StatusReply.error(NOT_FOUND));
    }
    memberships()
        .pendingJoins
        .computeIfAbsent(cmd.groupId(), g -> new ArrayList<>())
        .add(cmd.replyTo());
    if (state.groups().contains(cmd.groupId())) {
      askJoin(cmd.groupId());
      return Effect().noReply();
    }
    memberships().freshJoins.add(cmd.groupId());
    return Effect()
        .persist(new GroupJoined(cmd.groupId()))
        .thenRun(s -> askJoin(cmd.groupId()))
        .thenNoReply();
  }

  private ReplyEffect<Event, SessionState> onGroupConfirmed(
      SessionState state, GroupConfirmed cmd) {
    Memberships m = memberships();
    m.joinsInFlight.remove(cmd.groupId());
    List<ActorRef<StatusReply<Joined>>> waiting = m.pendingJoins.remove(cmd.groupId());
    boolean member = state.groups().contains(cmd.groupId());
    if (member) {
      m.confirmed.add(cmd.groupId());
      if (m.freshJoins.remove(cmd.groupId())) {
        m.cursors.putIfAbsent(cmd.groupId(), cmd.membership().head());
      }
    }
    if (waiting != null) {
      StatusReply<Joined> reply =
          member
              ? StatusReply.success(
                  new Joined(
                      cmd.groupId(), cmd.membership().head(), cmd.membership().firstOffset()))
              : StatusReply.error("left the group while joining");
      waiting.forEach(replyTo -> replyTo.tell(reply));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onJoinFailed(SessionState state, JoinFailed cmd) {
    memberships().joinsInFlight.remove(cmd.groupId());
    context
        .getLog()
        .warn("Session [{}] join [{}] unconfirmed: {}", sessionId, cmd.groupId(), cmd.error());
    List<ActorRef<StatusReply<Joined>>> waiting = memberships().pendingJoins.remove(cmd.groupId());
    if (waiting != null) {
      waiting.forEach(r -> r.tell(StatusReply.error("group unavailable: " + cmd.error())));
    }
    timers.startSingleTimer("retry", Maintain.INSTANCE, Duration.ofSeconds(2));
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onLeaveGroup(SessionState state, LeaveGroup cmd) {
    if (!state.groups().contains(cmd.groupId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Memberships m = memberships();
    m.cursors.remove(cmd.groupId());
    m.confirmed.remove(cmd.groupId());
    m.freshJoins.remove(cmd.groupId());
    return Effect()
        .persist(new GroupLeft(cmd.groupId()))
        .thenRun(s -> askLeave(cmd.groupId()))
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<Event, SessionState> onLeaveDone(SessionState state, LeaveDone cmd) {
    memberships().leavesInFlight.remove(cmd.groupId());
    if (!cmd.confirmed()) {
      timers.startSingleTimer("retry", Maintain.INSTANCE, Duration.ofSeconds(2));
      return Effect().noReply();
    }
    if (!state.pendingLeaves().contains(cmd.groupId())) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new LeaveConfirmed(cmd.groupId()))
        .thenRun(this::finishIfDone)
        .thenNoReply();
  }

  private ReplyEffect<Event, SessionState> onAck(SessionState state, Ack cmd) {
    long inboxThrough = state.inbox().trimmedThrough();
    for (Map.Entry<String, Long> cursor : cmd.cursors().entrySet()) {
      String stream = cursor.getKey();
      long offset = cursor.getValue();
      if (StreamNames.INBOX.equals(stream)) {
        inboxThrough = Math.max(inboxThrough, Math.min(offset, state.inbox().head()));
      } else if (state.groups().contains(stream)
          && offset > memberships().cursors.getOrDefault(stream, Long.MIN_VALUE)) {
        memberships().cursors.put(stream, offset);
        cursorRelay.advance(stream, sessionId, offset);
      }
    }
    if (inboxThrough > state.inbox().trimmedThrough()) {
      return Effect().persist(new InboxTrimmed(inboxThrough)).thenNoReply();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onSendDirect(SessionState state, SendDirect cmd) {
    if (!state.isActive()) {
      passivateIfNeverStarted(state); // the backend API may name sessions that never existed
      return Effect().reply(cmd.replyTo(), StatusReply.error(NOT_FOUND));
    }
    Publication publication =
        new Publication(state.inbox().head() + 1, cmd.payload(), System.currentTimeMillis());
    return Effect()
        .persist(new DirectQueued(publication))
        .thenRun(
            s -> {
              if (attached != null) {
                attached.tell(new Socket.Live(StreamNames.INBOX, publication));
              }
            })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Queued(publication.offset())));
  }

  private ReplyEffect<Event, SessionState> onReadInbox(SessionState state, ReadInbox cmd) {
    var inbox = state.inbox();
    return Effect()
        .reply(
            cmd.replyTo(),
            new Page(
                StreamNames.INBOX,
                inbox.read(cmd.fromOffset(), cmd.maxCount()),
                inbox.firstOffset(),
                inbox.head()));
  }

  private ReplyEffect<Event, SessionState> onEnd(SessionState state, End cmd) {
    if (!state.isActive()) {
      passivateIfNeverStarted(state);
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    context.getLog().info("Session [{}] ended: {}", sessionId, cmd.reason());
    return Effect()
        .persist(new Ended(cmd.reason()))
        .thenRun(
            s -> {
              if (attached != null && cmd.closeCode() > 0) {
                attached.tell(new Socket.Close(cmd.closeCode(), cmd.reason()));
              }
              s.pendingLeaves().forEach(this::askLeave);
              bridge.stop();
              UserEntity.sessionEnded(sharding, s.userId(), sessionId);
              finishIfDone(s);
            })
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<Event, SessionState> onDetachTimeout(SessionState state, DetachTimeout t) {
    if (attached != null || !state.isActive()) {
      return Effect().noReply();
    }
    return onEnd(state, new End("detached-timeout", 0, context.getSystem().ignoreRef()));
  }

  private ReplyEffect<Event, SessionState> onMaintain(SessionState state, Maintain tick) {
    for (String groupId : state.groups()) {
      if (!memberships().confirmed.contains(groupId)) {
        askJoin(groupId);
      } else if (memberships().cursors.containsKey(groupId)) {
        // Groups keep member cursors in memory only: re-send them so a group that restarted can
        // trim again.
        cursorRelay.advance(groupId, sessionId, memberships().cursors.get(groupId));
      }
    }
    state.pendingLeaves().forEach(this::askLeave);
    long expired =
        state
            .inbox()
            .lastOffsetBefore(System.currentTimeMillis() - settings.inboxMaxAge().toMillis());
    if (expired > state.inbox().trimmedThrough()) {
      // Unacked direct messages past their age: a resuming client is told (Recovery) they are gone.
      return Effect().persist(new InboxTrimmed(expired)).thenNoReply();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onInspect(SessionState state, Inspect cmd) {
    return Effect()
        .reply(
            cmd.replyTo(),
            new Info(
                sessionId,
                state.isActive(),
                state.userId(),
                List.copyOf(state.groups()),
                List.copyOf(state.pendingLeaves()),
                attached != null,
                state.inbox().head(),
                state.inbox().firstOffset()));
  }

  private ReplyEffect<Event, SessionState> onAskClient(SessionState state, AskClient cmd) {
    if (!state.isActive()) {
      passivateIfNeverStarted(state);
      cmd.ask().replyTo().tell(StatusReply.error(NOT_FOUND));
    } else if (attached == null) {
      cmd.ask().replyTo().tell(StatusReply.error(Socket.ASK_NOT_ATTACHED));
    } else {
      attached.tell(cmd.ask());
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onNotifySocket(SessionState state, NotifySocket cmd) {
    if (attached != null && state.isActive()) {
      attached.tell(cmd.change());
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onToUpstream(SessionState state, ToUpstream cmd) {
    bridge.send(cmd, state);
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onFromUpstream(SessionState state, FromUpstream cmd) {
    if (cmd.output() instanceof UpstreamActor.Received received) {
      if (!state.isActive()) {
        return Effect().noReply();
      }
      Publication publication =
          new Publication(state.inbox().head() + 1, received.payload(), System.currentTimeMillis());
      String upstreamId = received.upstreamId() == null ? "" : received.upstreamId();
      return Effect()
          .persist(new UpstreamQueued(publication, upstreamId))
          .thenRun(
              s -> {
                if (attached != null) {
                  attached.tell(new Socket.Live(StreamNames.INBOX, publication));
                }
                bridge.journaled(s);
              })
          .thenNoReply();
    }
    if (cmd.output() instanceof UpstreamActor.StatusChanged changed) {
      bridge.statusChanged(changed.status(), attached);
      return Effect().noReply();
    }
    if (cmd.output() instanceof UpstreamActor.Lost lost) {
      bridge.stop();
      return onEnd(
          state,
          new End(
              "upstream lost: " + lost.reason(),
              CloseCode.UPSTREAM_LOST.code(),
              context.getSystem().ignoreRef()));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onUpstreamStopped(
      SessionState state, UpstreamStopped cmd) {
    bridge.stopped(cmd.upstream(), state, attached);
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onGraceOver(SessionState state, GraceOver tick) {
    if (attached == null) {
      bridge.graceOver();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, SessionState> onGrant(SessionState state, Grant cmd) {
    if (!holdsToken(state, cmd.resumeTokenHash())
        || !state.userId().equals(cmd.identity().userId())) {
      passivateIfNeverStarted(state);
      return Effect().reply(cmd.replyTo(), StatusReply.error(NOT_FOUND));
    }
    grant = cmd.identity();
    return Effect().reply(cmd.replyTo(), StatusReply.ack());
  }

  private ReplyEffect<Event, SessionState> onLocate(SessionState state, Locate cmd) {
    if (!holdsToken(state, cmd.resumeTokenHash())) {
      passivateIfNeverStarted(state);
      return Effect().reply(cmd.replyTo(), StatusReply.error(NOT_FOUND));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(new Location(attached, grant)));
  }

  private static boolean holdsToken(SessionState state, ByteString resumeTokenHash) {
    return state.isActive()
        && MessageDigest.isEqual(
            state.resumeTokenHash().toByteArray(), resumeTokenHash.toByteArray());
  }

  private void attach(ActorRef<Socket.Command> socket, SessionState state) {
    if (attached != null && !attached.equals(socket)) {
      attached.tell(
          new Socket.Close(CloseCode.SESSION_REPLACED.code(), "another connection resumed"));
      context.unwatch(attached);
    }
    if (!socket.equals(attached)) {
      attached = socket;
      context.watchWith(socket, new SocketTerminated(socket));
    }
    timers.cancel(DetachTimeout.INSTANCE);
    bridge.attached(socket, state);
  }

  private Attached attachedReply(SessionState state) {
    return new Attached(
        state.userId(),
        List.copyOf(state.groups()),
        memberships == null ? Map.of() : Map.copyOf(memberships.cursors),
        state.inbox().head(),
        state.inbox().firstOffset());
  }

  private void askJoin(String groupId) {
    if (!memberships().joinsInFlight.add(groupId)) {
      return;
    }
    context.askWithStatus(
        GroupEntity.Membership.class,
        group(groupId),
        settings.askTimeout(),
        replyTo -> new GroupEntity.AddMember(sessionId, replyTo),
        (membership, failure) ->
            membership != null
                ? new GroupConfirmed(groupId, membership)
                : new JoinFailed(groupId, String.valueOf(failure.getMessage())));
  }

  private void askLeave(String groupId) {
    if (!memberships().leavesInFlight.add(groupId)) {
      return;
    }
    context.askWithStatus(
        Done.class,
        group(groupId),
        settings.askTimeout(),
        replyTo -> new GroupEntity.RemoveMember(sessionId, replyTo),
        (done, failure) -> new LeaveDone(groupId, done != null));
  }

  private void finishIfDone(SessionState state) {
    if (state.isEnded() && state.pendingLeaves().isEmpty() && !erasing) {
      erasing = true;
      // A system actor: it must outlive this entity, and user-level top actors cannot be created
      // from outside the guardian.
      ((ExtendedActorSystem) Adapter.toClassic(context.getSystem()))
          .systemActorOf(
              JournalEraser.props(persistenceId().id(), journalPluginId(), snapshotPluginId()),
              "erase-" + sessionId + "-" + java.util.UUID.randomUUID());
      passivate();
    }
  }

  private void passivateIfNeverStarted(SessionState state) {
    if (!state.isStarted()) {
      passivate();
    }
  }

  private EntityRef<GroupEntity.Command> group(String groupId) {
    return sharding.entityRefFor(GroupEntity.ENTITY_KEY, groupId);
  }

  /** Asks the shard to stop this entity (a no-op outside sharding, e.g. in entity tests). */
  private void passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }
}
