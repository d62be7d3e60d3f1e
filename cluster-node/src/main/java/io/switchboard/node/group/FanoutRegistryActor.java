package io.switchboard.node.group;

import io.switchboard.node.stream.LiveLane;
import io.switchboard.node.stream.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * One per node: finds or starts the {@link GroupFanoutActor} of a group when a local socket
 * registers, and stops it when its last socket left (unless a registration is still on its way).
 */
public final class FanoutRegistryActor extends AbstractBehavior<FanoutRegistryActor.Command> {

  /** Everything the registry accepts. */
  public interface Command {}

  /** A local socket wants the live traffic of a group. */
  public record Register(String groupId, ActorRef<Socket.Command> socket, LiveLane lane)
      implements Command {}

  /** A local socket no longer wants the live traffic of a group. */
  public record Unregister(String groupId, ActorRef<Socket.Command> socket) implements Command {}

  /** A fan-out has no sockets left after having received {@code addsReceived} registrations. */
  record FanoutIdle(String groupId, long addsReceived) implements Command {}

  /** Number of groups with local sockets (diagnostics, metrics). */
  public record CountFanouts(ActorRef<Integer> replyTo) implements Command {}

  private record Child(ActorRef<GroupFanoutActor.Command> ref, long addsSent) {}

  /** The registry of this node. */
  public static Behavior<Command> create(Duration refreshInterval) {
    return Behaviors.setup(ctx -> new FanoutRegistryActor(ctx, refreshInterval));
  }

  private final ClusterSharding sharding;
  private final Duration refreshInterval;
  private final Map<String, Child> children = new HashMap<>();

  private FanoutRegistryActor(ActorContext<Command> context, Duration refreshInterval) {
    super(context);
    this.sharding = ClusterSharding.get(context.getSystem());
    this.refreshInterval = refreshInterval;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(FanoutIdle.class, this::onFanoutIdle)
        .onMessage(CountFanouts.class, this::onCountFanouts)
        .build();
  }

  private Behavior<Command> onRegister(Register cmd) {
    Child child = children.get(cmd.groupId());
    if (child == null) {
      ActorRef<GroupFanoutActor.Command> ref =
          getContext()
              .spawnAnonymous(
                  GroupFanoutActor.create(
                      cmd.groupId(),
                      sharding.entityRefFor(GroupEntity.ENTITY_KEY, cmd.groupId()),
                      getContext().getSelf(),
                      refreshInterval));
      child = new Child(ref, 0);
    }
    child = new Child(child.ref(), child.addsSent() + 1);
    children.put(cmd.groupId(), child);
    child.ref().tell(new GroupFanoutActor.AddSocket(cmd.socket(), cmd.lane()));
    return this;
  }

  private Behavior<Command> onUnregister(Unregister cmd) {
    Child child = children.get(cmd.groupId());
    if (child != null) {
      child.ref().tell(new GroupFanoutActor.RemoveSocket(cmd.socket()));
    }
    return this;
  }

  private Behavior<Command> onFanoutIdle(FanoutIdle cmd) {
    Child child = children.get(cmd.groupId());
    if (child != null && child.addsSent() == cmd.addsReceived()) {
      children.remove(cmd.groupId());
      getContext().stop(child.ref());
    }
    return this;
  }

  private Behavior<Command> onCountFanouts(CountFanouts cmd) {
    cmd.replyTo().tell(children.size());
    return this;
  }
}
