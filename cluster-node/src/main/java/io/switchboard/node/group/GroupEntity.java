package io.switchboard.node.group;

import com.google.protobuf.ByteString;
import io.switchboard.node.ClusterMessage;
import io.switchboard.node.JournaledEntity;
import io.switchboard.node.config.GroupSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * A group: its members and the log of its publications, each with a gap-free offset. Sharded by
 * group id, event-sourced. A publication is journaled once and then sent once to each node's
 * fan-out that subscribed ({@link GroupFanoutActor}); the log is trimmed below the lowest offset
 * every member has acked and is bounded by retention (count and age). Fan-out subscriptions and
 * member cursors are runtime state: fan-outs re-subscribe on a timer, sessions re-send cursors, and
 * until a member's cursor is known again nothing past the last trim is forgotten.
 */
public final class GroupEntity
    extends JournaledEntity<GroupEntity.Command, GroupEntity.Event, GroupState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Group");

  /** Everything a group accepts. */
  public sealed interface Command extends ClusterMessage {}

  /** Makes a session a member (idempotent); answers with the head the membership starts after. */
  public record AddMember(String sessionId, ActorRef<StatusReply<Membership>> replyTo)
      implements Command {}

  /** Removes a member (idempotent). */
  public record RemoveMember(String sessionId, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Journals a publication once and fans it out; a repeated idempotency key publishes nothing. */
  public record Publish(
      ByteString payload, String idempotencyKey, ActorRef<StatusReply<Receipt>> replyTo)
      implements Command {}

  /**
   * Members have everything up to these offsets, by session id: acks batched per node by the {@link
   * CursorRelay}. Not answered.
   */
  public record AdvanceCursors(Map<String, Long> cursors) implements Command {}

  /** Reads up to {@code maxCount} publications from {@code fromOffset} on. */
  public record Read(long fromOffset, int maxCount, ActorRef<Page> replyTo) implements Command {}

  /**
   * A node's fan-out wants every publication; answered with {@link GroupFanoutActor.Subscribed}.
   */
  public record Subscribe(ActorRef<GroupFanoutActor.Command> fanout) implements Command {}

  /** A node's fan-out no longer has sockets for this group. */
  public record Unsubscribe(ActorRef<GroupFanoutActor.Command> fanout) implements Command {}

  /** Asks for members, offsets and subscribers (presence, diagnostics, tests). */
  public record Inspect(ActorRef<Info> replyTo) implements Command {}

  /** Periodic trimming and idleness check. */
  enum Tick implements Command {
    INSTANCE
  }

  /** A subscribed fan-out stopped (its node left, or it had no sockets left). */
  record FanoutTerminated(ActorRef<GroupFanoutActor.Command> fanout) implements Command {}

  /** The answer to AddMember: live traffic for the member starts after {@code head}. */
  public record Membership(long head, long firstOffset) implements ClusterMessage {}

  /** The answer to Publish: the offset of the publication, and whether it was a retry. */
  public record Receipt(long offset, boolean duplicate) implements ClusterMessage {}

  /** The answer to Inspect. */
  public record Info(
      String groupId,
      Set<String> members,
      Map<String, Long> cursors,
      long head,
      long firstOffset,
      int retained,
      int subscribedNodes)
      implements ClusterMessage {}

  /** What a group journals. */
  public sealed interface Event {}

  public record MemberJoined(String sessionId) implements Event {}

  public record MemberLeft(String sessionId) implements Event {}

  public record Published(Publication publication, String idempotencyKey) implements Event {}

  public record LogTrimmed(long throughOffset) implements Event {}

  /** Registers the entity type with cluster sharding on this node. */
  public static void init(
      ActorSystem<?> system, GroupSettings settings, PersistenceSettings persistence) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                ENTITY_KEY,
                ctx -> create(ctx.getEntityId(), settings, persistence, ctx.getShard())));
  }

  /** The behavior of one group; {@code shard} (null outside sharding) stops it when idle. */
  public static Behavior<Command> create(
      String groupId,
      GroupSettings settings,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new GroupEntity(groupId, settings, persistence, shard, ctx, timers)));
  }

  private final String groupId;
  private final GroupSettings settings;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<Command> context;
  private final Set<ActorRef<GroupFanoutActor.Command>> fanouts = new HashSet<>();
  private final Map<String, Long> cursors = new HashMap<>();
  private final NodeMetrics metrics;
  private long lastActivityMs = System.currentTimeMillis();

  private GroupEntity(
      String groupId,
      GroupSettings settings,
      PersistenceSettings persistence,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorContext<Command> context,
      TimerScheduler<Command> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), groupId),
        persistence,
        settings.snapshotEvery(),
        new GroupEventCodec.Events(),
        new GroupEventCodec.Snapshots());
    this.groupId = groupId;
    this.settings = settings;
    this.shard = shard;
    this.context = context;
    this.metrics = NodeMetrics.get(context.getSystem());
    timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.trimInterval());
  }

  @Override
  public GroupState emptyState() {
    return GroupState.template();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, GroupState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(AddMember.class, this::onAddMember)
        .onCommand(RemoveMember.class, this::onRemoveMember)
        .onCommand(Publish.class, this::onPublish)
        .onCommand(AdvanceCursors.class, this::onAdvanceCursors)
        .onCommand(Read.class, this::onRead)
        .onCommand(Subscribe.class, this::onSubscribe)
        .onCommand(Unsubscribe.class, this::onUnsubscribe)
        .onCommand(FanoutTerminated.class, this::onFanoutTerminated)
        .onCommand(Inspect.class, this::onInspect)
        .onCommand(Tick.class, this::onTick)
        .build();
  }

  @Override
  public EventHandler<GroupState, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(MemberJoined.class, (state, e) -> state.writable().memberJoined(e.sessionId()))
        .onEvent(MemberLeft.class, (state, e) -> state.writable().memberLeft(e.sessionId()))
        .onEvent(Published.class, this::applyPublished)
        .onEvent(LogTrimmed.class, (state, e) -> state.writable().trimmed(e.throughOffset()))
        .build();
  }

  private GroupState applyPublished(GroupState state, Published e) {
    return state
        .writable()
        .published(
            e.publication(),
            e.idempotencyKey(),
            settings.retentionMaxCount(),
            settings.idempotencyMaxCount(),
            settings.idempotencyMaxAge().toMillis());
  }

  private ReplyEffect<Event, GroupState> onAddMember(GroupState state, AddMember cmd) {
    touch();
    if (state.isMember(cmd.sessionId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(membership(state)));
    }
    cursors.put(cmd.sessionId(), state.head());
    return Effect()
        .persist(new MemberJoined(cmd.sessionId()))
        .thenReply(cmd.replyTo(), s -> StatusReply.success(membership(s)));
  }

  private ReplyEffect<Event, GroupState> onRemoveMember(GroupState state, RemoveMember cmd) {
    touch();
    cursors.remove(cmd.sessionId());
    if (!state.isMember(cmd.sessionId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    return Effect()
        .persist(new MemberLeft(cmd.sessionId()))
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<Event, GroupState> onPublish(GroupState state, Publish cmd) {
    touch();
    long now = System.currentTimeMillis();
    var earlier =
        state.offsetOfKey(cmd.idempotencyKey(), now, settings.idempotencyMaxAge().toMillis());
    if (earlier.isPresent()) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new Receipt(earlier.get(), true)));
    }
    Publication publication = new Publication(state.head() + 1, cmd.payload(), now);
    long started = System.nanoTime();
    return Effect()
        .persist(new Published(publication, cmd.idempotencyKey()))
        .thenRun(
            s -> {
              metrics.journalWrite.recordNanos(System.nanoTime() - started);
              metrics.publications.increment();
              fanOut(publication);
            })
        .thenReply(
            cmd.replyTo(), s -> StatusReply.success(new Receipt(publication.offset(), false)));
  }

  private void fanOut(Publication publication) {
    GroupFanoutActor.Deliver deliver = new GroupFanoutActor.Deliver(groupId, publication);
    for (ActorRef<GroupFanoutActor.Command> fanout : fanouts) {
      fanout.tell(deliver);
    }
  }

  private ReplyEffect<Event, GroupState> onAdvanceCursors(GroupState state, AdvanceCursors cmd) {
    cmd.cursors()
        .forEach(
            (sessionId, offset) -> {
              if (state.isMember(sessionId)) {
                cursors.merge(sessionId, Math.min(offset, state.head()), Math::max);
              }
            });
    return Effect().noReply();
  }

  private ReplyEffect<Event, GroupState> onRead(GroupState state, Read cmd) {
    touch();
    List<Publication> items = state.log().read(cmd.fromOffset(), cmd.maxCount());
    return Effect()
        .reply(cmd.replyTo(), new Page(groupId, items, state.firstOffset(), state.head()));
  }

  private ReplyEffect<Event, GroupState> onSubscribe(GroupState state, Subscribe cmd) {
    touch();
    if (fanouts.add(cmd.fanout())) {
      context.watchWith(cmd.fanout(), new FanoutTerminated(cmd.fanout()));
      context.getLog().debug("Group [{}] fan-out [{}] subscribed", groupId, cmd.fanout().path());
    }
    cmd.fanout().tell(new GroupFanoutActor.Subscribed(groupId, state.head()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, GroupState> onUnsubscribe(GroupState state, Unsubscribe cmd) {
    if (fanouts.remove(cmd.fanout())) {
      context.unwatch(cmd.fanout());
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, GroupState> onFanoutTerminated(
      GroupState state, FanoutTerminated cmd) {
    fanouts.remove(cmd.fanout());
    return Effect().noReply();
  }

  private ReplyEffect<Event, GroupState> onInspect(GroupState state, Inspect cmd) {
    return Effect()
        .reply(
            cmd.replyTo(),
            new Info(
                groupId,
                Set.copyOf(state.members()),
                Map.copyOf(cursors),
                state.head(),
                state.firstOffset(),
                state.retainedCount(),
                fanouts.size()));
  }

  private ReplyEffect<Event, GroupState> onTick(GroupState state, Tick tick) {
    long now = System.currentTimeMillis();
    long target = trimTarget(state, now);
    if (target > state.trimmedThrough()) {
      return Effect().persist(new LogTrimmed(target)).thenNoReply();
    }
    if (fanouts.isEmpty() && now - lastActivityMs > settings.idleTimeout().toMillis()) {
      context.getLog().debug("Group [{}] idle, passivating", groupId);
      passivate();
    }
    return Effect().noReply();
  }

  /**
   * Everything at or below the returned offset may be forgotten: what every member acked (a member
   * whose cursor is unknown since recovery holds the log at the last trim), or what fell out of the
   * age window.
   */
  private long trimTarget(GroupState state, long nowMs) {
    long acked = state.head();
    for (String member : state.members()) {
      acked = Math.min(acked, cursors.getOrDefault(member, state.trimmedThrough()));
    }
    long aged = state.log().lastOffsetBefore(nowMs - settings.retentionMaxAge().toMillis());
    return Math.min(state.head(), Math.max(acked, aged));
  }

  private static Membership membership(GroupState state) {
    return new Membership(state.head(), state.firstOffset());
  }

  private void touch() {
    lastActivityMs = System.currentTimeMillis();
  }

  /** Asks the shard to stop this entity (a no-op outside sharding, e.g. in entity tests). */
  private void passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
  }
}
