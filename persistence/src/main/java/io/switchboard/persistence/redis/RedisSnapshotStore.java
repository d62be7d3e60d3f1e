package io.switchboard.persistence.redis;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.snapshot.japi.SnapshotStore;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import scala.concurrent.Future;

/**
 * Pekko Persistence snapshot store on Redis. Plugin id {@code
 * switchboard.persistence.snapshot-store}.
 *
 * <p>Each persistence id has a hash of snapshots by sequence number and a sorted index of
 * "sequenceNr:timestamp", so selection by sequence number and timestamp runs inside Redis (one Lua
 * script) and only the chosen snapshot travels. Saving a snapshot with a sequence number that
 * already has one replaces it. Deleting a single snapshot matches its sequence number, and its
 * timestamp too unless the given timestamp is 0. Every call is bounded by {@code
 * operation-timeout}; the actor's dispatcher is never blocked.
 */
public final class RedisSnapshotStore extends SnapshotStore {

  private final CompletableFuture<RedissonClient> client;
  private final KeyLayout keys;
  private final RedisCalls calls;
  private final PayloadSerializer serializer;
  private final Executor dispatcher;

  /** Created by Pekko Persistence with the plugin's config section. */
  public RedisSnapshotStore(Config config) {
    ExtendedActorSystem system = (ExtendedActorSystem) context().system();
    RedisSettings settings = RedisSettings.forPlugin(system.settings().config(), config);
    this.client = RedisClients.get(system).client(settings).toCompletableFuture();
    this.keys = new KeyLayout(settings.keyPrefix());
    this.calls = new RedisCalls("Redis snapshot store", settings);
    this.serializer = new PayloadSerializer(system);
    this.dispatcher = context().dispatcher();
  }

  @Override
  public Future<Optional<SelectedSnapshot>> doLoadAsync(
      String persistenceId, SnapshotSelectionCriteria criteria) {
    CompletableFuture<byte[]> found =
        calls.bounded(
            eval(
                persistenceId,
                RScript.Mode.READ_ONLY,
                LuaScripts.LOAD_SNAPSHOT,
                RScript.ReturnType.VALUE,
                criteriaArgs(criteria)),
            "load of a snapshot of [" + persistenceId + "]");
    CompletableFuture<Optional<SelectedSnapshot>> selected =
        found.thenApplyAsync(
            bytes -> Optional.ofNullable(bytes).map(b -> decode(persistenceId, b)), dispatcher);
    return RedisCalls.toScala(selected);
  }

  @Override
  public Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
    PayloadSerializer.Serialized s;
    try {
      s = serializer.serialize(snapshot);
    } catch (RuntimeException e) {
      return RedisCalls.toScala(CompletableFuture.failedFuture(e));
    }
    byte[] record =
        RecordFormat.encodeSnapshot(
            metadata.sequenceNr(), metadata.timestamp(), s.serializerId(), s.manifest(), s.bytes());
    CompletableFuture<Void> saved =
        calls
            .bounded(
                eval(
                    metadata.persistenceId(),
                    RScript.Mode.READ_WRITE,
                    LuaScripts.SAVE_SNAPSHOT,
                    RScript.ReturnType.INTEGER,
                    ascii(metadata.sequenceNr()),
                    ascii(metadata.timestamp()),
                    record),
                "save of snapshot "
                    + metadata.sequenceNr()
                    + " of ["
                    + metadata.persistenceId()
                    + "]")
            .thenApply(r -> null);
    return RedisCalls.toScala(saved);
  }

  @Override
  public Future<Void> doDeleteAsync(SnapshotMetadata metadata) {
    long minTimestamp = metadata.timestamp() == 0 ? 0 : metadata.timestamp();
    long maxTimestamp = metadata.timestamp() == 0 ? Long.MAX_VALUE : metadata.timestamp();
    return delete(
        metadata.persistenceId(),
        "delete of snapshot " + metadata.sequenceNr() + " of [" + metadata.persistenceId() + "]",
        ascii(metadata.sequenceNr()),
        ascii(metadata.sequenceNr()),
        ascii(minTimestamp),
        ascii(maxTimestamp));
  }

  @Override
  public Future<Void> doDeleteAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
    return delete(
        persistenceId, "delete of snapshots of [" + persistenceId + "]", criteriaArgs(criteria));
  }

  private Future<Void> delete(String persistenceId, String operation, Object... args) {
    CompletableFuture<Void> deleted =
        calls
            .bounded(
                eval(
                    persistenceId,
                    RScript.Mode.READ_WRITE,
                    LuaScripts.DELETE_SNAPSHOTS,
                    RScript.ReturnType.INTEGER,
                    args),
                operation)
            .thenApply(r -> null);
    return RedisCalls.toScala(deleted);
  }

  private <T> CompletableFuture<T> eval(
      String persistenceId,
      RScript.Mode mode,
      String script,
      RScript.ReturnType returnType,
      Object... args) {
    String index = keys.snapshotIndex(persistenceId);
    List<Object> scriptKeys = List.of(index, keys.snapshots(persistenceId));
    return client.thenCompose(
        redis ->
            redis
                .getScript(ByteArrayCodec.INSTANCE)
                .<T>evalAsync(index, mode, script, returnType, scriptKeys, args));
  }

  private SelectedSnapshot decode(String persistenceId, byte[] bytes) {
    RecordFormat.Snapshot s = RecordFormat.decodeSnapshot(bytes);
    Object snapshot = serializer.deserialize(s.serializerId(), s.manifest(), s.payload());
    return SelectedSnapshot.create(
        SnapshotMetadata.apply(persistenceId, s.sequenceNr(), s.timestamp()), snapshot);
  }

  private static Object[] criteriaArgs(SnapshotSelectionCriteria criteria) {
    return new Object[] {
      ascii(Math.max(0, criteria.minSequenceNr())),
      ascii(criteria.maxSequenceNr()),
      ascii(Math.max(0, criteria.minTimestamp())),
      ascii(criteria.maxTimestamp())
    };
  }

  private static byte[] ascii(long value) {
    return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
  }
}
