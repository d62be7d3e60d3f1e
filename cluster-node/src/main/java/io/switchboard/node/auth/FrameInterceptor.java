package io.switchboard.node.auth;

import io.switchboard.protocol.v1.ClientFrame;
import java.util.Optional;

/**
 * A check every client frame passes before the node handles it, like a middleware: empty lets the
 * frame through, a {@link Rejection} refuses it with an {@code Error} (and possibly closes the
 * connection). Interceptors run in a fixed order — the node's own (connection rate, user rate,
 * sizes, ACL), then the user-defined ones of {@code switchboard.auth.interceptors} in their listed
 * order — and the first rejection wins.
 *
 * <p>A user-defined interceptor is a public class with a public constructor taking either nothing
 * or the {@code org.apache.pekko.actor.typed.ActorSystem}; the node creates one instance at start
 * and calls it from every connection's actor at once (and, for a WebSocket's acks, from the
 * socket's I/O thread), so it must be thread-safe, and it must never block. An exception it throws
 * refuses the frame with {@code INTERNAL} and is logged; it never takes the connection down. Frames
 * sent before the client authenticated (Connect, Resume, Ping) carry {@link
 * Identity#UNAUTHENTICATED}.
 */
@FunctionalInterface
public interface FrameInterceptor {

  /** Checks {@code frame} from a client proven to be {@code identity}. */
  Optional<Rejection> check(Identity identity, ClientFrame frame);
}
