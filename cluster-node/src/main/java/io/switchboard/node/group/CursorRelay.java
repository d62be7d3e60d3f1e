package io.switchboard.node.group;

import io.switchboard.node.config.SessionSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * One per node: gathers the acked cursors that this node's sessions forward to their groups and
 * sends each group one {@link GroupEntity.AdvanceCursors} per interval with the latest cursor of
 * every member that moved. A group with thousands of members thus hears from each node once per
 * interval instead of once per member: cursor traffic never competes with publications for the
 * group's attention (commands are stashed while a publication is being written).
 */
public final class CursorRelay implements Extension {

  /** A member session has everything of its group up to {@code offset}. */
  public record Advance(String groupId, String sessionId, long offset) {}

  private enum Flush {
    INSTANCE
  }

  private static final Id ID = new Id();

  private final ActorRef<Object> relay;

  private CursorRelay(ActorSystem<?> system) {
    Duration interval = SessionSettings.create(system.settings().config()).cursorForwardInterval();
    ClusterSharding sharding = ClusterSharding.get(system);
    this.relay = system.systemActorOf(behavior(sharding, interval), "cursor-relay", Props.empty());
  }

  /** The relay of this node. */
  public static CursorRelay get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Forwards a member's cursor to its group with the next batch (the highest one wins). */
  public void advance(String groupId, String sessionId, long offset) {
    relay.tell(new Advance(groupId, sessionId, offset));
  }

  private static Behavior<Object> behavior(ClusterSharding sharding, Duration interval) {
    return Behaviors.withTimers(
        timers -> {
          timers.startTimerWithFixedDelay(Flush.INSTANCE, interval);
          Map<String, Map<String, Long>> pending = new HashMap<>();
          return Behaviors.receive(Object.class)
              .onMessage(
                  Advance.class,
                  a -> {
                    pending
                        .computeIfAbsent(a.groupId(), g -> new HashMap<>())
                        .merge(a.sessionId(), a.offset(), Math::max);
                    return Behaviors.same();
                  })
              .onMessageEquals(
                  Flush.INSTANCE,
                  () -> {
                    pending.forEach(
                        (groupId, cursors) ->
                            sharding
                                .entityRefFor(GroupEntity.ENTITY_KEY, groupId)
                                .tell(new GroupEntity.AdvanceCursors(Map.copyOf(cursors))));
                    pending.clear();
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static final class Id extends ExtensionId<CursorRelay> {
    @Override
    public CursorRelay createExtension(ActorSystem<?> system) {
      return new CursorRelay(system);
    }
  }
}
