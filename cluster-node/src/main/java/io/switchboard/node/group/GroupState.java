package io.switchboard.node.group;

import io.switchboard.node.stream.Publication;
import io.switchboard.node.stream.RetainedLog;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The durable state of a group: members, the retained publication log and the idempotency keys of
 * recent publications. Mutable for speed, changed only by {@link GroupEntity}'s event handler,
 * never shared outside the entity.
 */
public final class GroupState {
  private static final GroupState TEMPLATE = empty();

  private final Set<String> members;
  private final RetainedLog log;
  private final LinkedHashMap<String, KeyEntry> recentKeys;

  /** Where an idempotency key was published, and when. */
  public record KeyEntry(long offset, long timestampMs) {}

  GroupState(Set<String> members, RetainedLog log, LinkedHashMap<String, KeyEntry> recentKeys) {
    this.members = members;
    this.log = log;
    this.recentKeys = recentKeys;
  }

  /** The state of a group nobody has used yet (a fresh, writable instance). */
  public static GroupState empty() {
    return new GroupState(new HashSet<>(), new RetainedLog(), new LinkedHashMap<>());
  }

  /**
   * The entity's empty state. Pekko evaluates it once and reuses it when the entity restarts, so it
   * is never written to: {@link #writable()} hands the first event a fresh copy.
   */
  static GroupState template() {
    return TEMPLATE;
  }

  /** This state, or a fresh one if this is the shared template. */
  GroupState writable() {
    return this == TEMPLATE ? empty() : this;
  }

  public long head() {
    return log.head();
  }

  public long firstOffset() {
    return log.firstOffset();
  }

  public long trimmedThrough() {
    return log.trimmedThrough();
  }

  public int retainedCount() {
    return log.size();
  }

  public boolean isMember(String sessionId) {
    return members.contains(sessionId);
  }

  /** The members (read-only view). */
  public Set<String> members() {
    return java.util.Collections.unmodifiableSet(members);
  }

  RetainedLog log() {
    return log;
  }

  Map<String, KeyEntry> recentKeys() {
    return recentKeys;
  }

  /** The offset of an earlier publication with this key, if it is within the window. */
  public Optional<Long> offsetOfKey(String key, long nowMs, long windowMs) {
    if (key == null || key.isEmpty()) {
      return Optional.empty();
    }
    KeyEntry entry = recentKeys.get(key);
    if (entry == null || nowMs - entry.timestampMs() > windowMs) {
      return Optional.empty();
    }
    return Optional.of(entry.offset());
  }

  GroupState memberJoined(String sessionId) {
    members.add(sessionId);
    return this;
  }

  GroupState memberLeft(String sessionId) {
    members.remove(sessionId);
    return this;
  }

  GroupState published(
      Publication publication, String key, int maxRetained, int maxKeys, long keyWindowMs) {
    log.append(publication);
    log.trimToCount(maxRetained);
    if (key != null && !key.isEmpty()) {
      recentKeys.remove(key);
      recentKeys.put(key, new KeyEntry(publication.offset(), publication.timestampMs()));
    }
    Iterator<KeyEntry> it = recentKeys.values().iterator();
    while (it.hasNext()) {
      KeyEntry e = it.next();
      if (recentKeys.size() > maxKeys
          || publication.timestampMs() - e.timestampMs() > keyWindowMs) {
        it.remove();
      } else {
        break;
      }
    }
    return this;
  }

  GroupState trimmed(long throughOffset) {
    log.trimThrough(throughOffset);
    return this;
  }
}
