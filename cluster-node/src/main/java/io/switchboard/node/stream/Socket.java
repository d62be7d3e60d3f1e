package io.switchboard.node.stream;

import io.switchboard.node.ClusterMessage;

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
}
