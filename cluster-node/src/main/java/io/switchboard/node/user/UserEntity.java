package io.switchboard.node.user;

import io.switchboard.node.ClusterMessage;
import io.switchboard.node.JournaledEntity;
import io.switchboard.node.config.AuthSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.config.UserSettings;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The current sessions of one user. Sharded by user id, event-sourced (an index that forgot a
 * session after a rebalance would make an acknowledged Send miss it). Sessions add themselves when
 * they start (and again when they recover) and remove themselves when they end; both are
 * idempotent. A removal lost with a crashed node leaves a stale id behind, which the API drops when
 * the session answers that it does not exist. Stops itself when it indexes no session.
 *
 * <p>The one user every connection shares in anonymous auth mode is not indexed (its entity answers
 * with no session and journals nothing): it would otherwise hold every session of the cluster.
 */
public final class UserEntity
    extends JournaledEntity<UserEntity.Command, UserEntity.Event, UserState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "User");

  /** Everything a user entity accepts. */
  public sealed interface Command extends ClusterMessage {}

  /** A session of this user started or recovered (idempotent, not answered). */
  public record AddSession(String sessionId) implements Command {}

  /** A session of this user ended or was found gone (idempotent, not answered). */
  public record RemoveSession(String sessionId) implements Command {}

  /** Asks for the user's current sessions. */
  public record GetSessions(ActorRef<Sessions> replyTo) implements Command {}

  /** The answer to GetSessions, oldest session first. */
  public record Sessions(String userId, List<String> sessionIds) implements ClusterMessage {}

  /**
   * Nothing reached the entity for the idle timeout: it leaves memory (the shard stops it) and
   * recovers from its journal on the next command. Sent by the entity's receive timeout only.
   */
  enum Idle implements Command {
    INSTANCE
  }

  /** What a user entity journals. */
  public sealed interface Event {}

  public record SessionAdded(String sessionId) implements Event {}

  public record SessionRemoved(String sessionId) implements Event {}

  /** Whether {@code userId} names a user (sessions without one are not indexed). */
  public static boolean isIndexed(String userId) {
    return userId != null && !userId.isBlank();
  }

  /** The user every connection shares in anonymous auth mode, if the node runs in that mode. */
  public static Optional<String> sharedUserId(AuthSettings auth) {
    return auth.mode() == AuthSettings.Mode.ANONYMOUS
        ? Optional.of(auth.anonymousUserId())
        : Optional.empty();
  }

  /** Tells the user's entity that a session started; a no-op for anonymous users. */
  public static void sessionStarted(ClusterSharding sharding, String userId, String sessionId) {
    if (isIndexed(userId)) {
      sharding.entityRefFor(ENTITY_KEY, userId).tell(new AddSession(sessionId));
    }
  }

  /** Tells the user's entity that a session ended; a no-op for anonymous users. */
  public static void sessionEnded(ClusterSharding sharding, String userId, String sessionId) {
    if (isIndexed(userId)) {
      sharding.entityRefFor(ENTITY_KEY, userId).tell(new RemoveSession(sessionId));
    }
  }

  /** Registers the entity type with cluster sharding on this node. */
  public static void init(ActorSystem<?> system, PersistenceSettings persistence) {
    Optional<String> shared = sharedUserId(AuthSettings.create(system.settings().config()));
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_KEY,
                ctx ->
                    shared.isPresent() && shared.get().equals(ctx.getEntityId())
                        ? unindexed(ctx.getEntityId())
                        : create(
                            ctx.getEntityId(),
                            persistence,
                            ctx.getShard(),
                            UserSettings.create(system.settings().config()).idleTimeout())));
  }

  /** The shared anonymous user: knows no session, journals nothing. */
  static Behavior<Command> unindexed(String userId) {
    return Behaviors.receive(Command.class)
        .onMessage(
            GetSessions.class,
            get -> {
              get.replyTo().tell(new Sessions(userId, List.of()));
              return Behaviors.same();
            })
        .onAnyMessage(other -> Behaviors.same())
        .build();
  }

  /**
   * The behavior of one user; {@code shard} (null outside sharding) stops it when it indexes no
   * session, or when nothing reached it for {@code idleTimeout}: the index is only read when a
   * backend sends to the user, so an entity per connected user need not sit in memory.
   */
  public static Behavior<Command> create(
      String userId,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Duration idleTimeout) {
    return Behaviors.setup(
        ctx -> {
          if (shard != null) {
            ctx.setReceiveTimeout(idleTimeout, Idle.INSTANCE);
          }
          return new UserEntity(userId, persistence, shard, ctx);
        });
  }

  private final String userId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<Command> context;

  private UserEntity(
      String userId,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorContext<Command> context) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), userId),
        persistence,
        100,
        new UserEventCodec.Events(),
        new UserEventCodec.Snapshots());
    this.userId = userId;
    this.shard = shard;
    this.context = context;
  }

  @Override
  public UserState emptyState() {
    return UserState.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, UserState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(AddSession.class, this::onAddSession)
        .onCommand(RemoveSession.class, this::onRemoveSession)
        .onCommand(GetSessions.class, this::onGetSessions)
        .onCommand(Idle.class, this::onIdle)
        .build();
  }

  @Override
  public EventHandler<UserState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(SessionAdded.class, (state, e) -> state.withSession(e.sessionId()))
        .onEvent(SessionRemoved.class, (state, e) -> state.withoutSession(e.sessionId()))
        .build();
  }

  private ReplyEffect<Event, UserState> onAddSession(UserState state, AddSession cmd) {
    if (state.has(cmd.sessionId())) {
      return Effect().noReply();
    }
    return Effect().persist(new SessionAdded(cmd.sessionId())).thenNoReply();
  }

  private ReplyEffect<Event, UserState> onRemoveSession(UserState state, RemoveSession cmd) {
    if (!state.has(cmd.sessionId())) {
      passivateIfEmpty(state);
      return Effect().noReply();
    }
    return Effect()
        .persist(new SessionRemoved(cmd.sessionId()))
        .thenRun(this::passivateIfEmpty)
        .thenNoReply();
  }

  private ReplyEffect<Event, UserState> onGetSessions(UserState state, GetSessions cmd) {
    passivateIfEmpty(state);
    return Effect().reply(cmd.replyTo(), new Sessions(userId, state.sessionIds()));
  }

  private ReplyEffect<Event, UserState> onIdle(UserState state, Idle idle) {
    context.getLog().debug("User [{}] idle, passivating", userId);
    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    return Effect().noReply();
  }

  private void passivateIfEmpty(UserState state) {
    if (state.sessionIds().isEmpty() && shard != null) {
      context.getLog().debug("User [{}] has no session, passivating", userId);
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }
}
