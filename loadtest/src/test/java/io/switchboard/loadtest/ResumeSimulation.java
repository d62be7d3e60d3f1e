package io.switchboard.loadtest;

import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.regex;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpDsl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Reconnect storm: {@code clients} WebSocket clients in {@code groups} groups receive what a
 * backend publishes at {@code rate} per second (over all groups); at the cut, a share ({@code
 * dropShare}) of them lose their connection for {@code offlineSeconds} while publishing goes on,
 * then reconnect and {@code Resume} with their cursors. Each measures the time from reconnecting
 * until the Recovery of its group (everything it missed was replayed) and finally checks by offsets
 * that it missed nothing. With {@code kill=true} (two nodes or more) the clients are all on node 1,
 * which is killed (SIGKILL) at the cut instead; they resume on node 0, retrying until it answers.
 */
public class ResumeSimulation extends Simulation {
  private final int clients = Params.integer("clients", 1000);
  private final int groups = Params.integer("groups", 10);
  private final double rate = Params.decimal("rate", 100);
  private final double dropShare = Params.decimal("dropShare", 1.0);
  private final boolean kill = Params.flag("kill", false);
  private final Duration ramp = Params.seconds("rampSeconds", Math.max(5, clients / 100.0));
  private final Duration settle = Params.seconds("settleSeconds", 3);
  private final Duration before = Params.seconds("cutAfterSeconds", 5);
  private final Duration offline = Params.seconds("offlineSeconds", 5);
  private final Duration after = Params.seconds("afterSeconds", 5);
  private final int attempts = Params.integer("resumeAttempts", 30);
  private final LocalTarget target =
      LocalTarget.start(Params.integer("nodes", kill ? 2 : 1), false);
  private final List<String> groupNames = new ArrayList<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final Histogram catchUp = new Histogram();
  private volatile long cutAt = Long.MAX_VALUE;
  private volatile long reconnectAt = Long.MAX_VALUE;
  private volatile long publishEnd = Long.MAX_VALUE;
  private volatile long publishedBeforeCut;
  private volatile long publishedOffline;

