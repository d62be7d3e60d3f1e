package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Long-poll clients, written to the long-poll contract (v1: {@code POST /lp/open}, {@code
 * /lp/send}, {@code /lp/poll} with FrameBatch JSON bodies): {@code clients} clients in {@code
 * groups} groups open a session, join through {@code send}, and poll with their cursors (which are
 * their acks) while a backend publishes at {@code rate} per second for {@code durationSeconds};
 * each checks by offsets that it got every acknowledged publication. Polls go to any node in turn
 * (no stickiness, as the contract allows). Latency is publish → poll answer received.
 */
public class LongPollSimulation extends Simulation {
  private final int clients = Params.integer("clients", 200);
  private final int groups = Params.integer("groups", 10);
  private final double rate = Params.decimal("rate", 20);
  private final Duration duration = Params.seconds("durationSeconds", 30);
  private final Duration ramp = Params.seconds("rampSeconds", Math.max(5, clients / 100.0));
  private final Duration settle = Params.seconds("settleSeconds", 3);
  private final int waitMs = Params.integer("pollWaitMs", 10_000);
  private final LocalTarget target = LocalTarget.start(Params.integer("nodes", 1), false);
  private final List<String> groupNames = new ArrayList<>();
  private volatile long publishEnd = Long.MAX_VALUE;

  public LongPollSimulation() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    for (int g = 0; g < groups; g++) {
      groupNames.add("longpoll-" + run + "-" + g);
    }
    ScenarioBuilder pollers =
        scenario("long-poll clients")
            .exec(Chains.newClient("lp-"))
            .exec(s -> s.set("group", groupNames.get((int) (s.userId() % groups))).set("turn", 0))
            .exec(
                call("open", "/lp/open", s -> "{\"frames\":[" + Frames.connect(1) + "]}")
                    .header("authorization", s -> "Bearer " + target.tokens.token(user(s)))
                    .check(
                        jsonPath("$.frames[0].connected.sessionId").exists(),
                        bodyString().saveAs("body")))
            .exec(
                s -> {
                  Chains.client(s).connected(s.getString("body"));
                  return s;
                })
            .exec(
                call("join", "/lp/send", s -> send(s, Frames.join(2, s.getString("group"))))
                    .check(jsonPath("$.frames[0].joined").exists(), bodyString().saveAs("body")))
            .exec(
                s -> {
                  Chains.client(s).joined(s.getString("group"), s.getString("body"));
                  return s;
                })
            .exitHereIfFailed()
            .exec(asLongAs(s -> System.currentTimeMillis() < publishEnd).on(poll()))
            .exec(s -> s.set("catchUpUntil", System.currentTimeMillis() + 30_000))
            .exec(
                asLongAs(
                        s ->
                            !Chains.client(s).caughtUp()
                                && System.currentTimeMillis() < s.getLong("catchUpUntil"))
                    .on(poll()))
            .exec(
                call("verify", "/lp/send", s -> send(s, Frames.ping(9)))
                    .check(
                        bodyString()
                            .transformWithSession((body, s) -> Chains.client(s).verdict())
                            .is("ok")
                            .name(Chains.VERIFIED)))
            .exec(call("close", "/lp/send", s -> send(s, "{\"close\":{}}")));
    ScenarioBuilder publishers =
        scenario("publishers")
            .exec(Chains.publish(target, groupNames, n -> (int) (n % target.nodeCount()), 100));
    setUp(
            pollers.injectOpen(rampUsers(clients).during(ramp)),
            publishers.injectOpen(
                nothingFor(ramp.plus(settle)), constantUsersPerSec(rate).during(duration)))
        .protocols(Chains.protocol())
        .assertions(
            details("verify").failedRequests().count().is(0L),
            details("poll").failedRequests().count().is(0L));
  }

  private String user(Session s) {
    return Chains.client(s).user;
  }

  /** One poll to the next node in turn; its deliveries are read at once. */
  private ChainBuilder poll() {
    return exec(call(
                "poll",
                "/lp/poll",
                s -> {
                  ClientState c = Chains.client(s);
                  return "{\"sessionId\":\""
                      + c.sessionId
                      + "\",\"resumeToken\":\""
                      + c.resumeToken
                      + "\",\"cursors\":"
                      + Frames.cursors(c.cursors())
                      + ",\"waitMs\":"
                      + waitMs
                      + "}";
                })
            .check(bodyString().saveAs("body")))
        .exec(
            s -> {
              Chains.client(s).onBatch(s.getString("body"), System.currentTimeMillis());
              return s.set("turn", s.getInt("turn") + 1).remove("body");
            });
  }

  private static String send(Session s, String frame) {
    ClientState c = Chains.client(s);
    return "{\"sessionId\":\""
        + c.sessionId
        + "\",\"resumeToken\":\""
        + c.resumeToken
        + "\",\"frames\":["
        + frame
        + "]}";
  }

  private HttpRequestActionBuilder call(
      String name, String path, java.util.function.Function<Session, String> body) {
    return http(name)
        .post(s -> target.httpUrl((int) (s.userId() + s.getInt("turn"))) + path)
        .header("content-type", "application/json")
        .body(StringBody(body))
        .check(status().is(200));
  }

  @Override
  public void before() {
    long start = System.currentTimeMillis() + ramp.plus(settle).toMillis();
    Deliveries.step(Double.toString(rate), start, start + duration.toMillis());
    publishEnd = start + duration.toMillis() + 1000;
  }

  @Override
  public void after() {
    int nodes = target.nodeCount();
    target.close();
    Deliveries.Step step = Deliveries.steps().get(0);
    new Report("long-poll")
        .write(
            String.format(
                "nodes=%d clients=%d groups=%d rate=%.0f/s | delivered %.0f/s, publish->poll"
                    + " answer %s | gaps %d, duplicates dropped %d, errors %d, publishes"
                    + " acknowledged %d refused %d",
                nodes,
                clients,
                groups,
                rate,
                step.count().sum() / step.seconds(),
                step.latency().describe(),
                ClientState.GAPS.sum(),
                ClientState.DUPLICATES.sum(),
                ClientState.ERRORS.sum(),
                Published.ACKNOWLEDGED.sum(),
                Published.REFUSED.sum()));
  }
}
