package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * <p>Guarantees: an {@link AtomicWrite} is stored whole or not at all (Lua scripts: one per batch,
 * or one per persistence id on Redis Cluster); the writes of many persistence ids, from one call or
 * from calls that arrive while {@code max-batches-in-flight} batches are out (group commit), travel
 * in one pipelined batch of at most {@code max-batch-size} events; writes of one persistence id
 * reach Redis in the order they were called, and a read of the highest sequence number waits for
 * that id's queued and in-flight writes; the highest sequence number survives deletes. A payload
 * that cannot be serialized rejects its own atomic write only. An atomic write whose sequence
 * numbers are already taken by other events (a second writer) is rejected, never overwrites; a
 * retried write of the same bytes counts as written. Replay reads {@code replay-page-size} events
 * per round trip. Every Redis call is bounded by {@code operation-timeout}; the actor's dispatcher
 * is never blocked.
 *
 * <p>Sequence numbers are sorted set scores (doubles): exact up to 2^53.
 */
public final class RedisJournal extends AsyncWriteJournal {

  private static final byte[][] COUNTS = new byte[64][];

  /** The outcome of a write left out of its batch because its call had already failed. */
  private static final Exception ABANDONED =
      new IllegalStateException("Write abandoned: its call had already failed");

  static {
    for (int i = 0; i < COUNTS.length; i++) COUNTS[i] = ascii(i);
  }

  private final RedisSettings settings;
  private final CompletableFuture<RedissonClient> client;
  private final KeyLayout keys;
  private final RedisCalls calls;
  private final PayloadSerializer serializer;
  private final Executor dispatcher;

  /** False on Redis Cluster, where one script may only touch keys of one hash slot. */
  private final boolean oneScriptPerBatch;

  /**
   * The outcome of the last write per persistence id while it is queued or in flight: a later write
   * of the same id is sent after it, and a read of the highest sequence number waits for it.
   * Updated under {@link #queue}'s lock.
   */
  private final ConcurrentHashMap<String, CompletableFuture<List<?>>> writesInFlight =
      new ConcurrentHashMap<>();

  /**
   * Writes waiting for a batch, oldest first. Writes arriving while {@code max-batches-in-flight}
   * batches are out are sent together in the next batch (group commit). Guarded by itself.
   */
  private final ArrayDeque<PersistenceIdWrite> queue = new ArrayDeque<>();

  private int batchesInFlight; // guarded by queue

  /** Created by Pekko Persistence with the plugin's config section. */
  public RedisJournal(Config config) {
    ExtendedActorSystem system = (ExtendedActorSystem) context().system();
    this.settings = RedisSettings.forPlugin(system.settings().config(), config);
    this.client = RedisClients.get(system).client(settings).toCompletableFuture();
    this.keys = new KeyLayout(settings.keyPrefix());
    this.calls = new RedisCalls("Redis journal", settings);
    this.serializer = new PayloadSerializer(system);
    this.dispatcher = context().dispatcher();
    this.oneScriptPerBatch = !RedisClients.isCluster(settings);
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
    synchronized (queue) {
      for (PersistenceIdWrite write : byPersistenceId.values()) {
        write.after = writesInFlight.put(write.persistenceId, write.outcome);
        queue.add(write);
      }
    }
    CompletableFuture<?>[] parts = new CompletableFuture<?>[byPersistenceId.size()];
    int part = 0;
    for (PersistenceIdWrite write : byPersistenceId.values()) {
      parts[part++] =
          write.outcome.whenComplete(
              (statuses, error) -> {
                writesInFlight.remove(write.persistenceId, write.outcome);
                if (error == null) write.applyStatuses(statuses, results);
              });
    }
    drain();
    // one timeout for the whole call: it fails as a whole anyway when any part fails
    CompletableFuture<Void> bounded =
        calls.bounded(CompletableFuture.allOf(parts), () -> describe(byPersistenceId.values()));
    bounded.whenComplete(
        (r, error) -> {
          if (error != null) abandon(byPersistenceId.values(), error);
        });
    CompletableFuture<Iterable<Optional<Exception>>> done =
        bounded.thenApply(
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
                client.thenCompose(
                    redis ->
                        redis
                            .getScoredSortedSet(
                                keys.journal(persistenceId), ByteArrayCodec.INSTANCE)
                            .removeRangeByScoreAsync(0, true, toSequenceNr, true)),
                "delete of events of [" + persistenceId + "] up to " + toSequenceNr)
            .thenApply(removed -> null);
    return RedisCalls.toScala(done);
  }

