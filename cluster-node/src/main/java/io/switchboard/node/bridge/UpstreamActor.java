package io.switchboard.node.bridge;

import com.google.protobuf.ByteString;
import io.switchboard.node.config.BridgeSettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.CompletionStrategy;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The upstream connection of one bridge session, a child of the session entity (it lives and dies
 * with the session's incarnation; it is never persisted). It connects to the route's upstream with
 * the session's headers, hands each upstream message to its owner and reads the next one only when
 * the owner has journaled it ({@link Journaled}), so the replay value it sends on reconnection
 * names exactly the last message journaled. Client messages are held in order, bounded, while the
 * upstream is not connected. A lost upstream is reconnected with exponential backoff for the
 * route's retry window; then the owner is told {@link Lost} and the actor waits for {@link
 * Shutdown}.
 *
 * <p>Client messages already handed to a connection that then drops are not sent again (the
 * WebSocket has no acknowledgement of its own): held messages are delivered in order, in-flight
 * ones at most once.
 */
public final class UpstreamActor extends AbstractBehavior<UpstreamActor.Command> {

  /** Everything the upstream actor accepts. */
  public interface Command {}

  /**
   * A client message for the upstream as a {@code frameType} frame ("text", "binary", or "" for the
   * route's default); answered at once: sent or held, or refused.
   */
  public record Send(ByteString payload, String frameType, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** The owner journaled the last {@link Received}; a reconnection now sends this value. */
  public record Journaled(String replayValue) implements Command {}

  /** Closes the upstream cleanly (WebSocket close handshake) and stops. */
  public enum Shutdown implements Command {
    INSTANCE
  }

  /** What the upstream actor tells its owner. */
  public sealed interface Output {}

  /** An upstream message; the owner journals it and answers {@link Journaled}. */
  public record Received(ByteString payload, String upstreamId) implements Output {}

  /** The connection's state changed. */
  public record StatusChanged(UpstreamStatus status) implements Output {}

  /** The upstream is gone for good (retry window over, or refused); the actor has stopped. */
  public record Lost(String reason) implements Output {}

  /** Who the connection is for: the session, its user, its headers and its replay value. */
  public record Owner(
      String sessionId,
      String userId,
      Map<String, String> headers,
      String replayValue,
      ActorRef<Output> outputs) {}

  /** Send refused: the upstream is not connected and the held messages reached their bound. */
  public static final String HELD_FULL = "too many messages held for the upstream";

  /** Send refused: what every refusal of a malformed message starts with. */
  public static final String INVALID_PREFIX = "invalid message for the upstream: ";

  /** Send refused: the upstream is being closed. */
  public static final String CLOSING = "the upstream connection is closing";

  private record Held(ByteString payload, boolean binary) {}

  private record Answered(int gen, WebSocketUpgradeResponse response, Throwable failure)
      implements Command {}

  private record InStarted(int gen, ActorRef<InAck> ackTo) implements Command {}

  private record InFrame(int gen, ActorRef<InAck> ackTo, Strict message) implements Command {}

  private record InEnded(int gen, Throwable failure) implements Command {}

  private record OutReady(int gen) implements Command {}

  private enum Tick implements Command {
    RETRY,
    WINDOW_OVER,
    CLOSE_TIMEOUT
  }

  private enum InAck {
    INSTANCE
  }

  private sealed interface Out {}

  private record OutMessage(Message message) implements Out {}

  private enum OutComplete implements Out {
    INSTANCE
  }

  private record Strict(ByteString payload, boolean text) {}

  private static final class TooLarge extends RuntimeException {
    TooLarge() {
      super("upstream message exceeds max-message-size", null, false, false);
    }
  }

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  /** The upstream connection of {@code owner} on {@code route}; connects at once. */
  public static Behavior<Command> create(BridgeSettings.Route route, Owner owner) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new UpstreamActor(ctx, timers, route, owner)));
  }

  private final TimerScheduler<Command> timers;
  private final BridgeSettings.Route route;
  private final Owner owner;
  private final Materializer materializer;
  private final Deque<Held> held = new ArrayDeque<>();
  private String replayValue;
  private UpstreamStatus.Phase phase = UpstreamStatus.Phase.CONNECTING;
  private String reason = "connecting";
  private int gen;
  private boolean live;
  private ActorRef<Out> outlet;
  private boolean outReady;
  private ActorRef<InAck> pendingAck;
  private boolean awaitingJournal;
  private boolean reconnectWhenJournaled;
  private int attempt;
  private long windowDeadlineMs;
  private boolean closing;
  private boolean done;

  private UpstreamActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      BridgeSettings.Route route,
      Owner owner) {
    super(context);
    this.timers = timers;
    this.route = route;
    this.owner = owner;
    this.replayValue = owner.replayValue();
    this.materializer = Materializer.matFromSystem(context.getSystem());
    report();
    connect();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Send.class, this::onSend)
        .onMessage(Journaled.class, this::onJournaled)
        .onMessage(Shutdown.class, m -> onShutdown())
        .onMessage(Answered.class, this::onAnswered)
        .onMessage(InStarted.class, this::onInStarted)
        .onMessage(InFrame.class, this::onInFrame)
        .onMessage(InEnded.class, this::onInEnded)
        .onMessage(OutReady.class, this::onOutReady)
        .onMessage(Tick.class, this::onTick)
        .build();
  }

  // ---- connecting

  private void connect() {
    if (awaitingJournal) {
      // The owner is journaling a message of the last connection: reconnecting now would name the
      // message before it, and the upstream would send it again.
      reconnectWhenJournaled = true;
      return;
    }
    gen++;
    live = true;
    outReady = true;
    int g = gen;
    Flow<Message, Message, ActorRef<Out>> flow =
        Flow.fromSinkAndSourceCoupledMat(inbound(g), outbound(g), Keep.right());
    Pair<CompletionStage<WebSocketUpgradeResponse>, ActorRef<Out>> pair =
        Http.get(getContext().getSystem()).singleWebSocketRequest(request(), flow, materializer);
    outlet = pair.second();
    getContext()
        .pipeToSelf(pair.first(), (response, failure) -> new Answered(g, response, failure));
  }

  private WebSocketRequest request() {
    WebSocketRequest request = WebSocketRequest.create(route.upstream().toString());
    for (Map.Entry<String, String> h : owner.headers().entrySet()) {
      request = request.addHeader(HttpHeader.parse(h.getKey(), h.getValue()));
    }
    for (Map.Entry<String, String> h : route.addHeaders().entrySet()) {
      request = request.addHeader(HttpHeader.parse(h.getKey(), h.getValue()));
    }
    if (!route.replayHeader().isEmpty() && !replayValue.isEmpty()) {
      request = request.addHeader(HttpHeader.parse(route.replayHeader(), replayValue));
    }
    if (!route.sessionIdHeader().isEmpty()) {
      request = request.addHeader(HttpHeader.parse(route.sessionIdHeader(), owner.sessionId()));
    }
    if (!route.userIdHeader().isEmpty()) {
      request = request.addHeader(HttpHeader.parse(route.userIdHeader(), owner.userId()));
    }
    return request;
  }

  private Sink<Message, NotUsed> inbound(int g) {
    int max = route.maxMessageSize();
    return Flow.<Message>create()
        .mapAsync(1, m -> strict(m, max, materializer))
        .to(
            ActorSink.<Strict, Command, InAck>actorRefWithBackpressure(
                getContext().getSelf(),
                (ackTo, message) -> new InFrame(g, ackTo, message),
                ackTo -> new InStarted(g, ackTo),
                InAck.INSTANCE,
                new InEnded(g, null),
                failure -> new InEnded(g, failure)));
  }

  private Source<Message, ActorRef<Out>> outbound(int g) {
    return ActorSource.<Out, Command>actorRefWithBackpressure(
            getContext().getSelf(),
            new OutReady(g),
            out ->
                out == OutComplete.INSTANCE
                    ? Optional.of(CompletionStrategy.draining())
                    : Optional.empty(),
            out -> Optional.empty())
        .map(out -> ((OutMessage) out).message());
  }

  /** A whole message, text or binary, at most {@code max} bytes. */
  private static CompletionStage<Strict> strict(Message m, int max, Materializer materializer) {
    if (m.isText()) {
      TextMessage text = m.asTextMessage();
      CompletionStage<String> whole =
          text.isStrict()
              ? CompletableFuture.completedFuture(text.getStrictText())
              : text.getStreamedText()
                  .limitWeighted(max, s -> (long) s.length())
                  .runFold("", String::concat, materializer);
      return whole.thenApply(
          s -> {
            ByteString bytes = ByteString.copyFromUtf8(s);
            if (bytes.size() > max) {
              throw new TooLarge();
            }
            return new Strict(bytes, true);
          });
    }
    BinaryMessage binary = m.asBinaryMessage();
    CompletionStage<org.apache.pekko.util.ByteString> whole =
        binary.isStrict()
            ? CompletableFuture.completedFuture(binary.getStrictData())
            : binary
                .getStreamedData()
                .limitWeighted(max, b -> (long) b.size())
                .runFold(
                    org.apache.pekko.util.ByteString.emptyByteString(),
                    org.apache.pekko.util.ByteString::concat,
                    materializer);
    return whole.thenApply(
        b -> {
          if (b.size() > max) {
            throw new TooLarge();
          }
          return new Strict(ByteString.copyFrom(b.toArray()), false);
        });
  }

  private Behavior<Command> onAnswered(Answered answered) {
    if (answered.gen() != gen || !live) {
      return this;
    }
    if (answered.failure() != null) {
      return dropped("upstream unreachable: " + answered.failure().getMessage());
    }
    WebSocketUpgradeResponse response = answered.response();
    if (!response.isValid()) {
      int status = response.response().status().intValue();
      if (status >= 400 && status < 500 && status != 408 && status != 429) {
        return lose("upstream refused the connection: HTTP " + status);
      }
      return dropped("upstream answered HTTP " + status);
    }
    getContext()
        .getLog()
        .info(
            "Upstream of session [{}] connected to {} (attempt {})",
            owner.sessionId(),
            route.upstream(),
            attempt + 1);
    phase = UpstreamStatus.Phase.UP;
    attempt = 0;
    windowDeadlineMs = 0;
    reason = "";
    timers.cancel(Tick.WINDOW_OVER);
    report();
    pump();
    return this;
  }

  private Behavior<Command> dropped(String why) {
    live = false;
    if (outlet != null) {
      outlet.tell(OutComplete.INSTANCE); // whatever is left of the old connection goes away
    }
    phase = UpstreamStatus.Phase.RECONNECTING;
    reason = why;
    long now = System.currentTimeMillis();
    if (windowDeadlineMs == 0) {
      windowDeadlineMs = now + route.retryWindow().toMillis();
      timers.startSingleTimer(Tick.WINDOW_OVER, route.retryWindow());
    }
    long left = windowDeadlineMs - now;
    if (left <= 0) {
      return lose("upstream unreachable for " + route.retryWindow() + ": " + why);
    }
    attempt++;
    long delay = Math.min(backoffMs(attempt), left);
    getContext()
        .getLog()
        .info(
            "Upstream of session [{}] lost ({}); attempt {} in {} ms",
            owner.sessionId(),
            why,
            attempt,
            delay);
    timers.startSingleTimer(Tick.RETRY, Duration.ofMillis(delay));
    report();
    return this;
  }

  private long backoffMs(int attempt) {
    long min = route.minBackoff().toMillis();
    long max = route.maxBackoff().toMillis();
    long exp = min << Math.min(attempt - 1, 20);
    long base = Math.min(max, exp);
    double jitter = 0.8 + ThreadLocalRandom.current().nextDouble() * 0.4;
    return Math.max(1, (long) (base * jitter));
  }

  /**
   * Tells the owner the upstream is lost for good, then waits for its {@link Shutdown}: the owner
   * stops its children itself, so a stop it did not ask for always means a failure.
   */
  private Behavior<Command> lose(String why) {
    getContext()
        .getLog()
        .warn("Upstream of session [{}] lost for good: {}", owner.sessionId(), why);
    live = false;
    if (outlet != null) {
      outlet.tell(OutComplete.INSTANCE);
    }
    owner.outputs().tell(new Lost(why));
    done = true;
    return Behaviors.receive(Command.class)
        .onMessageEquals(Shutdown.INSTANCE, Behaviors::stopped)
        .onMessage(
            Send.class,
            send -> {
              send.replyTo().tell(StatusReply.error(CLOSING));
              return Behaviors.same();
            })
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  // ---- upstream to client

  private Behavior<Command> onInStarted(InStarted started) {
    if (started.gen() == gen && live) {
      started.ackTo().tell(InAck.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onInFrame(InFrame frame) {
    if (frame.gen() != gen || !live || closing) {
      return this;
    }
    Strict m = frame.message();
    String upstreamId =
        route.countsMessages()
            ? null
            : ReplayIds.extract(route.replayIdPointer(), m.payload(), m.text());
    getContext()
        .getLog()
        .debug("Upstream of session [{}] message [{}]", owner.sessionId(), upstreamId);
    awaitingJournal = true;
    pendingAck = frame.ackTo();
    owner.outputs().tell(new Received(m.payload(), upstreamId));
    return this;
  }

  private Behavior<Command> onJournaled(Journaled journaled) {
    getContext()
        .getLog()
        .debug(
            "Upstream of session [{}] journaled [{}]", owner.sessionId(), journaled.replayValue());
    replayValue = journaled.replayValue();
    awaitingJournal = false;
    if (pendingAck != null) {
      pendingAck.tell(InAck.INSTANCE); // the next upstream message may come
      pendingAck = null;
    }
    if (reconnectWhenJournaled && !closing) {
      reconnectWhenJournaled = false;
      connect();
    }
    return this;
  }

  private Behavior<Command> onInEnded(InEnded ended) {
    if (ended.gen() != gen || !live) {
      return this;
    }
    if (closing) {
      getContext().getLog().info("Upstream of session [{}] closed", owner.sessionId());
      return Behaviors.stopped();
    }
    Throwable failure = ended.failure();
    if (failure != null && tooLarge(failure)) {
      return lose("an upstream message exceeded max-message-size");
    }
    return dropped(
        failure == null
            ? "upstream closed the connection"
            : "upstream connection failed: " + failure.getMessage());
  }

  private static boolean tooLarge(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TooLarge || t instanceof StreamLimitReachedException) {
        return true;
      }
    }
    return false;
  }

  // ---- client to upstream

  private Behavior<Command> onSend(Send send) {
    if (closing) {
      send.replyTo().tell(StatusReply.error(CLOSING));
      return this;
    }
    boolean goesNow = phase == UpstreamStatus.Phase.UP && outReady && held.isEmpty();
    if (!goesNow && held.size() >= route.maxHeldMessages()) {
      send.replyTo().tell(StatusReply.error(HELD_FULL));
      return this;
    }
    boolean binary;
    switch (send.frameType()) {
      case "" -> binary = route.binaryFrames();
      case "text" -> binary = false;
      case "binary" -> binary = true;
      default -> {
        send.replyTo()
            .tell(StatusReply.error(INVALID_PREFIX + "Message.path must be \"\", text or binary"));
        return this;
      }
    }
    if (!binary && !send.payload().isValidUtf8()) {
      send.replyTo().tell(StatusReply.error(INVALID_PREFIX + "a text frame needs a UTF-8 body"));
      return this;
    }
    held.add(new Held(send.payload(), binary));
    send.replyTo().tell(StatusReply.ack());
    pump();
    return this;
  }

  private Behavior<Command> onOutReady(OutReady ready) {
    if (ready.gen() != gen || !live) {
      return this;
    }
    outReady = true;
    if (closing) {
      complete();
    } else {
      pump();
    }
    return this;
  }

  private void pump() {
    if (phase != UpstreamStatus.Phase.UP || !live || !outReady || held.isEmpty()) {
      return;
    }
    Held next = held.poll();
    Message message =
        next.binary()
            ? BinaryMessage.create(
                org.apache.pekko.util.ByteString.fromArray(next.payload().toByteArray()))
            : TextMessage.create(next.payload().toStringUtf8());
    outReady = false;
    outlet.tell(new OutMessage(message));
  }

  // ---- closing, timers

  private Behavior<Command> onShutdown() {
    closing = true;
    held.clear();
    if (phase != UpstreamStatus.Phase.UP || !live) {
      return Behaviors.stopped();
    }
    if (outReady) {
      complete();
    }
    timers.startSingleTimer(Tick.CLOSE_TIMEOUT, CLOSE_TIMEOUT);
    return this;
  }

  /** Completes the outbound side: Pekko HTTP sends a close frame and awaits the upstream's. */
  private void complete() {
    outReady = false;
    outlet.tell(OutComplete.INSTANCE);
  }

  private Behavior<Command> onTick(Tick tick) {
    switch (tick) {
      case RETRY -> {
        if (phase == UpstreamStatus.Phase.RECONNECTING && !closing) {
          connect();
        }
      }
      case WINDOW_OVER -> {
        if (phase != UpstreamStatus.Phase.UP && !closing) {
          return lose("upstream unreachable for " + route.retryWindow() + ": " + reason);
        }
      }
      case CLOSE_TIMEOUT -> {
        return Behaviors.stopped();
      }
    }
    return this;
  }

  private void report() {
    if (done) {
      return;
    }
    owner
        .outputs()
        .tell(
            new StatusChanged(
                new UpstreamStatus(
                    phase,
                    attempt,
                    phase == UpstreamStatus.Phase.RECONNECTING ? windowDeadlineMs : 0,
                    held.size(),
                    reason)));
  }
}
