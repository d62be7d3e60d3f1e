package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Connection storm: ramps to {@code connections} WebSocket clients (each its own user, Connect →
 * Connected) over {@code rampSeconds}, holds them idle for {@code holdSeconds} (answering the
 * node's pings) and closes them. Halfway through the hold, the node's heap after a full GC and its
 * RSS are compared with the same before any connection: memory per idle connection.
 */
public class ConnectionStormSimulation extends Simulation {
  private final int connections = Params.integer("connections", 5000);
  private final Duration ramp = Params.seconds("rampSeconds", Math.max(10, connections / 200.0));
  private final Duration hold = Params.seconds("holdSeconds", 30);
  private final LocalTarget target = LocalTarget.start(Params.integer("nodes", 1), false);
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private volatile long holdEnd = Long.MAX_VALUE;
  private volatile long heapBefore;
  private volatile long rssBefore;
  private volatile long heapHeld = -1;
  private volatile long rssHeld = -1;
  private volatile double connectedHeld = -1;

  public ConnectionStormSimulation() {
    ScenarioBuilder clients =
        scenario("idle clients")
            .exec(Chains.newClient("storm-"))
            .exec(Chains.connect(target, s -> (int) s.userId()))
            .exitHereIfFailed()
            .exec(Chains.listenUntil(s -> holdEnd, false))
            .exec(Chains.ws("close").close());
    setUp(clients.injectOpen(rampUsers(connections).during(ramp)))
        .protocols(Chains.protocol())
        .assertions(details("connected").failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    heapBefore = target.heapUsedAfterGc(0);
    rssBefore = target.rssBytes(0);
    long now = System.currentTimeMillis();
    holdEnd = now + ramp.plus(hold).toMillis();
    timer.schedule(
        () -> {
          connectedHeld = target.baseline ? -1 : target.metric(0, "switchboard_connections");
          heapHeld = target.heapUsedAfterGc(0);
          rssHeld = target.rssBytes(0);
        },
        ramp.plus(hold.dividedBy(2)).toMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void after() {
    timer.shutdownNow();
    boolean baseline = target.baseline;
    target.close();
    long perConnectionHeap = heapHeld < 0 ? -1 : (heapHeld - heapBefore) / connections;
    long perConnectionRss = rssHeld < 0 ? -1 : (rssHeld - rssBefore) / connections;
    new Report("connection-storm")
        .put("heapPerConnection", perConnectionHeap)
        .write(
            String.format(
                "target=%s connections=%d ramp=%ds hold=%ds | node reported %.0f connections"
                    + " | heap after GC %d -> %d MiB: %d bytes per idle connection | RSS %d -> %d"
                    + " MiB: %d bytes per connection",
                baseline ? "baseline" : "switchboard",
                connections,
                ramp.toSeconds(),
                hold.toSeconds(),
                connectedHeld,
                heapBefore >> 20,
                heapHeld >> 20,
                perConnectionHeap,
                rssBefore >> 20,
                rssHeld >> 20,
                perConnectionRss));
  }
}
