package io.switchboard.node.session;

import com.google.protobuf.ByteString;
import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.RetainedLog;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The durable state of a session: who it belongs to, the hash of its resume token, its groups (and
 * leaves not yet confirmed by their groups), its inbox, and — for bridge sessions — the route, the
 * upstream request headers and what a reconnection tells the upstream. Mutable for speed, changed
 * only by {@link SessionEntity}'s event handler, never shared outside the entity.
 */
public final class SessionState {
  private boolean started;
  private boolean ended;
  private String userId = "";
  private ByteString resumeTokenHash = ByteString.EMPTY;
  private long createdMs;
  private final Set<String> groups;
  private final Set<String> pendingLeaves;
  private final RetainedLog inbox;
  private String bridgeRoute = "";
  private Map<String, String> bridgeHeaders = Map.of();
  private long upstreamCount;
  private String upstreamLastId = "";

  SessionState(
      boolean started,
      boolean ended,
      String userId,
      ByteString resumeTokenHash,
      long createdMs,
      Set<String> groups,
      Set<String> pendingLeaves,
      RetainedLog inbox) {
    this.started = started;
    this.ended = ended;
    this.userId = userId;
    this.resumeTokenHash = resumeTokenHash;
    this.createdMs = createdMs;
    this.groups = groups;
    this.pendingLeaves = pendingLeaves;
    this.inbox = inbox;
  }

  private static final SessionState TEMPLATE = empty();

  /**
   * The entity's empty state. Pekko evaluates it once and reuses it when the entity restarts, so it
   * is never written to: {@link #writable()} hands the first event a fresh copy.
   */
  static SessionState template() {
    return TEMPLATE;
  }

  /** This state, or a fresh one if this is the shared template. */
  SessionState writable() {
    return this == TEMPLATE ? empty() : this;
  }

  /** A session that was never started (a fresh, writable instance). */
  public static SessionState empty() {
    return new SessionState(
        false,
        false,
        "",
        ByteString.EMPTY,
        0,
        new LinkedHashSet<>(),
        new LinkedHashSet<>(),
        new RetainedLog());
  }

  public boolean isStarted() {
    return started;
  }

  public boolean isEnded() {
    return ended;
  }

  /** Started and not ended: it can be attached, joined and sent to. */
  public boolean isActive() {
    return started && !ended;
  }

  public String userId() {
    return userId;
  }

  public ByteString resumeTokenHash() {
    return resumeTokenHash;
  }

  public long createdMs() {
    return createdMs;
  }

  /** Groups the session is a member of (read-only view). */
  public Set<String> groups() {
    return Collections.unmodifiableSet(groups);
  }

  /** Groups left whose removal the group has not confirmed yet (read-only view). */
  public Set<String> pendingLeaves() {
    return Collections.unmodifiableSet(pendingLeaves);
  }

  public RetainedLog inbox() {
    return inbox;
  }

  /** Whether the session was opened on a bridge route and owns an upstream connection. */
  public boolean isBridge() {
    return !bridgeRoute.isEmpty();
  }

  /** The bridge route's name; "" for other sessions. */
  public String bridgeRoute() {
    return bridgeRoute;
  }

  /** The upstream request headers taken from the browser's upgrade. */
  public Map<String, String> bridgeHeaders() {
    return bridgeHeaders;
  }

  /** How many upstream messages were journaled in the inbox. */
  public long upstreamCount() {
    return upstreamCount;
  }

  /** The id of the last journaled upstream message that had one; "" before any. */
  public String upstreamLastId() {
    return upstreamLastId;
  }

  SessionState started(String userId, ByteString resumeTokenHash, long createdMs) {
    this.started = true;
    this.userId = userId;
    this.resumeTokenHash = resumeTokenHash;
    this.createdMs = createdMs;
    return this;
  }

  SessionState groupJoined(String groupId) {
    groups.add(groupId);
    pendingLeaves.remove(groupId);
    return this;
  }

  SessionState groupLeft(String groupId) {
    groups.remove(groupId);
    pendingLeaves.add(groupId);
    return this;
  }

  SessionState leaveConfirmed(String groupId) {
    pendingLeaves.remove(groupId);
    return this;
  }

  SessionState directQueued(Publication publication, int maxRetained) {
    inbox.append(publication);
    inbox.trimToCount(maxRetained);
    return this;
  }

  SessionState bridgeOpened(String route, Map<String, String> headers) {
    this.bridgeRoute = route;
    this.bridgeHeaders = Map.copyOf(headers);
    return this;
  }

  /** Restores the bridge part of a snapshot. */
  SessionState withBridgeProgress(long count, String lastId) {
    this.upstreamCount = count;
    this.upstreamLastId = lastId;
    return this;
  }

  SessionState upstreamQueued(Publication publication, String upstreamId, int maxRetained) {
    directQueued(publication, maxRetained);
    upstreamCount++;
    if (upstreamId != null && !upstreamId.isEmpty()) {
      upstreamLastId = upstreamId;
    }
    return this;
  }

  SessionState inboxTrimmed(long throughOffset) {
    inbox.trimThrough(throughOffset);
    return this;
  }

  SessionState ended() {
    ended = true;
    pendingLeaves.addAll(groups);
    groups.clear();
    return this;
  }
}
