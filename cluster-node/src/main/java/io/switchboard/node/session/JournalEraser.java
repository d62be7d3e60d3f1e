package io.switchboard.node.session;

import org.apache.pekko.actor.Props;
import org.apache.pekko.persistence.AbstractPersistentActor;
import org.apache.pekko.persistence.DeleteMessagesFailure;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.DeleteSnapshotsFailure;
import org.apache.pekko.persistence.DeleteSnapshotsSuccess;
import org.apache.pekko.persistence.Recovery;
import org.apache.pekko.persistence.RecoveryCompleted;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;

/**
 * Deletes every event and snapshot of one persistence id, then stops. Started for a session entity
 * that ended, after it wrote its last event; replays nothing. Typed persistence has no public
 * "delete everything", the classic persistent actor's {@code deleteMessages} is that API.
 */
final class JournalEraser extends AbstractPersistentActor {
  private final String persistenceId;
  private final String journalPluginId;
  private final String snapshotPluginId;
  private boolean eventsDone;
  private boolean snapshotsDone;

  static Props props(String persistenceId, String journalPluginId, String snapshotPluginId) {
    return Props.create(
        JournalEraser.class,
        () -> new JournalEraser(persistenceId, journalPluginId, snapshotPluginId));
  }

  private JournalEraser(String persistenceId, String journalPluginId, String snapshotPluginId) {
    this.persistenceId = persistenceId;
    this.journalPluginId = journalPluginId;
    this.snapshotPluginId = snapshotPluginId;
  }

  @Override
  public String persistenceId() {
    return persistenceId;
  }

  @Override
  public String journalPluginId() {
    return journalPluginId;
  }

  @Override
  public String snapshotPluginId() {
    return snapshotPluginId;
  }

  @Override
  public Recovery recovery() {
    return Recovery.none();
  }

  @Override
  public Receive createReceiveRecover() {
    return receiveBuilder()
        .match(
            RecoveryCompleted.class,
            done -> {
              deleteMessages(Long.MAX_VALUE);
              deleteSnapshots(SnapshotSelectionCriteria.latest());
            })
        .matchAny(any -> {})
        .build();
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(DeleteMessagesSuccess.class, ok -> eventsFinished())
        .match(
            DeleteMessagesFailure.class,
            failed -> {
              getContext()
                  .getSystem()
                  .log()
                  .warning("Erasing events of [{}] failed: {}", persistenceId, failed.cause());
              eventsFinished();
            })
        .match(DeleteSnapshotsSuccess.class, ok -> snapshotsFinished())
        .match(
            DeleteSnapshotsFailure.class,
            failed -> {
              getContext()
                  .getSystem()
                  .log()
                  .warning("Erasing snapshots of [{}] failed: {}", persistenceId, failed.cause());
              snapshotsFinished();
            })
        .build();
  }

  private void eventsFinished() {
    eventsDone = true;
    stopWhenDone();
  }

  private void snapshotsFinished() {
    snapshotsDone = true;
    stopWhenDone();
  }

  private void stopWhenDone() {
    if (eventsDone && snapshotsDone) {
      getContext().stop(getSelf());
    }
  }
}
