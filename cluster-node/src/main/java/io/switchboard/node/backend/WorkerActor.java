package io.switchboard.node.backend;

import io.switchboard.node.ClusterMessage;
import io.switchboard.node.config.BackendSettings;
import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.LifecycleEvent;
import io.switchboard.protocol.v1.Register;
import io.switchboard.protocol.v1.RoutePattern;
import io.switchboard.protocol.v1.WorkerFrame;
import io.switchboard.protocol.v1.WorkerReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * One backend worker's Serve stream on this node. Reads the worker's frames with backpressure,
 * tells every node's router what the worker serves (and tells routers of nodes that join later),
 * numbers the requests routed to it, and passes the worker's replies back to whoever asked. When
 * the stream ends, every request the worker had not answered gets BACKEND_GONE at once, and the
 * routers forget the worker (they watch it). Node-local, never persisted.
 */
public final class WorkerActor extends AbstractBehavior<WorkerActor.Command> {

  /** Everything a worker actor accepts. */
  public interface Command {}

  /** A browser request for this worker, from any node's router. */
  public record Handle(
      Backend.ClientRequest request,
      String route,
      Map<String, String> params,
      long timeoutMs,
      ActorRef<Backend.Answer> replyTo)
      implements Command, ClusterMessage {}

  /** A browser's one-way message for this worker. */
  public record Deliver(Backend.ClientMessage message, String route, Map<String, String> params)
      implements Command, ClusterMessage {}

  /** A lifecycle event for this worker. */
  public record Notify(Backend.Event event) implements Command, ClusterMessage {}

  record InboundFrame(ActorRef<StreamAck> ackTo, WorkerFrame frame) implements Command {}

  record InboundStarted(ActorRef<StreamAck> ackTo) implements Command {}

  /** What the inbound stream waits for before it sends the next frame. */
  enum StreamAck {
    INSTANCE
  }

  record InboundEnded(Throwable failure) implements Command {}

  enum OutboundEnded implements Command {
    INSTANCE
  }

  record RoutersChanged(Set<ActorRef<BackendRouterActor.Command>> routers) implements Command {}

  enum Sweep implements Command {
    INSTANCE
  }

  private record Pending(ActorRef<Backend.Answer> replyTo, long deadlineNanos) {}

