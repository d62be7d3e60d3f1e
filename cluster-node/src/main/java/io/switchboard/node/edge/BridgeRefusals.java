package io.switchboard.node.edge;

import io.switchboard.node.bridge.UpstreamActor;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.protocol.v1.ErrorCode;

/** The Error a client's Message gets when its bridge session does not take it. */
final class BridgeRefusals {
  private BridgeRefusals() {}

  static ErrorCode code(Throwable failure) {
    String message = String.valueOf(failure.getMessage());
    if (message.equals(UpstreamActor.HELD_FULL)) {
      return ErrorCode.LIMIT_EXCEEDED;
    }
    if (message.equals(SessionEntity.NOT_A_BRIDGE)
        || message.startsWith(UpstreamActor.INVALID_PREFIX)) {
      return ErrorCode.INVALID_ARGUMENT;
    }
    return ErrorCode.UNAVAILABLE; // no answer in time, or the upstream is closing: retry
  }

  static String reason(Throwable failure) {
    ErrorCode code = code(failure);
    return code == ErrorCode.UNAVAILABLE
        ? "upstream unavailable, retry"
        : String.valueOf(failure.getMessage());
  }
}
