package io.switchboard.node.session;

import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.RetainedLog;
import io.switchboard.protocol.v1.events.QueuedDirect;
import io.switchboard.protocol.v1.events.SessionEvent;
import io.switchboard.protocol.v1.events.SessionSnapshot;
import java.util.LinkedHashSet;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.EventSeq;
import org.apache.pekko.persistence.typed.SnapshotAdapter;

/**
 * Maps a session's events and state to the Protobuf messages of {@code events.proto} that the
 * journal stores, and back.
 */
public final class SessionEventCodec {
  private SessionEventCodec() {}

  /** Events to {@link SessionEvent} and back. */
  public static final class Events extends EventAdapter<SessionEntity.Event, SessionEvent> {
    @Override
    public SessionEvent toJournal(SessionEntity.Event event) {
      SessionEvent.Builder b = SessionEvent.newBuilder();
      if (event instanceof SessionEntity.Started e) {
        b.setStarted(
            SessionEvent.Started.newBuilder()
                .setUserId(e.userId())
                .setResumeTokenHash(e.resumeTokenHash())
                .setCreatedMs(e.createdMs()));
      } else if (event instanceof SessionEntity.GroupJoined e) {
        b.setGroupJoined(SessionEvent.GroupJoined.newBuilder().setGroupId(e.groupId()));
      } else if (event instanceof SessionEntity.GroupLeft e) {
        b.setGroupLeft(SessionEvent.GroupLeft.newBuilder().setGroupId(e.groupId()));
      } else if (event instanceof SessionEntity.LeaveConfirmed e) {
        b.setLeaveConfirmed(SessionEvent.LeaveConfirmed.newBuilder().setGroupId(e.groupId()));
      } else if (event instanceof SessionEntity.DirectQueued e) {
        Publication p = e.publication();
        b.setDirectQueued(
            SessionEvent.DirectQueued.newBuilder()
                .setOffset(p.offset())
                .setPayload(p.payload())
                .setTimestampMs(p.timestampMs()));
      } else if (event instanceof SessionEntity.InboxTrimmed e) {
        b.setInboxTrimmed(
            SessionEvent.InboxTrimmed.newBuilder().setThroughOffset(e.throughOffset()));
      } else if (event instanceof SessionEntity.Ended e) {
        b.setEnded(SessionEvent.Ended.newBuilder().setReason(e.reason()));
      } else if (event instanceof SessionEntity.BridgeOpened e) {
        b.setBridgeOpened(
            SessionEvent.BridgeOpened.newBuilder().setRoute(e.route()).putAllHeaders(e.headers()));
      } else if (event instanceof SessionEntity.UpstreamQueued e) {
        Publication p = e.publication();
        b.setUpstreamQueued(
            SessionEvent.UpstreamQueued.newBuilder()
                .setOffset(p.offset())
                .setPayload(p.payload())
                .setTimestampMs(p.timestampMs())
                .setUpstreamId(e.upstreamId()));
      }
      return b.build();
    }

    @Override
    public String manifest(SessionEntity.Event event) {
      return "";
    }

    @Override
    public EventSeq<SessionEntity.Event> fromJournal(SessionEvent event, String manifest) {
      return switch (event.getKindCase()) {
        case STARTED ->
            EventSeq.single(
                new SessionEntity.Started(
                    event.getStarted().getUserId(),
                    event.getStarted().getResumeTokenHash(),
                    event.getStarted().getCreatedMs()));
        case GROUP_JOINED ->
            EventSeq.single(new SessionEntity.GroupJoined(event.getGroupJoined().getGroupId()));
        case GROUP_LEFT ->
            EventSeq.single(new SessionEntity.GroupLeft(event.getGroupLeft().getGroupId()));
        case LEAVE_CONFIRMED ->
            EventSeq.single(
                new SessionEntity.LeaveConfirmed(event.getLeaveConfirmed().getGroupId()));
        case DIRECT_QUEUED -> {
          SessionEvent.DirectQueued d = event.getDirectQueued();
          yield EventSeq.single(
              new SessionEntity.DirectQueued(
                  new Publication(d.getOffset(), d.getPayload(), d.getTimestampMs())));
        }
        case INBOX_TRIMMED ->
            EventSeq.single(
                new SessionEntity.InboxTrimmed(event.getInboxTrimmed().getThroughOffset()));
        case ENDED -> EventSeq.single(new SessionEntity.Ended(event.getEnded().getReason()));
        case BRIDGE_OPENED ->
            EventSeq.single(
                new SessionEntity.BridgeOpened(
                    event.getBridgeOpened().getRoute(), event.getBridgeOpened().getHeadersMap()));
        case UPSTREAM_QUEUED -> {
          SessionEvent.UpstreamQueued u = event.getUpstreamQueued();
          yield EventSeq.single(
              new SessionEntity.UpstreamQueued(
                  new Publication(u.getOffset(), u.getPayload(), u.getTimestampMs()),
                  u.getUpstreamId()));
        }
        case KIND_NOT_SET -> EventSeq.empty();
      };
    }
  }

  /** State to {@link SessionSnapshot} and back. */
  public static final class Snapshots implements SnapshotAdapter<SessionState> {
    @Override
    public Object toJournal(SessionState state) {
      SessionSnapshot.Builder b =
          SessionSnapshot.newBuilder()
              .setUserId(state.userId())
              .setResumeTokenHash(state.resumeTokenHash())
              .setCreatedMs(state.createdMs())
              .addAllGroups(state.groups())
              .addAllPendingLeaves(state.pendingLeaves())
              .setInboxHead(state.inbox().head())
              .setInboxTrimmedThrough(state.inbox().trimmedThrough())
              .setEnded(state.isEnded())
              .setBridgeRoute(state.bridgeRoute())
              .putAllBridgeHeaders(state.bridgeHeaders())
              .setUpstreamCount(state.upstreamCount())
              .setUpstreamLastId(state.upstreamLastId());
      for (Publication p : state.inbox().all()) {
        b.addInbox(
            QueuedDirect.newBuilder()
                .setOffset(p.offset())
                .setPayload(p.payload())
                .setTimestampMs(p.timestampMs()));
      }
      return b.build();
    }

    @Override
    public SessionState fromJournal(Object from) {
      SessionSnapshot s = (SessionSnapshot) from;
      long firstRetained =
          s.getInboxCount() == 0 ? s.getInboxHead() + 1 : s.getInbox(0).getOffset();
      RetainedLog inbox = new RetainedLog(firstRetained - 1, firstRetained - 1);
      for (QueuedDirect q : s.getInboxList()) {
        inbox.append(new Publication(q.getOffset(), q.getPayload(), q.getTimestampMs()));
      }
      if (inbox.head() < s.getInboxHead()) {
        inbox = new RetainedLog(s.getInboxHead(), s.getInboxHead());
      }
      inbox.trimThrough(s.getInboxTrimmedThrough());
      return new SessionState(
              true,
              s.getEnded(),
              s.getUserId(),
              s.getResumeTokenHash(),
              s.getCreatedMs(),
              new LinkedHashSet<>(s.getGroupsList()),
              new LinkedHashSet<>(s.getPendingLeavesList()),
              inbox)
          .bridgeOpened(s.getBridgeRoute(), s.getBridgeHeadersMap())
          .withBridgeProgress(s.getUpstreamCount(), s.getUpstreamLastId());
    }
  }
}
