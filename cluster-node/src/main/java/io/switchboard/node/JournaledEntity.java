package io.switchboard.node;

import io.switchboard.node.config.PersistenceSettings;
import java.time.Duration;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The persistence wiring every Switchboard entity shares: the configured journal and snapshot
 * plugins, a snapshot every {@code snapshotEvery} events with the events before it deleted, events
 * and snapshots stored as Protobuf through the entity's adapters, and a restart with backoff when
 * the journal fails (Redis away): the entity recovers from the journal when it is back.
 */
public abstract class JournaledEntity<C, E, S>
    extends EventSourcedBehaviorWithEnforcedReplies<C, E, S> {

  private final PersistenceSettings persistence;
  private final int snapshotEvery;
  private final EventAdapter<E, ?> events;
  private final SnapshotAdapter<S> snapshots;

  protected JournaledEntity(
      PersistenceId persistenceId,
      PersistenceSettings persistence,
      int snapshotEvery,
      EventAdapter<E, ?> events,
      SnapshotAdapter<S> snapshots) {
    super(
        persistenceId,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.persistence = persistence;
    this.snapshotEvery = snapshotEvery;
    this.events = events;
    this.snapshots = snapshots;
  }

  @Override
  public final String journalPluginId() {
    return persistence.journalPlugin();
  }

  @Override
  public final String snapshotPluginId() {
    return persistence.snapshotPlugin();
  }

  @Override
  public final RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2).withDeleteEventsOnSnapshot();
  }

  @Override
  public final EventAdapter<E, ?> eventAdapter() {
    return events;
  }

  @Override
  public final SnapshotAdapter<S> snapshotAdapter() {
    return snapshots;
  }
}
