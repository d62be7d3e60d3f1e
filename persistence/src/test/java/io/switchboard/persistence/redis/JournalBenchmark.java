package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.persistence.embedded.EmbeddedRedis;
import io.switchboard.persistence.embedded.RedisCli;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.PersistentEnvelope;
import org.apache.pekko.persistence.PersistentRepr;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Write throughput of the journal against the raw pipelined write rate of the same Redis, in the
 * same run. Starts its own Redis (appendfsync everysec). Not a test; run with
 *
 * <pre>
 * mvn -q -pl persistence test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=io.switchboard.persistence.redis.JournalBenchmark
 * </pre>
 *
 * System properties: {@code ids} (1000), {@code events} (200000), {@code payload} bytes (100),
 * {@code writers} (8), {@code batch} atomic writes per call (100).
 *
 * <ul>
 *   <li>raw: {@code writers} loops, each sending Redisson batches of {@code batch} events, one ZADD
 *       of the same entry bytes plus one SET of the highest sequence number per event;
 *   <li>plugin, batched: {@code writers} writers, each sending WriteMessages of {@code batch}
 *       atomic writes of distinct persistence ids and waiting for the confirmations;
 *   <li>plugin, entity-style: one writer per persistence id, one event per WriteMessages, as
 *       persistent actors write when each handles one command at a time.
 * </ul>
 */
public final class JournalBenchmark {

  private static final String WRITER_UUID = java.util.UUID.randomUUID().toString();

  private JournalBenchmark() {}

  /** Runs the benchmark and prints the figures. */
  public static void main(String[] args) throws Exception {
    int ids = Integer.getInteger("ids", 1000);
    int events = Integer.getInteger("events", 200_000);
    int payloadSize = Integer.getInteger("payload", 100);
    int writers = Integer.getInteger("writers", 8);
    int batch = Integer.getInteger("batch", 100);
    byte[] payload = new byte[payloadSize];
    for (int i = 0; i < payload.length; i++) payload[i] = (byte) ('a' + i % 26);

    EmbeddedRedis redis =
        EmbeddedRedis.builder().appendFsync(EmbeddedRedis.AppendFsync.EVERYSEC).build().start();
    Config config =
        ConfigFactory.parseString(
                """
                pekko.loglevel = WARNING
                switchboard.redis.url = "%s"
                switchboard.redis.key-prefix = bench
                """
                    .formatted(redis.url()))
            .withFallback(ConfigFactory.load());
    ActorSystem system = ActorSystem.create("bench", config);
    try {
      RedisSettings settings = RedisSettings.create(config.getConfig("switchboard.redis"));
      RedissonClient client =
          RedisClients.get(system).client(settings).toCompletableFuture().get(30, TimeUnit.SECONDS);
      ActorRef journal =
          Persistence.get(system)
              .journalFor("switchboard.persistence.journal", ConfigFactory.empty());
      System.out.printf(
          Locale.ROOT,
          "Redis %s at %s (appendfsync everysec); %d events of %d payload bytes over %d ids%n",
          redis.executable(),
          redis.url(),
          events,
          payloadSize,
          ids);

      // warm-up of both paths, then the measured runs
      raw(client, "warm", ids, events / 5, writers, batch, payload);
      plugin(system, journal, "warm", ids, events / 5, writers, batch, payload);
      plugin(system, journal, "warm1", ids, events / 10, ids, 1, payload);

      Cpu cpu = new Cpu(new RedisCli(redis.port()));
      double rawRate = raw(client, "raw", ids, events, writers, batch, payload);
      String rawCpu = cpu.perEvent(events);
      double batchedRate = plugin(system, journal, "b", ids, events, writers, batch, payload);
      String batchedCpu = cpu.perEvent(events);
      double entityRate = plugin(system, journal, "e", ids, events, ids, 1, payload);
      String entityCpu = cpu.perEvent(events);
      System.out.printf(
          Locale.ROOT,
          "CPU per event (Redis / this JVM): raw %s, plugin batched %s, entity-style %s%n",
          rawCpu,
          batchedCpu,
          entityCpu);

      System.out.printf(
          Locale.ROOT, "raw pipelined Redisson batches : %,10.0f events/s%n", rawRate);
      System.out.printf(
          Locale.ROOT,
          "plugin, %d writers x %d atomic writes per call : %,10.0f events/s%n",
          writers,
          batch,
          batchedRate);
      System.out.printf(
          Locale.ROOT,
          "plugin, %d entity-style writers, 1 event per call : %,10.0f events/s%n",
          ids,
          entityRate);
      System.out.printf(
          Locale.ROOT,
          "SUMMARY plugin %.0f events/s vs raw %.0f events/s: ratio %.2f (entity-style %.0f events/s, ratio %.2f)%n",
          batchedRate,
          rawRate,
          batchedRate / rawRate,
          entityRate,
          entityRate / rawRate);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      redis.stop();
    }
  }

  /** Events per second of pipelined ZADD + SET batches, {@code loops} batches in flight. */
  private static double raw(
      RedissonClient client, String run, int ids, int events, int loops, int batch, byte[] payload)
      throws Exception {
    int perLoop = events / loops;
    long started = System.nanoTime();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int loop = 0; loop < loops; loop++) {
      RawLoop raw = new RawLoop(client, run + "-" + loop, Math.max(1, ids / loops), batch, payload);
      done.add(raw.write(perLoop));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    return perLoop * loops / seconds(started);
  }

