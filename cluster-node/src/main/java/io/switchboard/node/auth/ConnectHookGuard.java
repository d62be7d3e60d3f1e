package io.switchboard.node.auth;

import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Keeps browsers away from the connect hook's route: a client Request with method {@code CONNECT}
 * or to the hook's path, or a Message to it, is refused ({@code FORBIDDEN}), so a worker only ever
 * sees the node's own hook requests there. Paths are compared segment by segment without regard to
 * case, empty segments or the query, the way routes match. Stateless and thread-safe.
 */
final class ConnectHookGuard implements FrameInterceptor {
  private final List<String> hookSegments;

  ConnectHookGuard(String hookPath) {
    this.hookSegments = segments(hookPath);
  }

  @Override
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    boolean reserved =
        (frame.hasRequest()
                && ("CONNECT".equalsIgnoreCase(frame.getRequest().getMethod().trim())
                    || under(frame.getRequest().getPath())))
            || (frame.hasMessage() && under(frame.getMessage().getPath()));
    return reserved
        ? Optional.of(Rejection.refuse(ErrorCode.FORBIDDEN, "reserved for the connect hook"))
        : Optional.empty();
  }

  private boolean under(String path) {
    List<String> s = segments(path);
    return s.size() >= hookSegments.size()
        && s.subList(0, hookSegments.size()).equals(hookSegments);
  }

  private static List<String> segments(String path) {
    int query = path.indexOf('?');
    String p = query >= 0 ? path.substring(0, query) : path;
    return Arrays.stream(p.split("/"))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(s -> s.toLowerCase(Locale.ROOT))
        .toList();
  }
}