  /** The actor of a Serve stream; it consumes {@code inbound} and writes to {@code outlet}. */
  static Behavior<Command> create(
      String workerId,
      String nodeName,
      Source<WorkerFrame, NotUsed> inbound,
      WorkerOutlet outlet,
      CompletionStage<Done> outboundDone,
      ActorRef<BackendRouterActor.Command> localRouter,
      BackendSettings settings) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ActorRef<WorkerActor.Command> self = ctx.getSelf();
                  inbound.runWith(
                      ActorSink.actorRefWithBackpressure(
                          self,
                          InboundFrame::new,
                          InboundStarted::new,
                          StreamAck.INSTANCE,
                          new InboundEnded(null),
                          InboundEnded::new),
                      Materializer.matFromSystem(ctx.getSystem()));
                  ctx.pipeToSelf(outboundDone, (done, failure) -> OutboundEnded.INSTANCE);
                  ctx.getSystem()
                      .receptionist()
                      .tell(
                          Receptionist.subscribe(
                              BackendRouterActor.SERVICE_KEY,
                              ctx.messageAdapter(
                                  Receptionist.Listing.class,
                                  listing ->
                                      new RoutersChanged(
                                          listing.getServiceInstances(
                                              BackendRouterActor.SERVICE_KEY)))));
                  return new WorkerActor(
                      ctx, timers, workerId, nodeName, outlet, localRouter, settings);
                }));
  }

  private final TimerScheduler<Command> timers;
  private final String workerId;
  private final String nodeName;
  private final WorkerOutlet outlet;
  private final ActorRef<BackendRouterActor.Command> localRouter;
  private final BackendSettings settings;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Set<ActorRef<BackendRouterActor.Command>> routers = new HashSet<>();
  private final Set<ActorRef<BackendRouterActor.Command>> told = new HashSet<>();
  private BackendRouterActor.Register registration;
  private long nextRequestId;

  private WorkerActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String workerId,
      String nodeName,
      WorkerOutlet outlet,
      ActorRef<BackendRouterActor.Command> localRouter,
      BackendSettings settings) {
    super(context);
    this.timers = timers;
    this.workerId = workerId;
    this.nodeName = nodeName;
    this.outlet = outlet;
    this.localRouter = localRouter;
    this.settings = settings;
    routers.add(localRouter);
    context.getLog().info("Worker [{}] connected", workerId);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(InboundStarted.class, m -> ack(m.ackTo()))
        .onMessage(InboundFrame.class, this::onInboundFrame)
        .onMessage(InboundEnded.class, this::onInboundEnded)
        .onMessage(OutboundEnded.class, m -> Behaviors.stopped())
        .onMessage(Handle.class, this::onHandle)
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Notify.class, this::onNotify)
        .onMessage(RoutersChanged.class, this::onRoutersChanged)
        .onMessage(Sweep.class, m -> onSweep())
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> ack(ActorRef<StreamAck> ackTo) {
    ackTo.tell(StreamAck.INSTANCE);
    return this;
  }

  private Behavior<Command> onInboundFrame(InboundFrame in) {
    WorkerFrame frame = in.frame();
    switch (frame.getKindCase()) {
      case REGISTER -> {
        if (!onRegister(frame.getRegister())) {
          return Behaviors.stopped();
        }
      }
      case REPLY -> onReply(frame.getReply());
      default -> {
        outlet.fail(new IllegalArgumentException("unknown WorkerFrame kind"));
        return Behaviors.stopped();
      }
    }
    return ack(in.ackTo());
  }

  private Behavior<Command> onInboundEnded(InboundEnded ended) {
    if (ended.failure() != null) {
      getContext().getLog().debug("Worker [{}] stream failed: {}", workerId, ended.failure());
    }
    return Behaviors.stopped();
  }

  private boolean onRegister(Register register) {
    if (register.getRoutesCount() > settings.maxRoutesPerWorker()) {
      outlet.fail(
          new IllegalArgumentException(
              "more than " + settings.maxRoutesPerWorker() + " routes in Register"));
      return false;
    }
    List<Backend.Route> routes = new ArrayList<>();
    try {
      for (RoutePattern pattern : register.getRoutesList()) {
        RouteTemplate template = RouteTemplate.parse(pattern.getMethod(), pattern.getPath());
        routes.add(new Backend.Route(template.method(), template.path()));
      }
    } catch (IllegalArgumentException invalid) {
      outlet.fail(invalid);
      return false;
    }
    Set<Backend.EventKind> events = EnumSet.noneOf(Backend.EventKind.class);
    for (LifecycleEvent.Kind kind : register.getEventsList()) {
      if (kind == LifecycleEvent.Kind.KIND_UNSPECIFIED
          || kind == LifecycleEvent.Kind.UNRECOGNIZED) {
        outlet.fail(new IllegalArgumentException("unknown lifecycle event kind"));
        return false;
      }
      events.add(Backend.EventKind.valueOf(kind.name()));
    }
    registration =
        new BackendRouterActor.Register(getContext().getSelf(), workerId, routes, events);
    told.clear();
    announce();
    getContext()
        .getLog()
        .info(
            "Worker [{}] ({}) serves {} and events {}",
            workerId,
            register.getName(),
            routes,
            events);
    offer(WorkerFrames.registered(workerId, nodeName, routes.size()));
    return true;
  }

  /** Tells every router not told yet what this worker serves; this node's router first. */
  private void announce() {
    if (registration == null) {
      return;
    }
    if (told.add(localRouter)) {
      localRouter.tell(registration);
    }
    for (ActorRef<BackendRouterActor.Command> router : routers) {
      if (told.add(router)) {
        router.tell(registration);
      }
    }
  }

  private Behavior<Command> onRoutersChanged(RoutersChanged changed) {
    routers.clear();
    routers.add(localRouter);
    routers.addAll(changed.routers());
    told.retainAll(routers);
    announce();
    return this;
  }

  private void onReply(WorkerReply reply) {
    Pending waiting = pending.remove(reply.getRequestId());
    if (waiting == null) {
      getContext()
          .getLog()
          .debug("Worker [{}] late or unknown reply [{}]", workerId, reply.getRequestId());
      return;
    }
    int status = reply.getStatus() == 0 ? 200 : reply.getStatus();
    waiting.replyTo().tell(Backend.Answer.replied(status, reply.getHeadersMap(), reply.getBody()));
  }

  private Behavior<Command> onHandle(Handle handle) {
    long requestId = ++nextRequestId;
    pending.put(
        requestId,
        new Pending(handle.replyTo(), System.nanoTime() + handle.timeoutMs() * 1_000_000L));
    GatewayFrame frame =
        WorkerFrames.request(
            requestId, handle.request(), handle.route(), handle.params(), handle.timeoutMs());
    if (!offer(frame)) {
      return Behaviors.stopped(); // PostStop answers this request and the others
    }
    if (!timers.isTimerActive(Sweep.INSTANCE)) {
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, Duration.ofSeconds(1));
    }
    return this;
  }

  private Behavior<Command> onDeliver(Deliver deliver) {
    GatewayFrame frame = WorkerFrames.message(deliver.message(), deliver.route(), deliver.params());
    return offer(frame) ? this : Behaviors.stopped();
  }

  private Behavior<Command> onNotify(Notify notify) {
    return offer(WorkerFrames.event(notify.event())) ? this : Behaviors.stopped();
  }

  /** Requests past their deadline were answered TIMEOUT by their asker: forget them. */
  private Behavior<Command> onSweep() {
    long now = System.nanoTime();
    pending.values().removeIf(p -> now - p.deadlineNanos() > 0);
    if (pending.isEmpty()) {
      timers.cancel(Sweep.INSTANCE);
    }
    return this;
  }

  /** Queues a frame for the worker; a worker that does not keep up is disconnected. */
  private boolean offer(GatewayFrame frame) {
    if (outlet.offer(frame)) {
      return true;
    }
    getContext()
        .getLog()
        .warn("Worker [{}] does not read its stream fast enough, disconnecting it", workerId);
    outlet.fail(
        new IllegalStateException(
            "worker-buffer of " + settings.workerBuffer() + " frames is full: read faster"));
    return false;
  }

  private Behavior<Command> onPostStop() {
    // Before the answers below: a browser that retries after BACKEND_GONE is not routed here again.
    BackendRouterActor.Deregister deregister =
        new BackendRouterActor.Deregister(getContext().getSelf());
    told.forEach(router -> router.tell(deregister));
    if (!pending.isEmpty()) {
      Backend.Answer gone =
          Backend.Answer.failed(Backend.Outcome.BACKEND_GONE, "worker " + workerId + " went away");
      pending.values().forEach(p -> p.replyTo().tell(gone));
    }
    getContext()
        .getLog()
        .info("Worker [{}] disconnected; {} requests failed", workerId, pending.size());
    pending.clear();
    outlet.complete();
    return this;
  }
}
