package io.switchboard.node.auth;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Who is behind a connection and what they may do: the user id, the group patterns they may join
 * and publish to, and when their credentials expire. Built from a verified token, a backend's
 * connect hook, or the configured anonymous identity. Immutable; safe to share between actors.
 *
 * @param userId the user, from the token's user claim
 * @param join patterns of groups the user may join
 * @param publish patterns of groups the user may publish to
 * @param expiresAt when the token expires; {@code null} when it does not (anonymous mode, or a
 *     token without {@code exp} where that is allowed)
 * @param kind how the identity was established
 */
public record Identity(
    String userId,
    List<GroupPattern> join,
    List<GroupPattern> publish,
    Instant expiresAt,
    Kind kind) {

  /** How an identity was established. */
  public enum Kind {
    /** Nothing yet: the client has not presented credentials (frames before Connect). */
    UNAUTHENTICATED,
    /** A verified token. */
    TOKEN,
    /** Vouched for by a backend worker's connect hook. */
    HOOK,
    /** The shared anonymous identity of a node in anonymous mode. */
    ANONYMOUS
  }

  /** The identity of a connection that has not authenticated yet: may do nothing. */
  public static final Identity UNAUTHENTICATED =
      new Identity("", List.of(), List.of(), null, Kind.UNAUTHENTICATED);

  /** An identity; the lists are copied. */
  public Identity {
    join = List.copyOf(join);
    publish = List.copyOf(publish);
  }

  /** Whether this identity may join {@code groupId}. */
  public boolean mayJoin(String groupId) {
    return anyMatch(join, groupId);
  }

  /** Whether this identity may publish to {@code groupId}. */
  public boolean mayPublish(String groupId) {
    return anyMatch(publish, groupId);
  }

  /** When the credentials expire, if they do. */
  public Optional<Instant> expiry() {
    return Optional.ofNullable(expiresAt);
  }

  /** Whether the client has presented credentials (or the node is in anonymous mode). */
  public boolean authenticated() {
    return kind != Kind.UNAUTHENTICATED;
  }

  /** Whether this is the shared anonymous identity: per-user limits do not apply to it. */
  public boolean anonymous() {
    return kind == Kind.ANONYMOUS;
  }

  private static boolean anyMatch(List<GroupPattern> patterns, String groupId) {
    for (GroupPattern p : patterns) {
      if (p.matches(groupId)) {
        return true;
      }
    }
    return false;
  }
}