  @Override
  public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    CompletableFuture<List<?>> inFlight = writesInFlight.get(persistenceId);
    CompletableFuture<Void> afterWrites =
        inFlight == null
            ? CompletableFuture.completedFuture(null)
            : inFlight.handle((r, e) -> null);
    CompletableFuture<Long> highest =
        calls
            .bounded(
                afterWrites
                    .thenCompose(v -> client)
                    .thenCompose(
                        redis ->
                            redis
                                .<String>getBucket(
                                    keys.highest(persistenceId), StringCodec.INSTANCE)
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
            client.thenCompose(
                redis ->
                    redis
                        .<byte[]>getScoredSortedSet(
                            keys.journal(persistenceId), ByteArrayCodec.INSTANCE)
                        .valueRangeAsync(from, true, to, true, 0, count)),
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

  /**
   * Marks the writes of a failed call as abandoned and takes those still queued out of the queue: a
   * write its caller was told had failed is never sent afterwards. Only writes already handed to
   * Redis when the call failed may still be applied (a failed write is uncertain, as Pekko's plugin
   * API allows).
   */
  private void abandon(Collection<PersistenceIdWrite> writes, Throwable error) {
    List<PersistenceIdWrite> withdrawn = new ArrayList<>();
    synchronized (queue) {
      for (PersistenceIdWrite write : writes) {
        write.abandoned = true;
        if (queue.remove(write)) withdrawn.add(write);
      }
    }
    for (PersistenceIdWrite write : withdrawn) write.outcome.completeExceptionally(error);
  }

  /** Sends queued writes while fewer than {@code max-batches-in-flight} batches are out. */
  private void drain() {
    while (true) {
      List<PersistenceIdWrite> batch = new ArrayList<>();
      synchronized (queue) {
        if (queue.isEmpty() || batchesInFlight >= settings.maxBatchesInFlight()) return;
        int events = 0;
        while (!queue.isEmpty()
            && (batch.isEmpty() || events + queue.peek().eventCount <= settings.maxBatchSize())) {
          PersistenceIdWrite write = queue.poll();
          batch.add(write);
          events += write.eventCount;
        }
        batchesInFlight++;
      }
      sendBatch(batch)
          .whenComplete(
              (r, e) -> {
                synchronized (queue) {
                  batchesInFlight--;
                }
                drain();
              });
    }
  }

  /**
   * Sends one batch once the client is connected and the earlier writes of its persistence ids that
   * travel in other batches are done (a batch keeps the order of its own commands), leaving out
   * writes abandoned meanwhile, and completes each write's outcome.
   */
  private CompletableFuture<Void> sendBatch(List<PersistenceIdWrite> batch) {
    Set<CompletableFuture<List<?>>> inBatch = Collections.newSetFromMap(new IdentityHashMap<>());
    for (PersistenceIdWrite write : batch) inBatch.add(write.outcome);
    List<CompletableFuture<?>> earlier = new ArrayList<>();
    for (PersistenceIdWrite write : batch) {
      if (write.after != null && !inBatch.contains(write.after)) {
        earlier.add(write.after.handle((r, e) -> null));
      }
      write.after = null; // nothing keeps a chain of finished writes alive
    }
    earlier.add(client);
    return CompletableFuture.allOf(earlier.toArray(CompletableFuture[]::new))
        .thenCompose(
            v -> {
              List<PersistenceIdWrite> live = new ArrayList<>(batch.size());
              for (PersistenceIdWrite write : batch) {
                if (write.abandoned) write.outcome.completeExceptionally(ABANDONED);
                else live.add(write);
              }
              if (live.isEmpty()) return CompletableFuture.<Void>completedFuture(null);
              return send(client.join(), live, true)
                  .thenAccept(
                      statuses -> {
                        for (int p = 0; p < live.size(); p++) {
                          live.get(p).outcome.complete((List<?>) statuses.get(p));
                        }
                      });
            })
        .whenComplete(
            (v, error) -> {
              if (error != null) {
                for (PersistenceIdWrite write : batch) write.outcome.completeExceptionally(error);
              }
            });
  }

  /**
   * Sends one batch: a single script call where every key lives on one server, else one script call
   * per persistence id in one pipeline (Redis Cluster keeps a script to one hash slot). On NOSCRIPT
   * (a Redis that lost its scripts) loads the script and resends.
   */
  private CompletableFuture<List<?>> send(
      RedissonClient redis, List<PersistenceIdWrite> batch, boolean retryNoScript) {
    CompletableFuture<List<?>> sent =
        batch.size() == 1 || oneScriptPerBatch
            ? sendAsOneScript(redis, batch)
            : sendPipelined(redis, batch);
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
                  .thenCompose(sha -> send(redis, batch, false));
            });
  }

