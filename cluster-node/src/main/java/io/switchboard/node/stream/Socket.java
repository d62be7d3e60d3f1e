package io.switchboard.node.stream;

import com.google.protobuf.ByteString;
import io.switchboard.node.ClusterMessage;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * What entities and fan-outs tell a socket (a connection actor). A socket's actor accepts {@link
 * Command}; its transport-specific messages extend the same interface. Sockets are runtime state:
 * entities may hold their refs but never persist them.
 */
public final class Socket {
  private Socket() {}

  /** Any message a socket actor accepts. */
  public interface Command {}

  /** A message of a stream, sent by the entity that owns the stream (may cross nodes). */
  public record Live(String stream, Publication publication) implements Command, ClusterMessage {}

  /**
   * A group message fanned out by this node's fan-out for the group, with its encodings shared by
   * every local socket. Never crosses nodes.
   */
  public record Fanned(String stream, Publication publication, EncodedOnce encoded)
      implements Command {}

  /** The stream's head is at least {@code head}: a socket behind it reads the missing range. */
  public record HeadMoved(String stream, long head) implements Command, ClusterMessage {}

  /** The session or the cluster ends this connection with a close code (see CloseCode). */
  public record Close(int code, String reason) implements Command, ClusterMessage {}

  /**
   * A backend changed the session's membership of a group (the backend API's Join or Leave): the
   * socket starts delivering the group after {@code head}, or stops, and tells its client. A change
   * the socket already knows of (its own Join or Leave) is ignored.
   */
  public record Membership(String groupId, boolean joined, long head)
      implements Command, ClusterMessage {}

  /**
   * A request from the cluster to the client (the backend API's Ask), answered with the client's
   * reply, or with an error whose message is one of the {@code ASK_*} constants (or the session's
   * "session not found"). The socket numbers it and fails it at once if it closes first.
   */
  public record Ask(
      String method,
      String path,
      Map<String, String> headers,
      ByteString body,
      long timeoutMs,
      ActorRef<StatusReply<AskReply>> replyTo)
      implements Command, ClusterMessage {}

  /** The client's answer to an {@link Ask}. */
  public record AskReply(int status, Map<String, String> headers, ByteString body)
      implements ClusterMessage {}

  /** Ask failed: the session has no socket attached. */
  public static final String ASK_NOT_ATTACHED = "no client attached to the session";

  /** Ask failed: the socket closed before the client answered. */
  public static final String ASK_CLIENT_GONE = "the client went away before answering";

  /** Ask failed: the socket has too many requests waiting for the client already. */
  public static final String ASK_TOO_MANY = "too many requests waiting for this client";
}
