package io.switchboard.node.backend;

import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.IncomingMessage;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.LifecycleEvent;
import io.switchboard.protocol.v1.Registered;
import java.util.Map;

/** Builders of the frames a node sends on a worker's Serve stream; one place for each shape. */
final class WorkerFrames {
  private WorkerFrames() {}

  static GatewayFrame registered(String workerId, String node, int routes) {
    return GatewayFrame.newBuilder()
        .setRegistered(
            Registered.newBuilder().setWorkerId(workerId).setNode(node).setRoutes(routes))
        .build();
  }

  static GatewayFrame request(
      long requestId,
      Backend.ClientRequest request,
      String route,
      Map<String, String> params,
      long timeoutMs) {
    return GatewayFrame.newBuilder()
        .setRequest(
            IncomingRequest.newBuilder()
                .setRequestId(requestId)
                .setMethod(request.method())
                .setPath(request.path())
                .setRoute(route)
                .putAllParams(params)
                .putAllHeaders(request.headers())
                .setBody(request.body())
                .setUserId(request.userId())
                .setSessionId(request.sessionId())
                .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, timeoutMs)))
        .build();
  }

  static GatewayFrame message(
      Backend.ClientMessage message, String route, Map<String, String> params) {
    return GatewayFrame.newBuilder()
        .setMessage(
            IncomingMessage.newBuilder()
                .setPath(message.path())
                .setRoute(route)
                .putAllParams(params)
                .putAllHeaders(message.headers())
                .setBody(message.body())
                .setUserId(message.userId())
                .setSessionId(message.sessionId()))
        .build();
  }

  static GatewayFrame event(Backend.Event event) {
    return GatewayFrame.newBuilder()
        .setEvent(
            LifecycleEvent.newBuilder()
                .setKind(LifecycleEvent.Kind.valueOf(event.kind().name()))
                .setSessionId(event.sessionId())
                .setUserId(event.userId())
                .setGroup(event.groupId())
                .setResumed(event.resumed())
                .setNode(event.node()))
        .build();
  }
}
