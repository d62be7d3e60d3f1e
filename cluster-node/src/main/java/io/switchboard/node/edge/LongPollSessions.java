package io.switchboard.node.edge;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.switchboard.node.ClusterMessage;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.auth.Identity;
import io.switchboard.node.auth.TokenVerifier;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.LongPollSettings;
import io.switchboard.node.metrics.NodeMetrics;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.FrameBatch;
import io.switchboard.protocol.v1.LongPollRequest;
import io.switchboard.protocol.v1.Resume;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.Materializer;

/**
 * One per node: this node's long-poll sockets by session id, and the way to a session's socket on
 * another node. A poll or send for a session whose socket is here is served here. Otherwise the
 * session entity says where its socket is: the call is relayed to the node holding it (the socket
 * stays put, so calls spread over the nodes by a load balancer do not move it back and forth), and
 * a session with no socket, or one the other node no longer has, is resumed by a new socket here
 * (Resume with the poll's cursors: nothing lost, nothing twice; the session replaces the old
 * socket, which ends its held poll with an empty batch). A socket without polls or sends for the
 * idle timeout ends and its session is detached, then expires like any detached session.
 */
public final class LongPollSessions extends AbstractBehavior<LongPollSessions.Command> {

  /** The long-poll registries of the cluster, one per node. */
  public static final ServiceKey<Command> KEY =
      ServiceKey.create(Command.class, "switchboard-long-poll");

  /** Everything the registry accepts. */
  public interface Command {}

  /** {@code POST /lp/open}: frames whose first is a Connect or Resume, by {@code identity}. */
  public record Open(Identity identity, List<ClientFrame> frames, ActorRef<FrameBatch> replyTo)
      implements Command {}

  /**
   * {@code POST /lp/poll} or {@code /lp/send}; {@code credentials} is the identity the request's
   * own token proves, or null (the session's grant is used where a new socket is needed).
   */
  public record Call(
      boolean send, LongPollRequest request, Identity credentials, ActorRef<FrameBatch> replyTo)
      implements Command {}

  /** A call another node received for a session whose socket is on this node. */
  public record Relay(boolean send, ByteString request, ActorRef<Relayed> replyTo)
      implements Command, ClusterMessage {}

  /** The answer to Relay: a FrameBatch, or null when this node has no socket for the session. */
  public record Relayed(ByteString batch) implements ClusterMessage {}

  private record Spawned(
      LongPollTransport transport,
      Identity identity,
      ActorRef<Socket.Command> connection,
      Consumer<LongPollSocket> next)
      implements Command {}

  private record Opened(LongPollSocket socket, List<ServerFrame> answers, Open open)
      implements Command {}

  private record Located(String sessionId, SessionEntity.Location location, Throwable failure)
      implements Command {}

  private record RelayAnswered(
      Call call, SessionEntity.Location location, Relayed relayed, Throwable failure)
      implements Command {}

  private record Resumed(LongPollSocket socket, List<ServerFrame> answers) implements Command {}

  private record SocketStopped(LongPollSocket socket) implements Command {}

