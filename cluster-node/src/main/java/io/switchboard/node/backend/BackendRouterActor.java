package io.switchboard.node.backend;

import io.switchboard.node.ClusterMessage;
import io.switchboard.node.config.BackendSettings;
import io.switchboard.protocol.v1.WorkerFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One per node: the backend registry as this node sees it, and the parent of this node's workers.
 * Every worker of the cluster tells every router what it serves (routers find each other through
 * the receptionist); a router watches the workers it knows and forgets those that stop or whose
 * node leaves. It routes this node's browser requests, messages and lifecycle events to a worker
 * (round-robin over every worker of the best route, cluster-wide) and answers NO_ROUTE when there
 * is none. It also counts this node's connected sessions for the API's Info.
 */
public final class BackendRouterActor extends AbstractBehavior<BackendRouterActor.Command> {

  /** Every node's router registers under this key. */
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "switchboard-backend-router");

  /** Everything a router accepts. */
  public interface Command {}

  /** Routes a browser request; exactly one {@link Backend.Answer} goes to {@code replyTo}. */
  public record RouteRequest(
      Backend.ClientRequest request, long timeoutMs, ActorRef<Backend.Answer> replyTo)
      implements Command {}

  /** Routes a browser's one-way message; {@code refusedTo} hears only when it went nowhere. */
  public record RouteMessage(
      long frameId, Backend.ClientMessage message, ActorRef<Backend.Refusal> refusedTo)
      implements Command {}

  /** A connection of this node connected, disconnected, joined or left. */
  public record RouteEvent(Backend.Event event) implements Command {}

  /** Starts the worker actor of a new Serve stream on this node. */
  public record SpawnWorker(
      Source<WorkerFrame, NotUsed> inbound,
      WorkerOutlet outlet,
      CompletionStage<Done> outboundDone,
      String peer)
      implements Command {}

  /** A worker (of any node) serves these routes and wants these events; replaces earlier ones. */
  public record Register(
      ActorRef<WorkerActor.Command> worker,
      String workerId,
      List<Backend.Route> routes,
      Set<Backend.EventKind> events)
      implements Command, ClusterMessage {}

  /** A worker stops: route nothing more to it (routers also watch it, for crashed nodes). */
  public record Deregister(ActorRef<WorkerActor.Command> worker)
      implements Command, ClusterMessage {}

  /** Asks this node's counts (the API's Info gathers them from every node). */
  public record GetNodeStats(ActorRef<NodeStats> replyTo) implements Command, ClusterMessage {}

  /** The answer to GetNodeStats. */
  public record NodeStats(String address, int connections, int workers) implements ClusterMessage {}

  /** Asks for the routes this router knows, cluster-wide. */
  public record GetRoutes(ActorRef<Routes> replyTo) implements Command {}

  /** The answer to GetRoutes. */
  public record Routes(List<Backend.RouteCount> routes, int workers) {}

  private record WorkerTerminated(ActorRef<WorkerActor.Command> worker) implements Command {}

  /** The router of a node named {@code nodeName} (host:port of its remoting address). */
  public static Behavior<Command> create(
      String address, String nodeName, BackendSettings settings) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
          return new BackendRouterActor(ctx, address, nodeName, settings);
        });
  }

  private final String address;
  private final String nodeName;
  private final BackendSettings settings;
  private final RouteTable<ActorRef<WorkerActor.Command>> table = new RouteTable<>();
  private long spawned;
  private int connections;

  private BackendRouterActor(
      ActorContext<Command> context, String address, String nodeName, BackendSettings settings) {
    super(context);
    this.address = address;
    this.nodeName = nodeName;
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RouteRequest.class, this::onRouteRequest)
        .onMessage(RouteMessage.class, this::onRouteMessage)
        .onMessage(RouteEvent.class, this::onRouteEvent)
        .onMessage(SpawnWorker.class, this::onSpawnWorker)
        .onMessage(Register.class, this::onRegister)
        .onMessage(WorkerTerminated.class, m -> forget(m.worker()))
        .onMessage(Deregister.class, m -> forget(m.worker()))
        .onMessage(GetNodeStats.class, this::onGetNodeStats)
        .onMessage(GetRoutes.class, this::onGetRoutes)
        .build();
  }

  private Behavior<Command> onRouteRequest(RouteRequest route) {
    Backend.ClientRequest request = route.request();
    var match = table.forRequest(request.method(), request.path());
    if (match.isEmpty()) {
      route
          .replyTo()
          .tell(
              Backend.Answer.failed(
                  Backend.Outcome.NO_ROUTE,
                  "no backend serves " + request.method() + " " + request.path()));
    } else {
      var m = match.get();
      m.worker()
          .tell(
              new WorkerActor.Handle(
                  request, m.route().path(), m.params(), route.timeoutMs(), route.replyTo()));
    }
    return this;
  }

  private Behavior<Command> onRouteMessage(RouteMessage route) {
    Backend.ClientMessage message = route.message();
    var match = table.forMessage(message.path());
    if (match.isEmpty()) {
      route
          .refusedTo()
          .tell(new Backend.Refusal(route.frameId(), "no backend serves " + message.path()));
    } else {
      var m = match.get();
      m.worker().tell(new WorkerActor.Deliver(message, m.route().path(), m.params()));
    }
    return this;
  }

  private Behavior<Command> onRouteEvent(RouteEvent route) {
    Backend.Event event = route.event();
    switch (event.kind()) {
      case CONNECTED -> connections++;
      case DISCONNECTED -> connections = Math.max(0, connections - 1);
      default -> {}
    }
    table.forEvent(event.kind()).ifPresent(w -> w.tell(new WorkerActor.Notify(event)));
    return this;
  }

  private Behavior<Command> onSpawnWorker(SpawnWorker spawn) {
    String name = "worker-" + (++spawned);
    getContext()
        .spawn(
            WorkerActor.create(
                nodeName + "/" + name + " (" + spawn.peer() + ")",
                nodeName,
                spawn.inbound(),
                spawn.outlet(),
                spawn.outboundDone(),
                getContext().getSelf(),
                settings),
            name);
    return this;
  }

  private Behavior<Command> onRegister(Register register) {
    ActorRef<WorkerActor.Command> worker = register.worker();
    List<RouteTemplate> routes = new ArrayList<>();
    for (Backend.Route route : register.routes()) {
      routes.add(RouteTemplate.parse(route.method(), route.path()));
    }
    if (!table.contains(worker)) {
      getContext().watchWith(worker, new WorkerTerminated(worker));
    }
    table.put(worker, new RouteTable.Registration(register.workerId(), routes, register.events()));
    getContext()
        .getLog()
        .debug("Worker [{}] registered with {} routes", register.workerId(), routes.size());
    return this;
  }

  private Behavior<Command> forget(ActorRef<WorkerActor.Command> worker) {
    if (table.remove(worker)) {
      getContext().unwatch(worker);
      getContext().getLog().debug("Worker [{}] forgotten", worker.path());
    }
    return this;
  }

  private Behavior<Command> onGetNodeStats(GetNodeStats get) {
    get.replyTo().tell(new NodeStats(address, connections, getContext().getChildren().size()));
    return this;
  }

  private Behavior<Command> onGetRoutes(GetRoutes get) {
    get.replyTo().tell(new Routes(table.routeCounts(), table.size()));
    return this;
  }
}
