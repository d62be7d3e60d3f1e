package io.switchboard.loadtest.baseline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A WebSocket broadcast server with no persistence: {@code /ws} (subprotocol {@code
 * switchboard.v1.json}) answers {@code connect}, {@code join} and {@code ping} frames and ignores
 * acks; {@code POST /api/Publish} with {@code {"group","payload"}} numbers the message in memory
 * and queues one encoded {@code delivery} frame to every member's socket (1024 frames each; a
 * socket that falls further behind is closed). No auth, no replay, no cluster.
 *
 * <p>Usage: {@code BroadcastServer <port>}; prints {@code BASELINE READY <port>} once bound.
 */
public final class BroadcastServer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SUBPROTOCOL = "switchboard.v1.json";
  private static final int OUTBOUND_BUFFER = 1024;

  private final Map<String, Group> groups = new ConcurrentHashMap<>();
  private final AtomicLong sessions = new AtomicLong();
  private final Materializer materializer;

  /** Members and the last offset of one group. */
  private static final class Group {
    final Set<BoundedSourceQueue<Message>> members = ConcurrentHashMap.newKeySet();
    long offset;
  }

  private BroadcastServer(Materializer materializer) {
    this.materializer = materializer;
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args.length > 0 ? args[0] : "8090");
    // Only Pekko's own defaults: the node's application.conf is on this classpath too.
    ActorSystem system =
        ActorSystem.create(
            "baseline",
            ConfigFactory.parseString(
                    "pekko.loglevel = WARNING\n"
                        + "pekko.http.server.max-connections = 100000\n"
                        + "pekko.http.server.idle-timeout = infinite\n"
                        + "pekko.http.server.socket-options.tcp-no-delay = on\n")
                .withFallback(ConfigFactory.defaultReference()));
    BroadcastServer server = new BroadcastServer(Materializer.matFromSystem(system));
    ServerBinding binding =
        Http.get(system)
            .newServerAt("127.0.0.1", port)
            .bind(server.routes())
            .toCompletableFuture()
            .get();
    System.out.println("BASELINE READY " + binding.localAddress().getPort());
    Runtime.getRuntime().addShutdownHook(new Thread(system::terminate));
  }

  private Route routes() {
    return Directives.concat(
        Directives.path(
            "ws", () -> Directives.handleWebSocketMessagesForProtocol(socket(), SUBPROTOCOL)),
        Directives.path(
            org.apache.pekko.http.javadsl.server.PathMatchers.segment("api").slash("Publish"),
            () ->
                Directives.post(
                    () ->
                        Directives.entity(
                            Unmarshaller.entityToString(),
                            body -> Directives.completeWithFuture(publish(body))))),
        Directives.pathSingleSlash(() -> Directives.complete("baseline")));
  }

  private CompletionStage<org.apache.pekko.http.javadsl.model.HttpResponse> publish(String body) {
    org.apache.pekko.http.javadsl.model.HttpResponse response;
    try {
      JsonNode request = JSON.readTree(body);
      String name = request.path("group").asText();
      Group group = groups.computeIfAbsent(name, g -> new Group());
      long offset;
      synchronized (group) {
        offset = ++group.offset;
        ObjectNode delivery = JSON.createObjectNode();
        delivery
            .putObject("delivery")
            .put("stream", name)
            .put("offset", Long.toString(offset))
            .put("payload", request.path("payload").asText())
            .put("timestampMs", Long.toString(System.currentTimeMillis()));
        Message frame = TextMessage.create(JSON.writeValueAsString(delivery));
        for (BoundedSourceQueue<Message> member : group.members) {
          if (member.offer(frame) != QueueOfferResult.enqueued()) {
            group.members.remove(member);
            member.complete(); // a slow consumer is disconnected
          }
        }
      }
      response =
          org.apache.pekko.http.javadsl.model.HttpResponse.create()
              .withEntity(
                  HttpEntities.create(
                      ContentTypes.APPLICATION_JSON,
                      "{\"group\":\"" + name + "\",\"offset\":\"" + offset + "\"}"));
    } catch (Exception e) {
      response =
          org.apache.pekko.http.javadsl.model.HttpResponse.create()
              .withStatus(StatusCodes.BAD_REQUEST)
              .withEntity(e.toString());
    }
    return CompletableFuture.completedFuture(response);
  }

  private Flow<Message, Message, NotUsed> socket() {
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> out =
        Source.<Message>queue(OUTBOUND_BUFFER).preMaterialize(materializer);
    BoundedSourceQueue<Message> queue = out.first();
    Set<Group> joined = ConcurrentHashMap.newKeySet();
    Sink<Message, ?> in =
        Flow.<Message>create()
            .mapAsync(1, message -> text(message))
            .to(
                Sink.<String>foreach(text -> handle(text, queue, joined))
                    .mapMaterializedValue(
                        done ->
                            done.whenComplete(
                                (d, e) -> {
                                  joined.forEach(g -> g.members.remove(queue));
                                  queue.complete();
                                })));
    return Flow.fromSinkAndSourceCoupled(in, out.second());
  }

  private CompletionStage<String> text(Message message) {
    if (!message.isText()) {
      message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
      return CompletableFuture.completedFuture("");
    }
    TextMessage text = message.asTextMessage();
    return text.isStrict()
        ? CompletableFuture.completedFuture(text.getStrictText())
        : text.toStrict(Duration.ofSeconds(5).toMillis(), materializer)
            .thenApply(TextMessage::getStrictText);
  }

  private void handle(String text, BoundedSourceQueue<Message> queue, Set<Group> joined) {
    if (text.isEmpty()) {
      return;
    }
    try {
      JsonNode frame = JSON.readTree(text);
      String id = frame.path("id").asText("0");
      ObjectNode reply = JSON.createObjectNode().put("id", id);
      if (frame.has("connect") || frame.has("resume")) {
        reply
            .putObject("connected")
            .put("sessionId", "baseline-" + sessions.incrementAndGet())
            .put("resumeToken", "none")
            .put("userId", "anonymous")
            .put("pingIntervalMs", 10000);
      } else if (frame.has("join")) {
        String name = frame.path("join").path("group").asText();
        Group group = groups.computeIfAbsent(name, g -> new Group());
        synchronized (group) {
          group.members.add(queue);
          joined.add(group);
          reply.putObject("joined").put("group", name).put("head", Long.toString(group.offset));
        }
      } else if (frame.has("ping")) {
        reply.putObject("pong");
      } else if (frame.has("ack") || frame.has("pong")) {
        return;
      } else {
        reply.putObject("error").put("code", "UNKNOWN_FRAME").put("message", "not in baseline");
      }
      queue.offer(TextMessage.create(JSON.writeValueAsString(reply)));
    } catch (Exception e) {
      queue.offer(TextMessage.create("{\"error\":{\"code\":\"BAD_FRAME\"}}"));
    }
  }
}
