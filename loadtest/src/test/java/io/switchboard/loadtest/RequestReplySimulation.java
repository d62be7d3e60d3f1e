package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpDsl;
import java.time.Duration;

/**
 * Request/reply through a Serve worker: the example worker ({@code examples/worker-java}, its own
 * JVM, one gRPC Serve stream) answers {@code GET /echo/:word}; {@code clients} WebSocket clients
 * each keep one {@code Request} in flight for {@code durationSeconds} (browser → node → worker →
 * node → browser). Gatling's "reply" timings are the round trips.
 */
public class RequestReplySimulation extends Simulation {
  private final int clients = Params.integer("clients", 64);
  private final Duration duration = Params.seconds("durationSeconds", 30);
  private final LocalTarget target = LocalTarget.start(Params.integer("nodes", 1), true);
  private final Histogram roundTrips = new Histogram();
  private volatile long startedAt;

  public RequestReplySimulation() {
    ScenarioBuilder browsers =
        scenario("requesting clients")
            .exec(Chains.newClient("rr-"))
            .exec(s -> s.set("rid0", 100L))
            .exec(Chains.connect(target, s -> (int) s.userId()))
            .exec(
                during(duration)
                    .on(
                        exec(s -> {
                              long next = s.getLong("rid0") + 1;
                              return s.set("rid0", next)
                                  .set("rid", Long.toString(next))
                                  .set("sentAt", System.nanoTime());
                            })
                            .exec(
                                Chains.ws("request")
                                    .sendText(
                                        s ->
                                            Frames.request(
                                                Long.parseLong(s.getString("rid")),
                                                "GET",
                                                "/echo/hello"))
                                    .await(Chains.AWAIT)
                                    .on(
                                        HttpDsl.ws
                                            .checkTextMessage("reply")
                                            .matching(jsonPath("$.id").isEL("#{rid}"))
                                            .check(jsonPath("$.reply.status").is("200"))))
                            // a refused request or a closed socket ends this client: no spinning
                            .exitHereIfFailed()
                            .exec(
                                s -> {
                                  if (!s.isFailed()) {
                                    roundTrips.record(
                                        (System.nanoTime() - s.getLong("sentAt")) / 1_000_000);
                                  }
                                  return s;
                                })))
            .exec(Chains.ws("close").close());
    setUp(browsers.injectOpen(rampUsers(clients).during(Duration.ofSeconds(2))))
        .protocols(Chains.protocol())
        .assertions(
            io.gatling.javaapi.core.CoreDsl.details("reply").failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    startedAt = System.currentTimeMillis();
  }

  @Override
  public void after() {
    target.close();
    double seconds = duration.toMillis() / 1000.0;
    new Report("request-reply")
        .write(
            String.format(
                "clients=%d duration=%ds through 1 Serve worker | %.0f replies/s | round trip %s",
                clients,
                duration.toSeconds(),
                roundTrips.count() / seconds,
                roundTrips.describe()));
  }
}
