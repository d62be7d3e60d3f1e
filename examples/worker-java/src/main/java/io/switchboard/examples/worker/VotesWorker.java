package io.switchboard.examples.worker;

import com.google.protobuf.ByteString;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.LifecycleEvent;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.Register;
import io.switchboard.protocol.v1.RoutePattern;
import io.switchboard.protocol.v1.WorkerFrame;
import io.switchboard.protocol.v1.WorkerReply;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend worker of a voting room, connected to one Switchboard node over gRPC, with no inbound
 * connectivity of its own. Through the Serve stream it registers
 *
 * <ul>
 *   <li>{@code GET /echo/:word}: answers the word back;
 *   <li>{@code POST /votes/:room}: the request body is the caller's choice; one vote per user;
 *   <li>{@code GET /votes/:room}: the room's tally;
 *   <li>{@code GET /delay/:ms}: answers after {@code ms} milliseconds (at most a minute), to try
 *       request timeouts;
 * </ul>
 *
 * <p>and the CONNECTED and DISCONNECTED lifecycle events (logged). Once a second it publishes the
 * tally of every room that changed to group {@code votes:<room>}, with an idempotency key, so a
 * retried publish is never counted twice. When its stream ends (the node restarts) it reconnects.
 *
 * <p>Usage: {@code VotesWorker [--host 127.0.0.1] [--port 8080] [--key KEY]}; the key defaults to
 * the environment variable SWITCHBOARD_API_KEY.
 */
public final class VotesWorker {
  private static final Logger log = LoggerFactory.getLogger(VotesWorker.class);
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String JSON = "application/json";

  private final ActorSystem<Void> system;
  private final GatewayClient gateway;
  private final String apiKey;
  private final Materializer materializer;
  private final Tallies tallies = new Tallies();

  private VotesWorker(ActorSystem<Void> system, GatewayClient gateway, String apiKey) {
    this.system = system;
    this.gateway = gateway;
    this.apiKey = apiKey;
    this.materializer = Materializer.matFromSystem(system);
  }