  /** One sequential chain of pipelined batches over ids of its own. */
  private static final class RawLoop {
    private final RedissonClient client;
    private final String prefix;
    private final long[] next;
    private final int batch;
    private final byte[] payload;
    private int cursor;

    RawLoop(RedissonClient client, String prefix, int ids, int batch, byte[] payload) {
      this.client = client;
      this.prefix = prefix;
      this.next = new long[ids];
      this.batch = batch;
      this.payload = payload;
    }

    CompletableFuture<Void> write(int remaining) {
      if (remaining <= 0) return CompletableFuture.completedFuture(null);
      int count = Math.min(batch, remaining);
      RBatch pipeline = client.createBatch(BatchOptions.defaults());
      for (int i = 0; i < count; i++) {
        int slot = cursor++ % next.length;
        long seq = ++next[slot];
        String pid = prefix + "-" + slot;
        byte[] entry =
            RecordFormat.encodeEntry(
                seq, System.currentTimeMillis(), 4, "", "", WRITER_UUID, payload);
        pipeline
            .<byte[]>getScoredSortedSet("raw:j:{" + pid + "}", ByteArrayCodec.INSTANCE)
            .addAsync(seq, entry);
        pipeline
            .<String>getBucket("raw:h:{" + pid + "}", StringCodec.INSTANCE)
            .setAsync(Long.toString(seq));
      }
      return pipeline
          .executeAsync()
          .toCompletableFuture()
          .thenCompose(r -> write(remaining - count));
    }
  }

  /** Events per second through the journal protocol. */
  private static double plugin(
      ActorSystem system,
      ActorRef journal,
      String run,
      int ids,
      int events,
      int writers,
      int batch,
      byte[] payload)
      throws Exception {
    int perWriter = events / writers;
    List<CompletableFuture<Void>> done = new ArrayList<>();
    long started = System.nanoTime();
    for (int w = 0; w < writers; w++) {
      List<String> owned = new ArrayList<>();
      for (int id = w; id < ids; id += writers) owned.add(run + "-" + id);
      CompletableFuture<Void> finished = new CompletableFuture<>();
      done.add(finished);
      system.actorOf(
          Props.create(
              Writer.class, () -> new Writer(journal, owned, perWriter, batch, payload, finished)));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    return (double) perWriter * writers / seconds(started);
  }

  /** CPU time used by Redis (INFO cpu) and by this JVM since the last reading. */
  private static final class Cpu {
    private final RedisCli cli;
    private double redisSeconds;
    private long jvmNanos;

    Cpu(RedisCli cli) {
      this.cli = cli;
      perEvent(1);
    }

    String perEvent(int events) {
      double redisNow = 0;
      for (String line : ((String) cli.call("INFO", "cpu")).split("\r\n")) {
        if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
          redisNow += Double.parseDouble(line.substring(line.indexOf(':') + 1));
        }
      }
      long jvmNow =
          ((com.sun.management.OperatingSystemMXBean)
                  java.lang.management.ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime();
      String result =
          String.format(
              Locale.ROOT,
              "%.1f / %.1f us",
              (redisNow - redisSeconds) * 1e6 / events,
              (jvmNow - jvmNanos) / 1e3 / events);
      redisSeconds = redisNow;
      jvmNanos = jvmNow;
      return result;
    }
  }

  private static double seconds(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  /**
   * Writes its events as WriteMessages of {@code batch} atomic writes, round robin over its ids,
   * and sends the next call when every event of the previous one is confirmed.
   */
  static final class Writer extends AbstractActor {
    private final ActorRef journal;
    private final List<String> ids;
    private final long[] next;
    private final int batch;
    private final byte[] payload;
    private final CompletableFuture<Void> finished;
    private final String writerUuid = WRITER_UUID;
    private int remaining;
    private int pending;
    private int cursor;

    Writer(
        ActorRef journal,
        List<String> ids,
        int events,
        int batch,
        byte[] payload,
        CompletableFuture<Void> finished) {
      this.journal = journal;
      this.ids = ids;
      this.next = new long[ids.size()];
      this.remaining = events;
      this.batch = batch;
      this.payload = payload;
      this.finished = finished;
    }

    @Override
    public void preStart() {
      sendNext();
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder()
          .match(JournalProtocol.WriteMessagesSuccessful$.class, m -> {})
          .match(
              JournalProtocol.WriteMessageSuccess.class,
              m -> {
                if (--pending == 0) sendNext();
              })
          .matchAny(
              m -> {
                finished.completeExceptionally(new IllegalStateException("Write failed: " + m));
                getContext().stop(getSelf());
              })
          .build();
    }

    private void sendNext() {
      if (remaining <= 0) {
        finished.complete(null);
        getContext().stop(getSelf());
        return;
      }
      int count = Math.min(batch, remaining);
      List<PersistentEnvelope> writes = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int slot = cursor++ % ids.size();
        PersistentRepr repr =
            PersistentRepr.apply(payload, ++next[slot], ids.get(slot), "", false, null, writerUuid)
                .withTimestamp(System.currentTimeMillis());
        writes.add(AtomicWrite.apply(repr));
      }
      remaining -= count;
      pending = count;
      journal.tell(
          new JournalProtocol.WriteMessages(
              CollectionConverters.asScala(writes).toList(), getSelf(), 1),
          getSelf());
    }
  }
}