  private static CompletableFuture<List<?>> sendAsOneScript(
      RedissonClient redis, List<PersistenceIdWrite> batch) {
    List<Object> keys = new ArrayList<>(2 * batch.size());
    List<Object> args = new ArrayList<>();
    for (PersistenceIdWrite write : batch) {
      keys.add(write.journalKey);
      keys.add(write.highestKey);
      args.add(ascii(write.indices.size()));
      args.addAll(write.args);
    }
    return redis
        .getScript(ByteArrayCodec.INSTANCE)
        .<List<?>>evalAsync(
            batch.get(0).journalKey,
            RScript.Mode.READ_WRITE,
            LuaScripts.WRITE,
            RScript.ReturnType.MULTI,
            keys,
            args.toArray())
        .toCompletableFuture()
        .thenApply(
            statuses -> {
              List<List<?>> perWrite = new ArrayList<>(batch.size());
              int offset = 0;
              for (PersistenceIdWrite write : batch) {
                perWrite.add(statuses.subList(offset, offset + write.indices.size()));
                offset += write.indices.size();
              }
              return perWrite;
            });
  }

  private static CompletableFuture<List<?>> sendPipelined(
      RedissonClient redis, List<PersistenceIdWrite> batch) {
    RBatch pipeline = redis.createBatch(BatchOptions.defaults());
    for (PersistenceIdWrite write : batch) {
      List<Object> args = new ArrayList<>(write.args.size() + 1);
      args.add(ascii(write.indices.size()));
      args.addAll(write.args);
      pipeline
          .getScript(ByteArrayCodec.INSTANCE)
          .evalAsync(
              write.journalKey,
              RScript.Mode.READ_WRITE,
              LuaScripts.WRITE,
              RScript.ReturnType.MULTI,
              List.of(write.journalKey, write.highestKey),
              args.toArray());
    }
    return pipeline
        .executeAsync()
        .toCompletableFuture()
        .thenApply(result -> (List<?>) result.getResponses());
  }

  private static String describe(Collection<PersistenceIdWrite> writes) {
    int events = writes.stream().mapToInt(w -> w.eventCount).sum();
    return writes.size() == 1
        ? "write of " + events + " event(s) of [" + writes.iterator().next().persistenceId + "]"
        : "write of " + events + " events of " + writes.size() + " persistence ids";
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
    final CompletableFuture<List<?>> outcome = new CompletableFuture<>();
    CompletableFuture<List<?>> after; // the previous write of this id, if not done when queued
    volatile boolean abandoned; // its call has failed: never send it
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
