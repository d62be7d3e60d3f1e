package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.journal.japi.AsyncWriteJournal;
import org.redisson.api.BatchOptions;
import org.redisson.api.BatchResult;
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisNoScriptException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Pekko Persistence journal on Redis. Plugin id {@code switchboard.persistence.journal}.
 *
 * <p>Guarantees: an {@link AtomicWrite} is stored whole or not at all (one Lua script per
 * persistence id and call); the atomic writes of many persistence ids in one call travel in one
 * pipelined batch per {@code max-batch-size} events; writes of one persistence id reach Redis in
 * the order they were called, and a read of the highest sequence number waits for that id's writes
 * in flight; the highest sequence number survives deletes. A payload that cannot be serialized
 * rejects its own atomic write only. An atomic write whose sequence numbers are already taken by
 * other events (a second writer) is rejected, never overwrites; a retried write of the same bytes
 * counts as written. Replay reads {@code replay-page-size} events per round trip. Every Redis call
 * is bounded by {@code operation-timeout}; the actor's dispatcher is never blocked.
 *
 * <p>Sequence numbers are sorted set scores (doubles): exact up to 2^53.
 */
public final class RedisJournal extends AsyncWriteJournal {

  private static final byte[][] COUNTS = new byte[64][];

  static {
    for (int i = 0; i < COUNTS.length; i++) COUNTS[i] = ascii(i);
  }

  private final RedisSettings settings;
  private final RedissonClient redis;
  private final KeyLayout keys;
  private final RedisCalls calls;
  private final PayloadSerializer serializer;
  private final Executor dispatcher;

  /** The raw (unbounded) future of the last write per persistence id, while it is in flight. */
  private final ConcurrentHashMap<String, CompletableFuture<?>> writesInFlight =
      new ConcurrentHashMap<>();

  /** Created by Pekko Persistence with the plugin's config section. */
  public RedisJournal(Config config) {
    ExtendedActorSystem system = (ExtendedActorSystem) context().system();
    this.settings = RedisSettings.forPlugin(system.settings().config(), config);
    this.redis = RedisClients.get(system).client(settings);
    this.keys = new KeyLayout(settings.keyPrefix());
    this.calls = new RedisCalls("Redis journal", settings);
    this.serializer = new PayloadSerializer(system);
    this.dispatcher = context().dispatcher();
  }

