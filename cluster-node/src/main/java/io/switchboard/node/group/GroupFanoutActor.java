package io.switchboard.node.group;

import io.switchboard.node.ClusterMessage;
import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.LiveLane;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * This node's fan-out of one group: subscribed once to the group entity, it receives each
 * publication once and hands the same {@link EncodedOnce} to every local socket of the group —
 * through the socket's {@link LiveLane} when it is in step (written out on this thread, no message
 * per socket), else as {@link Socket.Fanned} to its connection actor. It re-subscribes on a timer
 * (an entity that moved or restarted learns of it again) and tells its sockets the group's head
 * whenever it may have missed something, so they repair from the log: correctness never rests on
 * this live path.
 */
public final class GroupFanoutActor extends AbstractBehavior<GroupFanoutActor.Command> {

  /** Everything a fan-out accepts. */
  public interface Command {}

  /** A publication of the group, sent by the group entity. */
  public record Deliver(String groupId, Publication publication)
      implements Command, ClusterMessage {}

  /** The group entity registered this fan-out; its head was {@code head} at that moment. */
  public record Subscribed(String groupId, long head) implements Command, ClusterMessage {}

  /** A local socket joins the group's fan-out. */
  record AddSocket(ActorRef<Socket.Command> socket, LiveLane lane) implements Command {}

  /** A local socket leaves the group's fan-out. */
  record RemoveSocket(ActorRef<Socket.Command> socket) implements Command {}

  private enum Refresh implements Command {
    INSTANCE
  }

  private record Member(ActorRef<Socket.Command> socket, LiveLane lane) {}

  private record SocketTerminated(ActorRef<Socket.Command> socket) implements Command {}

  static Behavior<Command> create(
      String groupId,
      EntityRef<GroupEntity.Command> group,
      ActorRef<FanoutRegistryActor.Command> registry,
      Duration refreshInterval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Refresh.INSTANCE, refreshInterval);
                  return new GroupFanoutActor(ctx, groupId, group, registry);
                }));
  }

  private final String groupId;
  private final EntityRef<GroupEntity.Command> group;
  private final ActorRef<FanoutRegistryActor.Command> registry;
  private final Map<ActorRef<Socket.Command>, LiveLane> sockets = new HashMap<>();

  /** The sockets by offering thread, rebuilt at the first delivery after a change (immutable). */
  private Map<Executor, Member[]> byThread;

  private long addsReceived;
  private long lastForwarded = -1;

  private GroupFanoutActor(
      ActorContext<Command> context,
      String groupId,
      EntityRef<GroupEntity.Command> group,
      ActorRef<FanoutRegistryActor.Command> registry) {
    super(context);
    this.groupId = groupId;
    this.group = group;
    this.registry = registry;
    group.tell(new GroupEntity.Subscribe(context.getSelf()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Subscribed.class, this::onSubscribed)
        .onMessage(AddSocket.class, this::onAddSocket)
        .onMessage(RemoveSocket.class, cmd -> removeSocket(cmd.socket()))
        .onMessage(SocketTerminated.class, cmd -> removeSocket(cmd.socket()))
        .onMessageEquals(Refresh.INSTANCE, this::onRefresh)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onDeliver(Deliver cmd) {
    Publication publication = cmd.publication();
    if (publication.offset() <= lastForwarded) {
      return this;
    }
    lastForwarded = publication.offset();
    if (byThread == null) {
      byThread = partition();
    }
    EncodedOnce shared = new EncodedOnce();
    for (Map.Entry<Executor, Member[]> group : byThread.entrySet()) {
      Member[] members = group.getValue();
      Executor thread = group.getKey();
      if (thread == null) {
        offerAll(members, publication, shared);
      } else {
        try {
          thread.execute(() -> offerAll(members, publication, shared));
        } catch (RejectedExecutionException stopping) {
          offerAll(members, publication, shared);
        }
      }
    }
    return this;
  }

  /**
   * Offers {@code publication} to each socket's live lane; a socket that declines gets it through
   * its connection actor. Runs on the sockets' I/O thread, or here for sockets without one.
   */
  private void offerAll(Member[] members, Publication publication, EncodedOnce shared) {
    Socket.Fanned fanned = null;
    for (Member member : members) {
      if (!member.lane().offer(publication, shared)) {
        if (fanned == null) {
          fanned = new Socket.Fanned(groupId, publication, shared);
        }
        member.socket().tell(fanned);
      }
    }
  }

  /** The sockets grouped by the thread their offers are made on (null: this actor's). */
  private Map<Executor, Member[]> partition() {
    Map<Executor, List<Member>> lists = new HashMap<>();
    for (Map.Entry<ActorRef<Socket.Command>, LiveLane> socket : sockets.entrySet()) {
      lists
          .computeIfAbsent(socket.getValue().executor(), thread -> new ArrayList<>())
          .add(new Member(socket.getKey(), socket.getValue()));
    }
    Map<Executor, Member[]> arrays = new HashMap<>();
    lists.forEach((thread, list) -> arrays.put(thread, list.toArray(new Member[0])));
    return arrays;
  }

  private Behavior<Command> onSubscribed(Subscribed cmd) {
    if (cmd.head() > lastForwarded) {
      // Either the first subscription or something was not fanned out to this node (entity moved,
      // message lost): sockets compare with what they have and read the rest from the log.
      lastForwarded = cmd.head();
      tellAll(new Socket.HeadMoved(groupId, cmd.head()));
    }
    return this;
  }

  private Behavior<Command> onAddSocket(AddSocket cmd) {
    addsReceived++;
    byThread = null;
    if (sockets.put(cmd.socket(), cmd.lane()) == null) {
      getContext().watchWith(cmd.socket(), new SocketTerminated(cmd.socket()));
    }
    if (lastForwarded >= 0) {
      cmd.socket().tell(new Socket.HeadMoved(groupId, lastForwarded));
    }
    return this;
  }

  private Behavior<Command> removeSocket(ActorRef<Socket.Command> socket) {
    if (sockets.remove(socket) != null) {
      byThread = null;
      getContext().unwatch(socket);
    }
    if (sockets.isEmpty()) {
      registry.tell(new FanoutRegistryActor.FanoutIdle(groupId, addsReceived));
    }
    return this;
  }

  private Behavior<Command> onRefresh() {
    group.tell(new GroupEntity.Subscribe(getContext().getSelf()));
    return this;
  }

  private Behavior<Command> onPostStop() {
    group.tell(new GroupEntity.Unsubscribe(getContext().getSelf()));
    return this;
  }

  private void tellAll(Socket.Command message) {
    for (ActorRef<Socket.Command> socket : sockets.keySet()) {
      socket.tell(message);
    }
  }
}
