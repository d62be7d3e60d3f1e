package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.exitHereIfFailed;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpDsl;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.Ws;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The steps of a Switchboard client and of a backend publisher, shared by the simulations. A
 * client's state lives in its session ({@link ClientState} under {@code "client"}), its WebSocket
 * under the name in {@code "ws"} (a reconnect uses a new name).
 */
final class Chains {
  static final Duration AWAIT = Duration.ofSeconds(Params.integer("awaitSeconds", 15));

  /** The check every client passes at the end when it has every message, in order. */
  static final String VERIFIED = "every message, in order (by offsets)";

  private static final Duration TICK = Duration.ofMillis(Params.integer("tickMillis", 1000));

  private Chains() {}

  /** HTTP and WebSocket settings: nothing leaves loopback, node pings are answered. */
  static HttpProtocolBuilder protocol() {
    return http.disableWarmUp()
        .shareConnections()
        .disableCaching()
        .wsUnmatchedInboundMessageBufferSize(Params.integer("bufferedFrames", 1_000_000))
        .wsAutoReplyTextFrame(Frames::autoPong);
  }

  static ClientState client(Session session) {
    return (ClientState) session.get("client");
  }

  static Ws ws(String requestName) {
    return HttpDsl.ws(requestName).wsName(s -> s.getString("ws"));
  }

  /** A new client {@code <prefix><user id>} and its first WebSocket name. */
  static ChainBuilder newClient(String prefix) {
    return exec(s -> s.set("client", new ClientState(prefix + s.userId())).set("ws", "ws0"));
  }

  /** Opens a WebSocket to the node {@code node} chooses and sends Connect; Connected is read. */
  static ChainBuilder connect(LocalTarget target, Function<Session, Integer> node) {
    return exec(ws("open")
            .connect(s -> target.wsUrl(node.apply(s)) + target.wsPath(client(s).user))
            .subprotocol(Frames.SUBPROTOCOL))
        .exec(
            ws("connect")
                .sendText(Frames.connect(1))
                .await(AWAIT)
                .on(
                    HttpDsl.ws
                        .checkTextMessage("connected")
                        .matching(jsonPath("$.id").is("1"))
                        .check(
                            jsonPath("$.connected.sessionId").exists(),
                            bodyString().saveAs("frame"))))
        .exec(
            s -> {
              client(s).connected(s.getString("frame"));
              return s;
            });
  }

  /** Joins the group in {@code "group"}; the stream starts after the head Joined reports. */
  static ChainBuilder join() {
    return exec(ws("join")
            .sendText(s -> Frames.join(2, s.getString("group")))
            .await(AWAIT)
            .on(
                HttpDsl.ws
                    .checkTextMessage("joined")
                    .matching(jsonPath("$.id").is("2"))
                    .check(jsonPath("$.joined").exists(), bodyString().saveAs("frame"))))
        .exec(
            s -> {
              client(s).joined(s.getString("group"), s.getString("frame"));
              return s;
            });
  }

  /** Reads the frames received since the last time. */
  static ChainBuilder drain() {
    return exec(
        HttpDsl.ws.processUnmatchedMessages(
            s -> s.getString("ws"),
            (messages, s) -> {
              client(s).onMessages(messages);
              return s;
            }));
  }

  /**
   * Reads deliveries every tick, acking at most once a second, until the time {@code until} gives.
   */
  static ChainBuilder listenUntil(ToLongFunction<Session> until, boolean ack) {
    return asLongAs(s -> System.currentTimeMillis() < until.applyAsLong(s))
        .on(
            pause(TICK),
            drain(),
            doIf(s -> ack && client(s).ackDue(System.currentTimeMillis()))
                .then(exec(ws("ack").sendText(s -> Frames.ack(client(s).cursors())))),
            // a socket that went away ends this client (its loss is already a KO)
            exitHereIfFailed());
  }

  /**
   * Waits (up to {@code loadtest.catchUpSeconds}) until every stream reached what the publishers
   * got acknowledged, then checks it by offsets: the request "verify: every message" fails when
   * anything is missing or short.
   */
  static ChainBuilder verify() {
    long limit = Params.integer("catchUpSeconds", 30) * 1000L;
    return exec(s -> s.set("catchUpUntil", System.currentTimeMillis() + limit))
        .exec(drain())
        .asLongAs(
            s ->
                !(Published.settled() && client(s).caughtUp())
                    && System.currentTimeMillis() < s.getLong("catchUpUntil"))
        .on(pause(Duration.ofMillis(200)), drain())
        .exec(
            ws("verify")
                .sendText(Frames.ping(9))
                .await(AWAIT)
                .on(
                    HttpDsl.ws
                        .checkTextMessage(VERIFIED)
                        .matching(jsonPath("$.id").is("9"))
                        .check(
                            bodyString()
                                .transformWithSession((body, s) -> client(s).verdict())
                                .is("ok"))));
  }

  /**
   * One backend publish through the HTTP/JSON API to the next group in turn, with the send time in
   * its payload; the acknowledged offset is recorded (refusals are not expected anywhere).
   */
  static ChainBuilder publish(
      LocalTarget target, List<String> groups, Function<Long, Integer> node, int payloadSize) {
    AtomicLong turn = new AtomicLong();
    return exec(s -> {
          long n = turn.getAndIncrement();
          Published.sent();
          return s.set("group", groups.get((int) (n % groups.size()))).set("node", node.apply(n));
        })
        .exec(
            http("publish")
                .post(s -> target.httpUrl(s.getInt("node")) + "/api/Publish")
                .header("authorization", "Bearer " + target.apiKey)
                .header("content-type", "application/json")
                .body(
                    io.gatling.javaapi.core.CoreDsl.StringBody(
                        s ->
                            Frames.publishBody(
                                s.getString("group"), System.currentTimeMillis(), payloadSize)))
                .check(status().is(200), jsonPath("$.offset").saveAs("offset")))
        .exec(
            s -> {
              if (s.contains("offset")) {
                Published.acknowledged(s.getString("group"), Long.parseLong(s.getString("offset")));
              } else {
                Published.REFUSED.increment();
              }
              Published.answered();
              return s;
            });
  }
}
