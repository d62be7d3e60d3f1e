package io.switchboard.node.session;

import io.switchboard.node.bridge.Bridges;
import io.switchboard.node.bridge.UpstreamActor;
import io.switchboard.node.bridge.UpstreamStatus;
import io.switchboard.node.config.BridgeSettings;
import io.switchboard.node.stream.Socket;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/**
 * The bridge side of a session entity opened on a bridge route: starts the session's {@link
 * UpstreamActor} (a child, so it runs wherever the session runs, and again after the session moved
 * or restarted), keeps it for the route's grace period after the browser went away, passes the
 * upstream's state to the attached socket, and client messages to the upstream. Runtime state only;
 * what must survive (route, headers, replay value) is in {@link SessionState}. Used from the
 * entity's thread only.
 */
final class SessionBridge {
  private final String sessionId;
  private final ActorContext<SessionEntity.Command> context;
  private final TimerScheduler<SessionEntity.Command> timers;
  // Made when the first upstream starts: most sessions are not bridge sessions, and an adapter is
  // a child ref of the entity.
  private ActorRef<UpstreamActor.Output> outputs;
  private ActorRef<UpstreamActor.Command> upstream;
  private UpstreamStatus status;
  private int incarnation;

  SessionBridge(
      String sessionId,
      ActorContext<SessionEntity.Command> context,
      TimerScheduler<SessionEntity.Command> timers) {
    this.sessionId = sessionId;
    this.context = context;
    this.timers = timers;
  }

  /** Starts the upstream connection if this is an active bridge session without one. */
  void ensureRunning(SessionState state) {
    if (upstream != null || !state.isActive() || !state.isBridge()) {
      return;
    }
    Optional<BridgeSettings.Route> route = route(state);
    if (route.isEmpty()) {
      context
          .getSelf()
          .tell(
              new SessionEntity.FromUpstream(
                  new UpstreamActor.Lost(
                      "bridge route " + state.bridgeRoute() + " is not configured on this node")));
      return;
    }
    if (outputs == null) {
      outputs = context.messageAdapter(UpstreamActor.Output.class, SessionEntity.FromUpstream::new);
    }
    UpstreamActor.Owner owner =
        new UpstreamActor.Owner(
            sessionId, state.userId(), state.bridgeHeaders(), replayValue(state), outputs);
    upstream = context.spawn(UpstreamActor.create(route.get(), owner), "upstream-" + ++incarnation);
    context.watchWith(upstream, new SessionEntity.UpstreamStopped(upstream));
  }

  /** A socket attached: the upstream runs (again), and the socket learns its state. */
  void attached(ActorRef<Socket.Command> socket, SessionState state) {
    if (!state.isBridge()) {
      return;
    }
    timers.cancel(SessionEntity.GraceOver.INSTANCE);
    ensureRunning(state);
    if (status != null) {
      socket.tell(status);
    }
  }

  /** No socket is attached (it went away, or the session recovered): the grace period starts. */
  void detached(SessionState state) {
    if (upstream != null) {
      route(state)
          .ifPresent(
              r -> timers.startSingleTimer(SessionEntity.GraceOver.INSTANCE, r.gracePeriod()));
    }
  }

  /** The grace period is over with no socket attached: the upstream is closed cleanly. */
  void graceOver() {
    if (upstream != null) {
      context.getLog().info("Session [{}] closes its upstream: grace period over", sessionId);
    }
    stop();
  }

  /** Closes the upstream, if any (the session ended, or the grace period is over). */
  void stop() {
    timers.cancel(SessionEntity.GraceOver.INSTANCE);
    if (upstream != null) {
      upstream.tell(UpstreamActor.Shutdown.INSTANCE);
      upstream = null;
      status = null;
    }
  }

  /** A client message for the upstream. */
  void send(SessionEntity.ToUpstream cmd, SessionState state) {
    if (!state.isActive() || !state.isBridge()) {
      cmd.replyTo().tell(StatusReply.error(SessionEntity.NOT_A_BRIDGE));
      return;
    }
    ensureRunning(state);
    if (upstream == null) {
      cmd.replyTo().tell(StatusReply.error(UpstreamActor.CLOSING));
      return;
    }
    upstream.tell(new UpstreamActor.Send(cmd.payload(), cmd.frameType(), cmd.replyTo()));
  }

  /** The last upstream message was journaled: the upstream may read the next one. */
  void journaled(SessionState state) {
    if (upstream != null) {
      upstream.tell(new UpstreamActor.Journaled(replayValue(state)));
    }
  }

  /** The upstream's state changed; the attached socket, if any, is told. */
  void statusChanged(UpstreamStatus newStatus, ActorRef<Socket.Command> attached) {
    if (upstream == null) {
      return; // a closed upstream's last words
    }
    status = newStatus;
    if (attached != null) {
      attached.tell(newStatus);
    }
  }

  /**
   * The upstream actor stopped. When it is the current one and it did not say why (a failure), a
   * new one starts if a socket is attached (or the grace period is running).
   */
  void stopped(
      ActorRef<UpstreamActor.Command> ref, SessionState state, ActorRef<Socket.Command> attached) {
    if (!ref.equals(upstream)) {
      return;
    }
    upstream = null;
    status = null;
    if (attached != null || timers.isTimerActive(SessionEntity.GraceOver.INSTANCE)) {
      context.getLog().warn("Session [{}] restarts its upstream actor, which stopped", sessionId);
      ensureRunning(state);
    }
  }

  /**
   * What a reconnection tells the upstream: the count of journaled upstream messages, or the id of
   * the last one that had an id ("" before any).
   */
  String replayValue(SessionState state) {
    boolean counts = route(state).map(BridgeSettings.Route::countsMessages).orElse(true);
    if (counts) {
      return state.upstreamCount() == 0 ? "" : Long.toString(state.upstreamCount());
    }
    return state.upstreamLastId();
  }

  private Optional<BridgeSettings.Route> route(SessionState state) {
    return Bridges.get(context.getSystem()).settings().route(state.bridgeRoute());
  }
}