  /** Runs the worker until the JVM is stopped. */
  public static void main(String[] args) {
    String host = option(args, "--host", "127.0.0.1");
    int port = Integer.parseInt(option(args, "--port", "8080"));
    String key = option(args, "--key", System.getenv().getOrDefault("SWITCHBOARD_API_KEY", ""));
    if (key.isBlank()) {
      System.err.println("an API key is needed: --key KEY or SWITCHBOARD_API_KEY");
      System.exit(2);
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "votes-worker");
    GatewayClient gateway =
        GatewayClient.create(
            GrpcClientSettings.connectToServiceAt(host, port, system).withTls(false), system);
    VotesWorker worker = new VotesWorker(system, gateway, key);
    system
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            worker::publishTallies,
            system.executionContext());
    worker.serve(Duration.ofSeconds(1));
    log.info("Votes worker for the node at {}:{}", host, port);
  }

  /** Opens the Serve stream; opens it again after {@code backoff} when it ends. */
  private void serve(Duration backoff) {
    Pair<BoundedSourceQueue<WorkerFrame>, Source<WorkerFrame, NotUsed>> out =
        Source.<WorkerFrame>queue(1024).preMaterialize(materializer);
    BoundedSourceQueue<WorkerFrame> replies = out.first();
    replies.offer(
        WorkerFrame.newBuilder()
            .setRegister(
                Register.newBuilder()
                    .setName("votes-worker (Java example)")
                    .addRoutes(route("GET", "/echo/:word"))
                    .addRoutes(route("GET", "/votes/:room"))
                    .addRoutes(route("POST", "/votes/:room"))
                    .addRoutes(route("GET", "/delay/:ms"))
                    .addEvents(LifecycleEvent.Kind.CONNECTED)
                    .addEvents(LifecycleEvent.Kind.DISCONNECTED))
            .build());
    CompletionStage<Done> ended =
        gateway
            .serve()
            .addHeader("authorization", "Bearer " + apiKey)
            .invoke(out.second())
            .runWith(Sink.foreach(frame -> onFrame(frame, replies)), materializer);
    ended.whenComplete(
        (done, failure) -> {
          replies.complete();
          Duration next = failure == null ? Duration.ofSeconds(1) : backoff;
          log.warn(
              "Serve stream ended ({}); reconnecting in {} s",
              failure == null ? "closed by the node" : failure.getMessage(),
              next.toSeconds());
          system
              .scheduler()
              .scheduleOnce(
                  next,
                  () -> serve(min(next.multipliedBy(2), Duration.ofSeconds(10))),
                  system.executionContext());
        });
  }

  private void onFrame(GatewayFrame frame, BoundedSourceQueue<WorkerFrame> replies) {
    switch (frame.getKindCase()) {
      case REGISTERED ->
          log.info(
              "Registered as [{}] at node {}",
              frame.getRegistered().getWorkerId(),
              frame.getRegistered().getNode());
      case REQUEST -> {
        IncomingRequest request = frame.getRequest();
        if (request.getRoute().equals("/delay/:ms")) {
          delayed(request, replies);
        } else {
          replies.offer(answer(request));
        }
      }
      case EVENT ->
          log.info(
              "{} session [{}] of user [{}]",
              frame.getEvent().getKind(),
              frame.getEvent().getSessionId(),
              frame.getEvent().getUserId());
      default -> log.debug("Ignored {}", frame.getKindCase());
    }
  }

  private WorkerFrame answer(IncomingRequest request) {
    String room = request.getParamsOrDefault("room", "");
    return switch (request.getRoute()) {
      case "/echo/:word" -> reply(request, 200, TEXT, request.getParamsOrThrow("word"));
      case "/votes/:room" ->
          request.getMethod().equals("POST")
              ? vote(request, room)
              : reply(request, 200, JSON, Tallies.json(room, tallies.tally(room)));
      default -> reply(request, 404, TEXT, "no such route");
    };
  }

  /** Answers {@code GET /delay/:ms} after that many milliseconds (0 to 60 000). */
  private void delayed(IncomingRequest request, BoundedSourceQueue<WorkerFrame> replies) {
    long ms;
    try {
      ms = Long.parseLong(request.getParamsOrThrow("ms"));
    } catch (NumberFormatException e) {
      ms = -1;
    }
    if (ms < 0 || ms > 60_000) {
      replies.offer(reply(request, 400, TEXT, "the delay is 0 to 60000 milliseconds"));
      return;
    }
    system
        .scheduler()
        .scheduleOnce(
            Duration.ofMillis(ms),
            () ->
                replies.offer(
                    reply(request, 200, TEXT, "waited " + request.getParamsOrThrow("ms"))),
            system.executionContext());
  }

  private WorkerFrame vote(IncomingRequest request, String room) {
    String option = request.getBody().toStringUtf8().trim();
    if (option.isEmpty() || option.length() > 40) {
      return reply(request, 400, TEXT, "the body is your choice (1-40 characters)");
    }
    return reply(
        request, 200, JSON, Tallies.json(room, tallies.vote(room, request.getUserId(), option)));
  }

  /** Publishes the tally of every room that changed; each second's publish has its own key. */
  private void publishTallies() {
    long second = System.currentTimeMillis() / 1000;
    for (String room : tallies.drainChanged()) {
      String group = "votes:" + room;
      gateway
          .publish()
          .addHeader("authorization", "Bearer " + apiKey)
          .invoke(
              PublishRequest.newBuilder()
                  .setGroup(group)
                  .setPayload(ByteString.copyFromUtf8(Tallies.json(room, tallies.tally(room))))
                  .setIdempotencyKey(group + "@" + second)
                  .build())
          .whenComplete(
              (published, failure) -> {
                if (failure != null) {
                  log.warn("Tally of [{}] not published: {}", room, failure.getMessage());
                }
              });
    }
  }

  private static WorkerFrame reply(
      IncomingRequest request, int status, String contentType, String body) {
    return WorkerFrame.newBuilder()
        .setReply(
            WorkerReply.newBuilder()
                .setRequestId(request.getRequestId())
                .setStatus(status)
                .putAllHeaders(Map.of("content-type", contentType))
                .setBody(ByteString.copyFromUtf8(body)))
        .build();
  }

  private static RoutePattern route(String method, String path) {
    return RoutePattern.newBuilder().setMethod(method).setPath(path).build();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