  public ResumeSimulation() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    for (int g = 0; g < groups; g++) {
      groupNames.add("resume-" + run + "-" + g);
    }
    int firstNode = kill ? 1 : 0;
    ScenarioBuilder subscribers =
        scenario("resuming clients")
            .exec(Chains.newClient("res-"))
            .exec(
                s ->
                    s.set("group", groupNames.get((int) (s.userId() % groups)))
                        .set("drops", (s.userId() % 1000) < dropShare * 1000))
            .exec(Chains.connect(target, s -> kill ? firstNode : (int) s.userId()))
            .exec(Chains.join())
            .exitHereIfFailed()
            .exec(Chains.listenUntil(s -> cutAt - (kill ? 500 : 0), true))
            .doIfOrElse(s -> s.getBoolean("drops"))
            .then(cutAndResume())
            .orElse(exec(Chains.listenUntil(s -> reconnectAt, true)))
            .exec(Chains.listenUntil(s -> publishEnd, true))
            .exec(Chains.verify())
            .exec(Chains.ws("close").close());
    ScenarioBuilder publishers =
        scenario("publishers").exec(Chains.publish(target, groupNames, n -> 0, 100));
    Duration publishing = before.plus(offline).plus(after);
    setUp(
            subscribers.injectOpen(rampUsers(clients).during(ramp)),
            publishers.injectOpen(
                nothingFor(ramp.plus(settle)), constantUsersPerSec(rate).during(publishing)))
        .protocols(Chains.protocol())
        .assertions(
            details(Chains.VERIFIED).failedRequests().count().is(0L),
            details("resume → recovered")
                .responseTime()
                .percentile(95)
                .lt(Params.integer("resumeP95Millis", 500)),
            details("resume → recovered").failedRequests().count().is(0L));
  }

  /**
   * Drops the connection (or loses it with the node), waits, resumes until Connected; then reads
   * until the Recovery frame of its group (everything missed was replayed before it). The group
   * "resume → recovered" times it in Gatling's report; the summary uses the frames' arrival times.
   * Nothing awaits a check while the replay arrives: Gatling drops frames that arrive while a check
   * waits for another one.
   */
  private ChainBuilder cutAndResume() {
    int resumeNode = 0;
    long recoveryLimit = Chains.AWAIT.toMillis();
    ChainBuilder attempt =
        exec(s -> s.set("ws", "ws" + (s.getInt("attempt") + 1)).remove("frame"))
            .exec(
                Chains.ws("reconnect")
                    .connect(
                        s ->
                            target.wsUrl(kill ? resumeNode : (int) s.userId())
                                + target.wsPath(Chains.client(s).user))
                    .subprotocol(Frames.SUBPROTOCOL))
            .exec(
                Chains.ws("resume")
                    .sendText(
                        s -> {
                          ClientState c = Chains.client(s);
                          c.recoveredAt = 0;
                          return Frames.resume(3, c.sessionId, c.resumeToken, c.cursors());
                        })
                    .await(Chains.AWAIT)
                    .on(
                        HttpDsl.ws
                            .checkTextMessage("resumed")
                            .matching(regex("^\\{\"id\":\"3\",").exists())
                            .check(bodyString().saveAs("frame"))))
            .exec(s -> s.set("waitUntil", System.currentTimeMillis() + recoveryLimit))
            .asLongAs(
                s ->
                    s.contains("frame")
                        && s.getString("frame").contains("\"connected\"")
                        && Chains.client(s).recoveredAt == 0
                        && System.currentTimeMillis() < s.getLong("waitUntil"))
            .on(pause(Duration.ofMillis(20)), Chains.drain())
            .exec(
                s -> {
                  ClientState c = Chains.client(s);
                  if (c.recoveredAt > 0) {
                    catchUp.record(c.recoveredAt - s.getLong("resumeStart"));
                    return s.set("recovered", true);
                  }
                  return s.set("attempt", s.getInt("attempt") + 1);
                })
            .doIf(s -> !s.getBoolean("recovered"))
            .then(
                exec(Chains.ws("close failed attempt").close())
                    .exec(pause(Duration.ofMillis(500))));
    return exec(Chains.drain())
        .doIf(s -> !kill)
        .then(exec(Chains.ws("drop").close()))
        .pause(s -> Duration.ofMillis(Math.max(0, reconnectAt - System.currentTimeMillis())))
        .exec(
            s ->
                s.set("resumeStart", System.currentTimeMillis())
                    .set("attempt", 0)
                    .set("recovered", false))
        .group("resume → recovered")
        .on(asLongAs(s -> !s.getBoolean("recovered") && s.getInt("attempt") < attempts).on(attempt))
        .exec(Chains.drain());
  }

  @Override
  public void before() {
    long now = System.currentTimeMillis();
    long joinedBy = now + ramp.plus(settle).toMillis();
    cutAt = joinedBy + before.toMillis();
    reconnectAt = cutAt + offline.toMillis();
    publishEnd = reconnectAt + after.toMillis() + 1000;
    timer.schedule(
        () -> {
          publishedBeforeCut = Published.ACKNOWLEDGED.sum();
          if (kill) {
            target.kill(1);
            System.out.println("killed node 1 (SIGKILL)");
          }
        },
        cutAt - now,
        TimeUnit.MILLISECONDS);
    timer.schedule(
        () -> publishedOffline = Published.ACKNOWLEDGED.sum() - publishedBeforeCut,
        reconnectAt - now,
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void after() {
    timer.shutdownNow();
    int nodes = target.nodeCount();
    target.close();
    long dropped = Math.round(clients * dropShare);
    new Report("resume")
        .put("catchUp.p95", catchUp.percentile(95))
        .write(
            String.format(
                "nodes=%d kill=%s clients=%d groups=%d rate=%.0f/s offline=%ds | resumed %d of %d"
                    + " dropped, published while offline %d | reconnect->caught up: %s | gaps %d,"
                    + " history lost %d, duplicates dropped %d, publishes acknowledged %d refused %d",
                nodes,
                kill,
                clients,
                groups,
                rate,
                offline.toSeconds(),
                catchUp.count(),
                dropped,
                publishedOffline,
                catchUp.describe(),
                ClientState.GAPS.sum(),
                ClientState.HISTORY_LOST.sum(),
                ClientState.DUPLICATES.sum(),
                Published.ACKNOWLEDGED.sum(),
                Published.REFUSED.sum()));
  }
}