  private record Listed(Receptionist.Listing listing) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  /** The registry of this node; its sockets are spawned by {@code connections}. */
  public static Behavior<Command> create(
      EdgeSettings edge,
      LongPollSettings settings,
      ActorRef<ConnectionRegistryActor.Command> connections,
      Gatekeeper gate) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
                  return new LongPollSessions(ctx, edge, settings, connections, gate);
                }));
  }

  private final EdgeSettings edge;
  private final LongPollSettings settings;
  private final ActorRef<ConnectionRegistryActor.Command> connections;
  private final Gatekeeper gate;
  private final LongPollCalls calls;
  private final ClusterSharding sharding;
  private final Materializer materializer;
  private final NodeMetrics metrics;
  private final Map<String, LongPollSocket> sockets = new HashMap<>();
  private final Map<String, List<Call>> waiting = new HashMap<>();
  private final Map<Address, ActorRef<Command>> registries = new HashMap<>();

  private LongPollSessions(
      ActorContext<Command> context,
      EdgeSettings edge,
      LongPollSettings settings,
      ActorRef<ConnectionRegistryActor.Command> connections,
      Gatekeeper gate) {
    super(context);
    this.edge = edge;
    this.settings = settings;
    this.connections = connections;
    this.gate = gate;
    this.calls = new LongPollCalls(context.getSystem(), edge, settings);
    this.sharding = ClusterSharding.get(context.getSystem());
    this.materializer = Materializer.matFromSystem(context.getSystem());
    this.metrics = NodeMetrics.get(context.getSystem());
    var receptionist = context.getSystem().receptionist();
    receptionist.tell(Receptionist.register(KEY, context.getSelf()));
    receptionist.tell(
        Receptionist.subscribe(
            KEY, context.messageAdapter(Receptionist.Listing.class, Listed::new)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Open.class, this::onOpen)
        .onMessage(Spawned.class, this::onSpawned)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Call.class, this::onCall)
        .onMessage(Located.class, this::onLocated)
        .onMessage(Relay.class, this::onRelay)
        .onMessage(RelayAnswered.class, this::onRelayAnswered)
        .onMessage(Resumed.class, this::onResumed)
        .onMessage(SocketStopped.class, this::onSocketStopped)
        .onMessage(Listed.class, this::onListed)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .build();
  }

  // ---- open

  private Behavior<Command> onOpen(Open open) {
    spawn(
        open.identity(),
        socket -> {
          if (socket == null) {
            open.replyTo().tell(batch(LongPollCalls.unavailable(open.frames(), true)));
            return;
          }
          getContext()
              .pipeToSelf(
                  socket.send(open.frames(), calls.sendDeadline(open.frames())),
                  (answers, failure) ->
                      new Opened(socket, answers == null ? List.of() : answers, open));
        });
    return this;
  }

  private Behavior<Command> onOpened(Opened opened) {
    LongPollSocket socket = opened.socket();
    ServerFrame connected =
        opened.answers().stream().filter(ServerFrame::hasConnected).findFirst().orElse(null);
    if (connected == null) {
      socket.end();
      opened.open().replyTo().tell(batch(LongPollCalls.refusal(opened.answers(), false)));
      return this;
    }
    String sessionId = connected.getConnected().getSessionId();
    ByteString tokenHash = SessionSecrets.hash(connected.getConnected().getResumeToken());
    socket.serves(sessionId, tokenHash);
    socket.ready(null);
    // A socket this node had for the session is replaced by the session itself.
    sockets.put(sessionId, socket);
    grant(socket, tokenHash);
    opened.open().replyTo().tell(batch(opened.answers()));
    return this;
  }

  // ---- poll and send

  private Behavior<Command> onCall(Call call) {
    String sessionId = call.request().getSessionId();
    if (sessionId.isEmpty() || call.request().getResumeToken().isEmpty()) {
      reply(call, LongPollCalls.notFound(call.send()));
      return this;
    }
    List<Call> queued = waiting.get(sessionId);
    if (queued != null) {
      queued.add(call);
      return this;
    }
    LongPollSocket socket = sockets.get(sessionId);
    if (socket != null && socket.usable()) {
      serve(socket, call.send(), call.request(), frames -> reply(call, frames));
      return this;
    }
    sockets.remove(sessionId);
    waiting.put(sessionId, new ArrayList<>(List.of(call)));
    ByteString tokenHash = SessionSecrets.hash(call.request().getResumeToken());
    getContext()
        .askWithStatus(
            SessionEntity.Location.class,
            sharding.entityRefFor(SessionEntity.ENTITY_KEY, sessionId),
            edge.askTimeout(),
            replyTo -> new SessionEntity.Locate(tokenHash, replyTo),
            (location, failure) -> new Located(sessionId, location, failure));
    return this;
  }

  private Behavior<Command> onLocated(Located located) {
    List<Call> queued = waiting.remove(located.sessionId());
    if (located.failure() != null) {
      boolean notFound = String.valueOf(located.failure().getMessage()).contains("not found");
      queued.forEach(
          c -> reply(c, notFound ? LongPollCalls.notFound(c.send()) : LongPollCalls.retry(c)));
      return this;
    }
    ActorRef<Command> holder = holderOf(located.location().socket());
    if (holder == null) {
      takeOver(located.sessionId(), queued, located.location());
      return this;
    }
    for (Call call : queued) {
      metrics.longPollRelays.increment();
      getContext()
          .ask(
              Relayed.class,
              holder,
              calls.deadline(call).plusSeconds(5),
              replyTo -> new Relay(call.send(), call.request().toByteString(), replyTo),
              (relayed, failure) -> new RelayAnswered(call, located.location(), relayed, failure));
    }
    return this;
  }

  private Behavior<Command> onRelay(Relay relay) {
    LongPollRequest request;
    try {
      request = LongPollRequest.parseFrom(relay.request());
    } catch (InvalidProtocolBufferException e) {
      relay.replyTo().tell(new Relayed(null));
      return this;
    }
    LongPollSocket socket = sockets.get(request.getSessionId());
    if (socket == null || !socket.usable() || waiting.containsKey(request.getSessionId())) {
      relay.replyTo().tell(new Relayed(null));
    } else {
      serve(
          socket,
          relay.send(),
          request,
          frames -> relay.replyTo().tell(new Relayed(batch(frames).toByteString())));
    }
    return this;
  }

  private Behavior<Command> onRelayAnswered(RelayAnswered answered) {
    Call call = answered.call();
    if (answered.relayed() == null) {
      getContext().getLog().debug("Long-poll relay failed: {}", String.valueOf(answered.failure()));
      reply(call, LongPollCalls.retry(call));
    } else if (answered.relayed().batch() != null) {
      try {
        call.replyTo().tell(FrameBatch.parseFrom(answered.relayed().batch()));
      } catch (InvalidProtocolBufferException e) {
        reply(call, LongPollCalls.retry(call));
      }
    } else {
      // The other node no longer has the socket: a socket here resumes the session.
      String sessionId = call.request().getSessionId();
      LongPollSocket socket = sockets.get(sessionId);
      if (socket != null && socket.usable()) {
        serve(socket, call.send(), call.request(), frames -> reply(call, frames));
      } else if (waiting.containsKey(sessionId)) {
        waiting.get(sessionId).add(call);
      } else {
        takeOver(sessionId, new ArrayList<>(List.of(call)), answered.location());
      }
    }
    return this;
  }

  /** A new socket on this node resumes the session for {@code queued} calls. */
  private void takeOver(String sessionId, List<Call> queued, SessionEntity.Location location) {
    Call first = queued.get(0);
    Identity identity =
        gate.anonymousMode()
            ? Identity.UNAUTHENTICATED
            : first.credentials() != null ? first.credentials() : location.grant();
    boolean expired =
        identity != null
            && gate.closeAt(identity).map(at -> at.isBefore(Instant.now())).orElse(false);
    if (identity == null || expired) {
      queued.forEach(c -> reply(c, LongPollCalls.credentialsNeeded()));
      return;
    }
    waiting.put(sessionId, queued);
    metrics.longPollResumes.increment();
    ByteString tokenHash = SessionSecrets.hash(first.request().getResumeToken());
    spawn(
        identity,
        socket -> {
          if (socket == null) {
            waiting.remove(sessionId).forEach(c -> reply(c, LongPollCalls.retry(c)));
            return;
          }
          socket.serves(sessionId, tokenHash);
          sockets.put(sessionId, socket);
          ClientFrame resume =
              ClientFrame.newBuilder()
                  .setId(LongPollSocket.ownId())
                  .setResume(
                      Resume.newBuilder()
                          .setSessionId(sessionId)
                          .setResumeToken(first.request().getResumeToken())
                          .addAllCursors(first.request().getCursorsList()))
                  .build();
          getContext()
              .pipeToSelf(
                  socket.send(List.of(resume), edge.askTimeout().multipliedBy(2)),
                  (answers, failure) -> new Resumed(socket, answers == null ? List.of() : answers));
          List<Call> pending = waiting.remove(sessionId);
          if (pending != null) {
            pending.forEach(this::onCall);
          }
          if (first.credentials() != null) {
            grant(socket, tokenHash);
          }
        });
  }

  private Behavior<Command> onResumed(Resumed resumed) {
    LongPollSocket socket = resumed.socket();
    if (resumed.answers().stream().anyMatch(ServerFrame::hasConnected)) {
      getContext()
          .getLog()
          .debug("Long-poll session [{}] resumed on this node", socket.sessionId());
      socket.ready(null);
    } else {
      socket.ready(LongPollCalls.refusal(resumed.answers(), true));
      socket.end();
      sockets.remove(socket.sessionId(), socket);
    }
    return this;
  }

  /** Serves a call on a socket of this node; {@code answer} gets the frames of the answer. */
  private void serve(
      LongPollSocket socket,
      boolean send,
      LongPollRequest request,
      Consumer<List<ServerFrame>> answer) {
    if (!socket.holds(SessionSecrets.hash(request.getResumeToken()))) {
      answer.accept(LongPollCalls.notFound(send));
      return;
    }
    socket
        .ready()
        .thenCompose(
            refusal -> {
              if (refusal != null) {
                return LongPollCalls.completed(LongPollCalls.forCall(refusal, send));
              }
              if (send) {
                return socket
                    .send(request.getFramesList(), calls.sendDeadline(request.getFramesList()))
                    .thenApply(frames -> refreshed(socket, request, frames));
              }
              return socket.poll(request.getCursorsList(), calls.wait(request));
            })
        .whenComplete((frames, failure) -> answer.accept(frames == null ? List.of() : frames));
  }

  /** A Refresh answered by Pong gave the socket a new identity: the session's grant follows. */
  private List<ServerFrame> refreshed(
      LongPollSocket socket, LongPollRequest request, List<ServerFrame> answers) {
    for (ClientFrame frame : request.getFramesList()) {
      if (frame.hasRefresh()
          && frame.getId() != 0
          && answers.stream().anyMatch(a -> a.getId() == frame.getId() && a.hasPong())
          && gate.refresh(socket.identity(), frame.getRefresh().getToken())
              instanceof TokenVerifier.Verified verified) {
        socket.identity(verified.identity());
        grant(socket, SessionSecrets.hash(request.getResumeToken()));
      }
    }
    return answers;
  }

  /** Tells the session who its client is, so that any node can resume it for a poll. */
  private void grant(LongPollSocket socket, ByteString tokenHash) {
    Identity identity = socket.identity();
    if (gate.anonymousMode() || identity == null || !identity.authenticated()) {
      return;
    }
    sharding
        .entityRefFor(SessionEntity.ENTITY_KEY, socket.sessionId())
        .tell(new SessionEntity.Grant(tokenHash, identity, getContext().getSystem().ignoreRef()));
  }

  // ---- sockets

  @SuppressWarnings("unchecked")
  private void spawn(Identity identity, Consumer<LongPollSocket> next) {
    LongPollTransport transport = calls.newTransport();
    Class<ActorRef<Socket.Command>> refClass =
        (Class<ActorRef<Socket.Command>>) (Class<?>) ActorRef.class;
    getContext()
        .ask(
            refClass,
            connections,
            edge.askTimeout(),
            replyTo -> new ConnectionRegistryActor.Spawn(transport, identity, replyTo),
            (connection, failure) -> new Spawned(transport, identity, connection, next));
  }

  private Behavior<Command> onSpawned(Spawned spawned) {
    if (spawned.connection() == null) {
      getContext().getLog().warn("Long-poll socket could not be started");
      spawned.next().accept(null);
      return this;
    }
    LongPollSocket socket =
        LongPollSocket.start(
            spawned.transport(),
            spawned.connection(),
            spawned.identity(),
            LongPollCalls.INBOUND_BUFFER,
            sharding,
            materializer);
    getContext().watchWith(spawned.connection(), new SocketStopped(socket));
    spawned.next().accept(socket);
    return this;
  }

  private Behavior<Command> onSocketStopped(SocketStopped stopped) {
    LongPollSocket socket = stopped.socket();
    socket.transport().connectionStopped();
    socket.end();
    if (!socket.usable()) {
      sockets.remove(socket.sessionId(), socket);
    }
    return this;
  }

  private Behavior<Command> onTick() {
    Duration keepAlive = edge.heartbeatTimeout().dividedBy(3);
    for (LongPollSocket socket : List.copyOf(sockets.values())) {
      LongPollTransport transport = socket.transport();
      if (!socket.usable() || (transport.isClosed() && transport.isIdle(settings.idleTimeout()))) {
        sockets.remove(socket.sessionId(), socket);
      } else if (!transport.isClosed() && transport.isIdle(settings.idleTimeout())) {
        getContext().getLog().debug("Long-poll socket of [{}] idle: ended", socket.sessionId());
        socket.end();
      } else if (!transport.isClosed()) {
        socket.keepAlive(keepAlive);
      }
    }
    return this;
  }

  private Behavior<Command> onListed(Listed listed) {
    registries.clear();
    for (ActorRef<Command> registry : listed.listing().getServiceInstances(KEY)) {
      registries.put(registry.path().address(), registry);
    }
    return this;
  }

  /** The registry of the node holding {@code socket}, when that is another node. */
  private ActorRef<Command> holderOf(ActorRef<Socket.Command> socket) {
    if (socket == null) {
      return null;
    }
    Address address = socket.path().address();
    if (address.hasLocalScope() || address.equals(getContext().getSystem().address())) {
      return null;
    }
    return registries.get(address);
  }

  private static void reply(Call call, List<ServerFrame> frames) {
    call.replyTo().tell(batch(frames));
  }

  private static FrameBatch batch(List<ServerFrame> frames) {
    return FrameBatch.newBuilder().addAllFrames(frames).build();
  }
}
