package io.switchboard.node.chaos;

import io.switchboard.persistence.embedded.EmbeddedRedis;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The cluster chaos run (a command, not a unit test; see README): three node JVMs on loopback and
 * one Redis, subscribers spread over the nodes, a backend publishing and sending direct messages
 * through the HTTP/JSON API at a fixed rate; then a node joins, a node leaves with SIGTERM, a node
 * is killed with SIGKILL, every node is restarted one at a time, and Redis is stopped and started.
 * Prints, per event, the time until every client was live and caught up again, and at the end the
 * messages lost, duplicated and out of order (all must be 0). Exits non-zero otherwise.
 */
public final class ChaosRun {
  static final String API_KEY = "chaos-api-key";
  private static final Duration READY = Duration.ofSeconds(90);
  private static final Duration RECOVERY = Duration.ofSeconds(90);

  private final List<NodeJvm> nodes = new CopyOnWriteArrayList<>();
  private final List<ResilientClient> subscribers = new ArrayList<>();
  private final Map<String, Long> recoveryMillis = new LinkedHashMap<>();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
  private final Path logDir;
  private final List<String> seeds = new ArrayList<>();
  private EmbeddedRedis redis;
  private final BitSet ackedGroup = new BitSet();
  private final Map<ResilientClient, BitSet> ackedInbox =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong refused =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
  private volatile boolean publishing;
  private ApiClient api;

  private ChaosRun(Path logDir) {
    this.logDir = logDir;
  }

  /**
   * Runs the chaos timeline; {@code args[0]} = subscribers (default 24), {@code args[1]} =
   * publications/s (default 40).
   */
  public static void main(String[] args) throws Exception {
    int subscribers = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    Path logs = Files.createTempDirectory("switchboard-chaos");
    ChaosRun run = new ChaosRun(logs);
    int exit;
    try {
      exit = run.run(subscribers, rate);
    } finally {
      run.shutdown();
    }
    System.out.println("node logs: " + logs);
    System.exit(exit);
  }

  private int run(int subscriberCount, int rate) throws Exception {
    redis = EmbeddedRedis.builder().dataDirectory(logDir.resolve("redis")).build().start();
    int[][] ports = new int[4][];
    for (int i = 0; i < 4; i++) {
      ports[i] = new int[] {freePort(), freePort(), freePort()};
    }
    for (int i = 0; i < 3; i++) {
      seeds.add("127.0.0.1:" + ports[i][1]);
    }
    for (int i = 0; i < 3; i++) {
      nodes.add(newNode("node" + (char) ('A' + i), ports[i]).start());
    }
    for (NodeJvm n : nodes) {
      n.awaitReady(READY);
    }
    log("3 nodes ready");

    String group = "chaos";
    for (int i = 0; i < subscriberCount; i++) {
      ResilientClient c = new ResilientClient("sub" + i, group, this::nextNode, scheduler);
      subscribers.add(c);
      c.start();
    }
    api = new ApiClient(this::nextHttpPort, API_KEY);
    awaitAllLive("start");
    publishing = true;
    long periodMicros = 1_000_000L / rate;
    scheduler.scheduleAtFixedRate(() -> publishOne(group), 0, periodMicros, TimeUnit.MICROSECONDS);
    // Direct messages: each subscriber's session gets one every 2 seconds, through the API.
    scheduler.scheduleAtFixedRate(this::sendToEveryone, 500, 2000, TimeUnit.MILLISECONDS);
    pause(Duration.ofSeconds(5));

    long t = System.nanoTime();
    NodeJvm d = newNode("nodeD", ports[3]).start();
    nodes.add(d);
    d.awaitReady(READY);
    measure("node D joins", t);

    t = System.nanoTime();
    NodeJvm b = node("nodeB");
    nodes.remove(b); // clients reconnecting now go elsewhere, as behind a load balancer
    b.terminate(Duration.ofSeconds(60));
    measure("node B leaves (SIGTERM)", t);

    t = System.nanoTime();
    NodeJvm c = node("nodeC");
    nodes.remove(c);
    c.kill();
    measure("node C killed (SIGKILL)", t);

    t = System.nanoTime();
    for (String name : List.of("nodeB", "nodeC")) {
      NodeJvm again = newNode(name, ports[name.charAt(4) - 'A']).start();
      nodes.add(again);
      again.awaitReady(READY);
    }
    measure("nodes B and C back", t);

    for (String name : List.of("nodeA", "nodeB", "nodeC", "nodeD")) {
      t = System.nanoTime();
      NodeJvm old = node(name);
      int index = name.charAt(4) - 'A';
      nodes.remove(old);
      old.terminate(Duration.ofSeconds(60));
      NodeJvm fresh = newNode(name, ports[index]).start();
      nodes.add(fresh);
      fresh.awaitReady(READY);
      measure("rolling restart of " + name, t);
    }

    t = System.nanoTime();
    redis.stop();
    pause(Duration.ofSeconds(3));
    redis.start();
    measure("Redis stopped 3 s and started", t);

    publishing = false;
    pause(Duration.ofSeconds(1));
    measure("publishing stopped", System.nanoTime());
    return report(rate);
  }

