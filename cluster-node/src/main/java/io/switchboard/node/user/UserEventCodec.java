package io.switchboard.node.user;

import io.switchboard.protocol.v1.events.UserEvent;
import io.switchboard.protocol.v1.events.UserSnapshot;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.EventSeq;
import org.apache.pekko.persistence.typed.SnapshotAdapter;

/**
 * Maps a user's events and state to the Protobuf messages of {@code events.proto} that the journal
 * stores, and back.
 */
public final class UserEventCodec {
  private UserEventCodec() {}

  /** Events to {@link UserEvent} and back. */
  public static final class Events extends EventAdapter<UserEntity.Event, UserEvent> {
    @Override
    public UserEvent toJournal(UserEntity.Event event) {
      UserEvent.Builder b = UserEvent.newBuilder();
      if (event instanceof UserEntity.SessionAdded e) {
        b.setSessionAdded(UserEvent.SessionAdded.newBuilder().setSessionId(e.sessionId()));
      } else if (event instanceof UserEntity.SessionRemoved e) {
        b.setSessionRemoved(UserEvent.SessionRemoved.newBuilder().setSessionId(e.sessionId()));
      }
      return b.build();
    }

    @Override
    public String manifest(UserEntity.Event event) {
      return "";
    }

    @Override
    public EventSeq<UserEntity.Event> fromJournal(UserEvent event, String manifest) {
      return switch (event.getKindCase()) {
        case SESSION_ADDED ->
            EventSeq.single(new UserEntity.SessionAdded(event.getSessionAdded().getSessionId()));
        case SESSION_REMOVED ->
            EventSeq.single(
                new UserEntity.SessionRemoved(event.getSessionRemoved().getSessionId()));
        case KIND_NOT_SET -> EventSeq.empty();
      };
    }
  }

  /** State to {@link UserSnapshot} and back. */
  public static final class Snapshots implements SnapshotAdapter<UserState> {
    @Override
    public Object toJournal(UserState state) {
      return UserSnapshot.newBuilder().addAllSessionIds(state.sessionIds()).build();
    }

    @Override
    public UserState fromJournal(Object from) {
      return new UserState(((UserSnapshot) from).getSessionIdsList());
    }
  }
}
