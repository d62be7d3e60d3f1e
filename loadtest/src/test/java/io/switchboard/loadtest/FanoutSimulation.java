package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * Fan-out: {@code groups} × {@code members} WebSocket subscribers (spread over the nodes), then a
 * backend publishing through {@code POST /api/Publish} at each rate of {@code rates} (publishes per
 * second over all groups) for {@code stepSeconds}. Every subscriber checks by offsets that it got
 * every acknowledged publication of its group; publish→delivery latency and delivered rate are
 * measured per step. {@code -Dloadtest.target=baseline} runs the same against the bare broadcast
 * server.
 */
public class FanoutSimulation extends Simulation {
  private final int groups = Params.integer("groups", 10);
  private final int members = Params.integer("members", 100);
  private final double[] rates = Params.decimals("rates", "10,20,50");
  private final Duration step = Params.seconds("stepSeconds", 10);
  private final Duration ramp = Params.seconds("rampSeconds", Math.max(5, groups * members / 400));
  private final Duration settle = Params.seconds("settleSeconds", 3);
  private final int payloadSize = Params.integer("payloadSize", 100);
  private final LocalTarget target = LocalTarget.start(Params.integer("nodes", 1), false);
  private final List<String> groupNames = new ArrayList<>();
  private volatile long publishEnd;

  public FanoutSimulation() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    for (int g = 0; g < groups; g++) {
      groupNames.add("fanout-" + run + "-" + g);
    }
    ScenarioBuilder subscribers =
        scenario("subscribers")
            .exec(Chains.newClient("sub-"))
            .exec(s -> s.set("group", groupNames.get((int) (s.userId() % groups))))
            .exec(Chains.connect(target, s -> (int) s.userId()))
            .exitHereIfFailed()
            .exec(Chains.join())
            .exitHereIfFailed()
            .exec(Chains.listenUntil(s -> publishEnd, true))
            .exec(Chains.verify())
            .exec(Chains.ws("close").close());
    ScenarioBuilder publishers =
        scenario("publishers")
            .exec(
                Chains.publish(
                    target, groupNames, n -> (int) (n % target.nodeCount()), payloadSize));
    List<OpenInjectionStep> publishing = new ArrayList<>();
    publishing.add(nothingFor(ramp.plus(settle)));
    for (double rate : rates) {
      publishing.add(constantUsersPerSec(rate).during(step));
    }
    setUp(
            subscribers.injectOpen(rampUsers(groups * members).during(ramp)),
            publishers.injectOpen(publishing))
        .protocols(Chains.protocol())
        .assertions(
            details(Chains.VERIFIED).failedRequests().count().is(0L),
            global().failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    long start = System.currentTimeMillis() + ramp.plus(settle).toMillis();
    for (double rate : rates) {
      Deliveries.step(Double.toString(rate), start, start + step.toMillis());
      start += step.toMillis();
    }
    publishEnd = start + 1000;
  }

  @Override
  public void after() {
    Report report = new Report("fanout");
    Properties earlier = Report.earlier();
    StringBuilder line =
        new StringBuilder(
            String.format(
                "target=%s nodes=%d subscribers=%dx%d |",
                target.baseline ? "baseline" : "switchboard", target.nodeCount(), groups, members));
    int i = 0;
    for (Deliveries.Step s : Deliveries.steps()) {
      double offered = Double.parseDouble(s.name()) * members;
      double delivered = s.count().sum() / s.seconds();
      long p50 = s.latency().percentile(50);
      long p99 = s.latency().percentile(99);
      report.put("step." + i + ".offered", offered).put("step." + i + ".delivered", delivered);
      report.put("step." + i + ".p50", p50).put("step." + i + ".p99", p99);
      line.append(
          String.format(
              " offered %.0f/s: delivered %.0f/s p50 %d ms p99 %d ms",
              offered, delivered, p50, p99));
      String base = earlier.getProperty("step." + i + ".delivered");
      if (base != null) {
        line.append(
            String.format(
                " (vs baseline: %.2fx rate, p99 %s ms)",
                delivered / Math.max(1e-9, Double.parseDouble(base)),
                earlier.getProperty("step." + i + ".p99")));
      }
      line.append(" |");
      i++;
    }
    line.append(
        String.format(
            " publishes acknowledged %d refused %d | received %d, gaps %d, duplicates dropped %d",
            Published.ACKNOWLEDGED.sum(),
            Published.REFUSED.sum(),
            Deliveries.RECEIVED.sum(),
            ClientState.GAPS.sum(),
            ClientState.DUPLICATES.sum()));
    target.close();
    report.write(line.toString());
  }
}
