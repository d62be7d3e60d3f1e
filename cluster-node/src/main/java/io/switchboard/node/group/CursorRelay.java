package io.switchboard.node.group;

import io.switchboard.node.config.SessionSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * One per node: gathers the acked cursors that this node's sessions forward to their groups and
 * sends each group one {@link GroupEntity.AdvanceCursors} per interval with the latest cursor of
 * every member that moved. A group with thousands of members thus hears from each node once per
 * interval instead of once per member: cursor traffic never competes with publications for the
 * group's attention (commands are stashed while a publication is being written).
 *
 * <p>An advance is no message: connections record it in a concurrent table, from their own threads,
 * and a timer sends and clears the table per group. Each group's cursors are merged and taken under
 * the table's lock of that group, so no advance falls between a send and the clear.
 */
public final class CursorRelay implements Extension {

  private static final Id ID = new Id();

  private final ClusterSharding sharding;
  // Group -> (session -> highest acked offset) not yet sent. A group's map is only read or changed
  // inside this table's compute/remove of that group.
  private final ConcurrentHashMap<String, Map<String, Long>> pending = new ConcurrentHashMap<>();

  private CursorRelay(ActorSystem<?> system) {
    Duration interval = SessionSettings.create(system.settings().config()).cursorForwardInterval();
    this.sharding = ClusterSharding.get(system);
    system
        .scheduler()
        .scheduleWithFixedDelay(interval, interval, this::flush, system.executionContext());
  }

  /** The relay of this node. */
  public static CursorRelay get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Forwards a member's cursor to its group with the next batch (the highest one wins). */
  public void advance(String groupId, String sessionId, long offset) {
    pending.compute(
        groupId,
        (group, cursors) -> {
          Map<String, Long> map = cursors != null ? cursors : new HashMap<>();
          map.merge(sessionId, offset, Math::max);
          return map;
        });
  }

  /** Sends every group its batch and forgets it; advances from now on start the next batch. */
  private void flush() {
    for (String groupId : pending.keySet()) {
      Map<String, Long> cursors = pending.remove(groupId);
      if (cursors != null) {
        sharding
            .entityRefFor(GroupEntity.ENTITY_KEY, groupId)
            .tell(new GroupEntity.AdvanceCursors(Map.copyOf(cursors)));
      }
    }
  }

  private static final class Id extends ExtensionId<CursorRelay> {
    @Override
    public CursorRelay createExtension(ActorSystem<?> system) {
      return new CursorRelay(system);
    }
  }
}
