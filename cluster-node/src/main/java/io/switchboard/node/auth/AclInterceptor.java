package io.switchboard.node.auth;

import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Optional;

/**
 * Joins and publishes only to groups the identity's patterns allow ({@code FORBIDDEN} otherwise).
 * Frames of a connection that has not authenticated pass: the protocol answers them with {@code
 * NOT_CONNECTED}. Stateless and thread-safe.
 */
public final class AclInterceptor implements FrameInterceptor {

  @Override
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    if (!identity.authenticated()) {
      return Optional.empty();
    }
    return switch (frame.getKindCase()) {
      case JOIN -> {
        String groupId = frame.getJoin().getGroup();
        yield identity.mayJoin(groupId)
            ? Optional.empty()
            : Optional.of(Rejection.refuse(ErrorCode.FORBIDDEN, "may not join " + groupId));
      }
      case PUBLISH -> {
        String groupId = frame.getPublish().getGroup();
        yield identity.mayPublish(groupId)
            ? Optional.empty()
            : Optional.of(Rejection.refuse(ErrorCode.FORBIDDEN, "may not publish to " + groupId));
      }
      default -> Optional.empty();
    };
  }
}