  @Override
  public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(
      Iterable<AtomicWrite> messages) {
    List<AtomicWrite> writes = new ArrayList<>();
    messages.forEach(writes::add);
    AtomicReferenceArray<Optional<Exception>> results = new AtomicReferenceArray<>(writes.size());
    Map<String, PersistenceIdWrite> byPersistenceId = new LinkedHashMap<>();
    for (int i = 0; i < writes.size(); i++) {
      AtomicWrite write = writes.get(i);
      results.set(i, Optional.empty());
      try {
        List<Object> entries = encode(write);
        byPersistenceId
            .computeIfAbsent(write.persistenceId(), PersistenceIdWrite::new)
            .add(i, write, entries);
      } catch (Exception e) {
        // Rejected before anything was sent: only this atomic write fails.
        results.set(i, Optional.of(e));
      }
    }
    List<CompletableFuture<Void>> batches = new ArrayList<>();
    for (List<PersistenceIdWrite> batch : batches(byPersistenceId.values())) {
      batches.add(writeBatch(batch, results));
    }
    CompletableFuture<Iterable<Optional<Exception>>> done =
        CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new))
            .thenApply(
                v -> {
                  List<Optional<Exception>> list = new ArrayList<>(results.length());
                  for (int i = 0; i < results.length(); i++) list.add(results.get(i));
                  return list;
                });
    return RedisCalls.toScala(done);
  }

  @Override
  public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
    CompletableFuture<Void> done =
        calls
            .bounded(
                redis
                    .getScoredSortedSet(keys.journal(persistenceId), ByteArrayCodec.INSTANCE)
                    .removeRangeByScoreAsync(0, true, toSequenceNr, true),
                "delete of events of [" + persistenceId + "] up to " + toSequenceNr)
            .thenApply(removed -> null);
    return RedisCalls.toScala(done);
  }

  @Override
  public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    CompletableFuture<?> inFlight = writesInFlight.get(persistenceId);
    CompletableFuture<Void> afterWrites =
        inFlight == null
            ? CompletableFuture.completedFuture(null)
            : inFlight.handle((r, e) -> null);
    CompletableFuture<Long> highest =
        calls
            .bounded(
                afterWrites.thenCompose(
                    v ->
                        redis
                            .<String>getBucket(keys.highest(persistenceId), StringCodec.INSTANCE)
                            .getAsync()),
                "read of the highest sequence number of [" + persistenceId + "]")
            .thenApply(value -> value == null ? 0L : Long.parseLong(value));
    return RedisCalls.toScala(highest);
  }

  @Override
  public Future<Void> doAsyncReplayMessages(
      String persistenceId,
      long fromSequenceNr,
      long toSequenceNr,
      long max,
      Consumer<PersistentRepr> replayCallback) {
    CompletableFuture<Void> done =
        replayPage(persistenceId, Math.max(1, fromSequenceNr), toSequenceNr, max, replayCallback);
    return RedisCalls.toScala(done);
  }

  private CompletableFuture<Void> replayPage(
      String persistenceId, long from, long to, long remaining, Consumer<PersistentRepr> callback) {
    if (remaining <= 0 || from > to) return CompletableFuture.completedFuture(null);
    int count = (int) Math.min(settings.replayPageSize(), remaining);
    CompletableFuture<Collection<byte[]>> page =
        calls.bounded(
            redis
                .<byte[]>getScoredSortedSet(keys.journal(persistenceId), ByteArrayCodec.INSTANCE)
                .valueRangeAsync(from, true, to, true, 0, count),
            "replay of [" + persistenceId + "] from " + from);
    return page.thenComposeAsync(
        entries -> {
          long last = from - 1;
          for (byte[] bytes : entries) {
            PersistentRepr repr = decode(persistenceId, bytes);
            last = repr.sequenceNr();
            callback.accept(repr);
          }
          if (entries.size() < count || last >= to) return CompletableFuture.completedFuture(null);
          return replayPage(persistenceId, last + 1, to, remaining - entries.size(), callback);
        },
        dispatcher);
  }

  private CompletableFuture<Void> writeBatch(
      List<PersistenceIdWrite> batch, AtomicReferenceArray<Optional<Exception>> results) {
    List<CompletableFuture<?>> earlier = new ArrayList<>();
    for (PersistenceIdWrite write : batch) {
      CompletableFuture<?> previous = writesInFlight.get(write.persistenceId);
      if (previous != null) earlier.add(previous.handle((r, e) -> null));
    }
    CompletableFuture<List<?>> raw =
        earlier.isEmpty()
            ? send(batch, true)
            : CompletableFuture.allOf(earlier.toArray(CompletableFuture[]::new))
                .thenCompose(v -> send(batch, true));
    for (PersistenceIdWrite write : batch) {
      writesInFlight.put(write.persistenceId, raw);
    }
    raw.whenComplete(
        (r, e) -> {
          for (PersistenceIdWrite write : batch) writesInFlight.remove(write.persistenceId, raw);
        });
    return calls
        .bounded(raw, describe(batch))
        .thenAccept(
            statuses -> {
              for (int p = 0; p < batch.size(); p++) {
                batch.get(p).applyStatuses((List<?>) statuses.get(p), results);
              }
            });
  }

  /** Sends one pipelined batch; on NOSCRIPT (a Redis that lost its scripts) loads and resends. */
  private CompletableFuture<List<?>> send(List<PersistenceIdWrite> batch, boolean retryNoScript) {
    CompletableFuture<List<?>> sent;
    if (batch.size() == 1) {
      PersistenceIdWrite write = batch.get(0);
      sent =
          redis
              .getScript(ByteArrayCodec.INSTANCE)
              .<List<?>>evalAsync(
                  write.journalKey,
                  RScript.Mode.READ_WRITE,
                  LuaScripts.WRITE,
                  RScript.ReturnType.MULTI,
                  List.of(write.journalKey, write.highestKey),
                  write.args.toArray())
              .toCompletableFuture()
              .thenApply(List::of);
    } else {
      RBatch pipeline = redis.createBatch(BatchOptions.defaults());
      for (PersistenceIdWrite write : batch) {
        pipeline
            .getScript(ByteArrayCodec.INSTANCE)
            .evalAsync(
                write.journalKey,
                RScript.Mode.READ_WRITE,
                LuaScripts.WRITE,
                RScript.ReturnType.MULTI,
                List.of(write.journalKey, write.highestKey),
                write.args.toArray());
      }
      sent =
          pipeline
              .executeAsync()
              .toCompletableFuture()
              .thenApply(BatchResult::getResponses)
              .thenApply(responses -> (List<?>) responses);
    }
    if (!retryNoScript) return sent;
    // Writes are idempotent (a retried write of the same bytes is ALREADY_WRITTEN), so resending
    // the whole batch after loading the script is safe.
    return sent.handle((r, e) -> e)
        .thenCompose(
            error -> {
              if (error == null) return sent;
              if (!(RedisCalls.unwrap(error) instanceof RedisNoScriptException)) return sent;
              return redis
                  .getScript()
                  .scriptLoadAsync(LuaScripts.WRITE)
                  .toCompletableFuture()
                  .thenCompose(sha -> send(batch, false));
            });
  }

  private List<List<PersistenceIdWrite>> batches(Collection<PersistenceIdWrite> writes) {
    List<List<PersistenceIdWrite>> batches = new ArrayList<>();
    List<PersistenceIdWrite> current = new ArrayList<>();
    int events = 0;
    for (PersistenceIdWrite write : writes) {
      if (!current.isEmpty() && events + write.eventCount > settings.maxBatchSize()) {
        batches.add(current);
        current = new ArrayList<>();
        events = 0;
      }
      current.add(write);
      events += write.eventCount;
    }
    if (!current.isEmpty()) batches.add(current);
    return batches;
  }

  private static String describe(List<PersistenceIdWrite> batch) {
    int events = batch.stream().mapToInt(w -> w.eventCount).sum();
    return batch.size() == 1
        ? "write of " + events + " event(s) of [" + batch.get(0).persistenceId + "]"
        : "write of " + events + " events of " + batch.size() + " persistence ids";
  }

  /** The (sequence number, entry) pairs of an atomic write, as script arguments. */
  private List<Object> encode(AtomicWrite write) {
    List<Object> pairs = new ArrayList<>(2 * write.size());
    for (PersistentRepr repr : CollectionConverters.asJava(write.payload())) {
      PayloadSerializer.Serialized s = serializer.serialize(repr.payload());
      pairs.add(ascii(repr.sequenceNr()));
      pairs.add(
          RecordFormat.encodeEntry(
              repr.sequenceNr(),
              repr.timestamp(),
              s.serializerId(),
              s.manifest(),
              repr.manifest(),
              repr.writerUuid(),
              s.bytes()));
    }
    return pairs;
  }

  private PersistentRepr decode(String persistenceId, byte[] bytes) {
    RecordFormat.Entry entry = RecordFormat.decodeEntry(bytes);
    Object payload =
        serializer.deserialize(entry.serializerId(), entry.serializerManifest(), entry.payload());
    return PersistentRepr.apply(
            payload,
            entry.sequenceNr(),
            persistenceId,
            entry.adapterManifest(),
            false,
            null,
            entry.writerUuid())
        .withTimestamp(entry.timestamp());
  }

  private static byte[] ascii(long value) {
    if (value >= 0 && value < COUNTS.length && COUNTS[(int) value] != null) {
      return COUNTS[(int) value];
    }
    return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The atomic writes of one persistence id in one call, as arguments of {@link LuaScripts#WRITE}.
   */
  private final class PersistenceIdWrite {
    final String persistenceId;
    final String journalKey;
    final String highestKey;
    final List<Object> args = new ArrayList<>();
    final List<Integer> indices = new ArrayList<>();
    final List<AtomicWrite> writes = new ArrayList<>();
    int eventCount;

    PersistenceIdWrite(String persistenceId) {
      this.persistenceId = persistenceId;
      this.journalKey = keys.journal(persistenceId);
      this.highestKey = keys.highest(persistenceId);
    }

    void add(int index, AtomicWrite write, List<Object> pairs) {
      indices.add(index);
      writes.add(write);
      args.add(ascii(pairs.size() / 2));
      args.addAll(pairs);
      eventCount += pairs.size() / 2;
    }

    void applyStatuses(List<?> statuses, AtomicReferenceArray<Optional<Exception>> results) {
      for (int w = 0; w < indices.size(); w++) {
        long status = ((Number) statuses.get(w)).longValue();
        if (status == LuaScripts.CONFLICT) {
          AtomicWrite write = writes.get(w);
          results.set(
              indices.get(w),
              Optional.of(
                  new IllegalStateException(
                      "Sequence numbers "
                          + write.lowestSequenceNr()
                          + ".."
                          + write.highestSequenceNr()
                          + " of ["
                          + persistenceId
                          + "] are already taken by other events (another writer?); not stored")));
        }
      }
    }
  }
}
