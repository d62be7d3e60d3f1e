package io.switchboard.node.edge;

import io.switchboard.node.bridge.UpstreamStatus;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.v1.Close;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.Error;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.ServerFrame;

/** Builders of the server frames the edge sends; one place for the shape of each. */
final class ServerFrames {
  private ServerFrames() {}

  static ServerFrame delivery(String stream, Publication publication) {
    return ServerFrame.newBuilder()
        .setDelivery(
            Delivery.newBuilder()
                .setStream(stream)
                .setOffset(publication.offset())
                .setPayload(publication.payload())
                .setTimestampMs(publication.timestampMs()))
        .build();
  }

  static ServerFrame error(long frameId, ErrorCode code, String message) {
    return ServerFrame.newBuilder()
        .setId(frameId)
        .setError(Error.newBuilder().setCode(code).setMessage(message))
        .build();
  }

  static ServerFrame upstream(UpstreamStatus status) {
    io.switchboard.protocol.v1.UpstreamStatus.State state =
        switch (status.phase()) {
          case CONNECTING -> io.switchboard.protocol.v1.UpstreamStatus.State.CONNECTING;
          case UP -> io.switchboard.protocol.v1.UpstreamStatus.State.UP;
          case RECONNECTING -> io.switchboard.protocol.v1.UpstreamStatus.State.RECONNECTING;
        };
    return ServerFrame.newBuilder()
        .setUpstreamStatus(
            io.switchboard.protocol.v1.UpstreamStatus.newBuilder()
                .setState(state)
                .setAttempt(status.attempt())
                .setRetryUntilMs(status.retryUntilMs())
                .setHeld(status.held())
                .setReason(status.reason()))
        .build();
  }

  static ServerFrame close(int code, String reason) {
    return ServerFrame.newBuilder()
        .setClose(Close.newBuilder().setCode(code).setReason(reason))
        .build();
  }
}
