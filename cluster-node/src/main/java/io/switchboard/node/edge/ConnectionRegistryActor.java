package io.switchboard.node.edge;

import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.bridge.BridgeBinding;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.group.FanoutRegistryActor;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.CloseCode;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One per node: the parent of every {@link ConnectionActor} on this node. Spawns them for new
 * sockets, counts them, and tells them all to go elsewhere when the node leaves.
 */
public final class ConnectionRegistryActor
    extends AbstractBehavior<ConnectionRegistryActor.Command> {

  /** Everything the registry accepts. */
  public interface Command {}

  /**
   * Starts the connection actor of a new socket, for {@code identity} as proven at the upgrade
   * ({@link Identity#UNAUTHENTICATED} when the token is to come in the first frame); on a bridge
   * route with its {@code bridge} binding (null elsewhere).
   */
  public record Spawn(
      Transport transport,
      Identity identity,
      BridgeBinding bridge,
      ActorRef<ActorRef<Socket.Command>> replyTo)
      implements Command {
    /** A connection that is not on a bridge route. */
    public Spawn(
        Transport transport, Identity identity, ActorRef<ActorRef<Socket.Command>> replyTo) {
      this(transport, identity, null, replyTo);
    }
  }

  /** How many connections this node serves. */
  public record Count(ActorRef<Integer> replyTo) implements Command {}

  /** Closes every connection with SHUTTING_DOWN (clients resume on another node). */
  public enum CloseAll implements Command {
    INSTANCE
  }

  /** The registry of this node. */
  public static Behavior<Command> create(
      EdgeSettings settings,
      String nodeName,
      ActorRef<FanoutRegistryActor.Command> fanouts,
      Gatekeeper gate) {
    return Behaviors.setup(
        ctx -> new ConnectionRegistryActor(ctx, settings, nodeName, fanouts, gate));
  }

  private final EdgeSettings settings;
  private final String nodeName;
  private final ActorRef<FanoutRegistryActor.Command> fanouts;
  private final Gatekeeper gate;

  private ConnectionRegistryActor(
      ActorContext<Command> context,
      EdgeSettings settings,
      String nodeName,
      ActorRef<FanoutRegistryActor.Command> fanouts,
      Gatekeeper gate) {
    super(context);
    this.settings = settings;
    this.nodeName = nodeName;
    this.fanouts = fanouts;
    this.gate = gate;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Spawn.class, this::onSpawn)
        .onMessage(Count.class, this::onCount)
        .onMessageEquals(CloseAll.INSTANCE, this::onCloseAll)
        .build();
  }

  private Behavior<Command> onSpawn(Spawn cmd) {
    ActorRef<Socket.Command> connection =
        getContext()
            .spawnAnonymous(
                ConnectionActor.create(
                    cmd.transport(),
                    cmd.identity(),
                    gate,
                    settings,
                    nodeName,
                    fanouts,
                    cmd.bridge()));
    cmd.replyTo().tell(connection);
    return this;
  }

  private Behavior<Command> onCount(Count cmd) {
    cmd.replyTo().tell(getContext().getChildren().size());
    return this;
  }

  private Behavior<Command> onCloseAll() {
    Socket.Close close = new Socket.Close(CloseCode.SHUTTING_DOWN.code(), "node leaving");
    for (ActorRef<Void> child : getContext().getChildren()) {
      child.<Socket.Command>unsafeUpcast().tell(close);
    }
    return this;
  }
}