  private int report(int rate) {
    BitSet acked;
    synchronized (ackedGroup) {
      acked = (BitSet) ackedGroup.clone();
    }
    long lost = 0;
    long lostDirect = 0;
    long directAcked = 0;
    long duplicates = 0;
    long outOfOrder = 0;
    long reconnects = 0;
    long sessionsLost = 0;
    for (ResilientClient c : subscribers) {
      lost += c.lostComparedTo(acked);
      BitSet inbox = ackedInbox.getOrDefault(c, new BitSet());
      synchronized (inbox) {
        lostDirect += c.lostInbox(inbox);
        directAcked += inbox.cardinality();
      }
      duplicates += c.duplicates;
      outOfOrder += c.outOfOrder;
      reconnects += c.reconnects;
      sessionsLost += c.sessionsLost;
    }
    System.out.println();
    System.out.println("=== Switchboard chaos run ===");
    System.out.printf(
        "subscribers %d, publish rate %d/s through the API; publications acknowledged %d (highest offset %d), direct sends acknowledged %d, calls refused or unanswered %d%n",
        subscribers.size(),
        rate,
        acked.cardinality(),
        acked.length() - 1,
        directAcked,
        refused.get());
    System.out.println(
        "event                                   from its start until all live and caught up");
    recoveryMillis.forEach((event, ms) -> System.out.printf("  %-40s %6d ms%n", event, ms));
    System.out.printf(
        "lost: group %d, direct %d; duplicated (after client dedupe) 0, duplicates dropped by offset %d; out of order %d%n",
        lost, lostDirect, duplicates, outOfOrder);
    System.out.printf("reconnects %d, sessions lost %d%n", reconnects, sessionsLost);
    boolean ok =
        lost == 0
            && lostDirect == 0
            && outOfOrder == 0
            && sessionsLost == 0
            && acked.cardinality() > 0
            && directAcked > 0;
    System.out.println(ok ? "RESULT: PASS" : "RESULT: FAIL");
    return ok ? 0 : 1;
  }

  /** Time from now until every client is live and has everything acknowledged before the event. */
  private void measure(String event, long start) {
    long target;
    synchronized (ackedGroup) {
      target = ackedGroup.length() - 1;
    }
    Map<ResilientClient, Long> inboxTargets = new java.util.HashMap<>();
    ackedInbox.forEach(
        (c, bits) -> {
          synchronized (bits) {
            inboxTargets.put(c, (long) bits.length() - 1);
          }
        });
    long deadline = start + RECOVERY.toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (ResilientClient c : subscribers) {
        if (!c.isLive()
            || c.cursor() < target
            || c.inboxCursor() < inboxTargets.getOrDefault(c, 0L)) {
          all = false;
          break;
        }
      }
      if (all) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        recoveryMillis.put(event, ms);
        log(event + ": all live after " + ms + " ms");
        return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    recoveryMillis.put(event, -1L);
    log(event + ": NOT all live within " + RECOVERY);
  }

  private void awaitAllLive(String what) {
    measure(what, System.nanoTime());
  }

  private NodeJvm newNode(String name, int[] ports) {
    return new NodeJvm(name, ports[0], ports[1], ports[2], seeds, redis.url(), logDir);
  }

  private NodeJvm node(String name) {
    return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
  }

  /**
   * The next node that is up, round robin (a client's list of addresses, as a load balancer would).
   */
  private URI nextNode() {
    List<NodeJvm> up = nodes.stream().filter(NodeJvm::alive).toList();
    if (up.isEmpty()) {
      return URI.create("ws://127.0.0.1:1/ws");
    }
    return up.get(Math.floorMod(roundRobin.getAndIncrement(), up.size())).wsUri();
  }

  private void publishOne(String group) {
    if (!publishing || !inFlight.tryAcquire()) {
      return;
    }
    api.publish(group, "p" + System.nanoTime())
        .whenComplete(
            (offset, failure) -> {
              inFlight.release();
              if (offset != null && offset.isPresent()) {
                synchronized (ackedGroup) {
                  ackedGroup.set((int) offset.getAsLong());
                }
              } else {
                refused.incrementAndGet();
              }
            });
  }

  private void sendToEveryone() {
    if (!publishing) {
      return;
    }
    for (ResilientClient c : subscribers) {
      String sessionId = c.sessionId();
      if (sessionId == null || !inFlight.tryAcquire()) {
        continue;
      }
      api.send(sessionId, "d" + System.nanoTime())
          .whenComplete(
              (offset, failure) -> {
                inFlight.release();
                if (offset != null && offset.isPresent()) {
                  BitSet bits = ackedInbox.computeIfAbsent(c, k -> new BitSet());
                  synchronized (bits) {
                    bits.set((int) offset.getAsLong());
                  }
                } else {
                  refused.incrementAndGet();
                }
              });
    }
  }

  private int nextHttpPort() {
    List<NodeJvm> up = nodes.stream().filter(NodeJvm::alive).toList();
    return up.isEmpty()
        ? 1
        : up.get(Math.floorMod(roundRobin.getAndIncrement(), up.size())).httpPort;
  }

  private void shutdown() {
    subscribers.forEach(ResilientClient::stop);
    scheduler.shutdownNow();
    nodes.forEach(NodeJvm::close);
    if (redis != null) {
      redis.stop();
    }
  }

  private static void pause(Duration d) {
    LockSupport.parkNanos(d.toNanos());
  }

  private static void log(String line) {
    System.out.printf("%tT %s%n", System.currentTimeMillis(), line);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
