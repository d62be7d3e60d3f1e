package io.switchboard.node.group;

import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.RetainedLog;
import io.switchboard.protocol.v1.events.GroupEvent;
import io.switchboard.protocol.v1.events.GroupSnapshot;
import io.switchboard.protocol.v1.events.IdempotencyEntry;
import io.switchboard.protocol.v1.events.RetainedPublication;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.EventSeq;
import org.apache.pekko.persistence.typed.SnapshotAdapter;

/**
 * Maps a group's events and state to the Protobuf messages of {@code events.proto} that the journal
 * stores, and back. The entity works with records; the journal holds compact, evolvable Protobuf.
 */
public final class GroupEventCodec {
  private GroupEventCodec() {}

  /** Events to {@link GroupEvent} and back. */
  public static final class Events extends EventAdapter<GroupEntity.Event, GroupEvent> {
    @Override
    public GroupEvent toJournal(GroupEntity.Event event) {
      GroupEvent.Builder b = GroupEvent.newBuilder();
      if (event instanceof GroupEntity.MemberJoined e) {
        b.setMemberJoined(GroupEvent.MemberJoined.newBuilder().setSessionId(e.sessionId()));
      } else if (event instanceof GroupEntity.MemberLeft e) {
        b.setMemberLeft(GroupEvent.MemberLeft.newBuilder().setSessionId(e.sessionId()));
      } else if (event instanceof GroupEntity.Published e) {
        Publication p = e.publication();
        b.setPublished(
            GroupEvent.Published.newBuilder()
                .setOffset(p.offset())
                .setPayload(p.payload())
                .setTimestampMs(p.timestampMs())
                .setIdempotencyKey(e.idempotencyKey() == null ? "" : e.idempotencyKey()));
      } else if (event instanceof GroupEntity.LogTrimmed e) {
        b.setLogTrimmed(GroupEvent.LogTrimmed.newBuilder().setThroughOffset(e.throughOffset()));
      }
      return b.build();
    }

    @Override
    public String manifest(GroupEntity.Event event) {
      return "";
    }

    @Override
    public EventSeq<GroupEntity.Event> fromJournal(GroupEvent event, String manifest) {
      return switch (event.getKindCase()) {
        case MEMBER_JOINED ->
            EventSeq.single(new GroupEntity.MemberJoined(event.getMemberJoined().getSessionId()));
        case MEMBER_LEFT ->
            EventSeq.single(new GroupEntity.MemberLeft(event.getMemberLeft().getSessionId()));
        case PUBLISHED -> {
          GroupEvent.Published p = event.getPublished();
          yield EventSeq.single(
              new GroupEntity.Published(
                  new Publication(p.getOffset(), p.getPayload(), p.getTimestampMs()),
                  p.getIdempotencyKey()));
        }
        case LOG_TRIMMED ->
            EventSeq.single(new GroupEntity.LogTrimmed(event.getLogTrimmed().getThroughOffset()));
        case KIND_NOT_SET -> EventSeq.empty();
      };
    }
  }

  /** State to {@link GroupSnapshot} and back. */
  public static final class Snapshots implements SnapshotAdapter<GroupState> {
    @Override
    public Object toJournal(GroupState state) {
      GroupSnapshot.Builder b =
          GroupSnapshot.newBuilder()
              .setHead(state.head())
              .setTrimmedThrough(state.trimmedThrough())
              .addAllMembers(state.members());
      for (Publication p : state.log().all()) {
        b.addLog(
            RetainedPublication.newBuilder()
                .setOffset(p.offset())
                .setPayload(p.payload())
                .setTimestampMs(p.timestampMs()));
      }
      for (Map.Entry<String, GroupState.KeyEntry> e : state.recentKeys().entrySet()) {
        b.putRecentKeys(
            e.getKey(),
            IdempotencyEntry.newBuilder()
                .setOffset(e.getValue().offset())
                .setTimestampMs(e.getValue().timestampMs())
                .build());
      }
      return b.build();
    }

    @Override
    public GroupState fromJournal(Object from) {
      GroupSnapshot s = (GroupSnapshot) from;
      long firstRetained = s.getLogCount() == 0 ? s.getHead() + 1 : s.getLog(0).getOffset();
      RetainedLog log = new RetainedLog(firstRetained - 1, firstRetained - 1);
      for (RetainedPublication p : s.getLogList()) {
        log.append(new Publication(p.getOffset(), p.getPayload(), p.getTimestampMs()));
      }
      if (log.head() < s.getHead()) {
        // Nothing retained but the head moved: keep offsets continuing after it.
        log = new RetainedLog(s.getHead(), s.getHead());
      }
      log.trimThrough(s.getTrimmedThrough());
      LinkedHashMap<String, GroupState.KeyEntry> keys = new LinkedHashMap<>();
      s.getRecentKeysMap().entrySet().stream()
          .sorted(Map.Entry.comparingByValue((a, b) -> Long.compare(a.getOffset(), b.getOffset())))
          .forEach(
              e ->
                  keys.put(
                      e.getKey(),
                      new GroupState.KeyEntry(
                          e.getValue().getOffset(), e.getValue().getTimestampMs())));
      return new GroupState(new HashSet<>(s.getMembersList()), log, keys);
    }
  }
}
