package io.switchboard.node.api;

import io.switchboard.node.backend.Backend;
import io.switchboard.node.backend.BackendRouterActor;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.Socket;
import io.switchboard.protocol.v1.AskResponse;
import io.switchboard.protocol.v1.HistoryEntry;
import io.switchboard.protocol.v1.HistoryResponse;
import io.switchboard.protocol.v1.Member;
import io.switchboard.protocol.v1.NodeInfo;
import io.switchboard.protocol.v1.PublishResponse;
import io.switchboard.protocol.v1.RouteInfo;
import io.switchboard.protocol.v1.SessionOffset;
import java.util.List;

/** Maps the entities' and the registry's replies to the API's Protobuf messages. Stateless. */
final class ProtoMapper {
  private ProtoMapper() {}

  static PublishResponse published(String groupId, GroupEntity.Receipt receipt) {
    return PublishResponse.newBuilder()
        .setGroup(groupId)
        .setOffset(receipt.offset())
        .setDuplicate(receipt.duplicate())
        .build();
  }

  static SessionOffset sessionOffset(String sessionId, long offset) {
    return SessionOffset.newBuilder().setSessionId(sessionId).setOffset(offset).build();
  }

  static Member member(SessionEntity.Info info) {
    return Member.newBuilder()
        .setSessionId(info.sessionId())
        .setUserId(info.userId())
        .setAttached(info.attached())
        .build();
  }

  static HistoryResponse history(String groupId, Page page) {
    HistoryResponse.Builder b =
        HistoryResponse.newBuilder()
            .setGroup(groupId)
            .setFirstOffset(page.firstOffset())
            .setHead(page.head());
    for (Publication p : page.items()) {
      b.addPublications(
          HistoryEntry.newBuilder()
              .setOffset(p.offset())
              .setPayload(p.payload())
              .setTimestampMs(p.timestampMs()));
    }
    return b.build();
  }

  static AskResponse askReply(Socket.AskReply reply) {
    return AskResponse.newBuilder()
        .setStatus(reply.status())
        .putAllHeaders(reply.headers())
        .setBody(reply.body())
        .build();
  }

  static NodeInfo node(
      org.apache.pekko.cluster.Member member,
      boolean reachable,
      BackendRouterActor.NodeStats stats,
      long sessions,
      long groups) {
    NodeInfo.Builder b =
        NodeInfo.newBuilder()
            .setAddress(member.address().toString())
            .setStatus(member.status().toString())
            .setReachable(reachable)
            .setSessions(sessions)
            .setGroups(groups);
    if (stats != null) {
      b.setConnections(stats.connections()).setWorkers(stats.workers());
    }
    return b.build();
  }

  static List<RouteInfo> routes(List<Backend.RouteCount> routes) {
    return routes.stream()
        .map(
            r ->
                RouteInfo.newBuilder()
                    .setMethod(r.method())
                    .setPath(r.path())
                    .setWorkers(r.workers())
                    .build())
        .toList();
  }
}
