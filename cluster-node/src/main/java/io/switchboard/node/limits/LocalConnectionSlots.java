package io.switchboard.node.limits;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections per user on this node only. A user's entry disappears with their last connection.
 * Thread-safe.
 */
public final class LocalConnectionSlots implements ConnectionSlots {
  private final int max;
  private final ConcurrentHashMap<String, Set<String>> held = new ConcurrentHashMap<>();

  public LocalConnectionSlots(int max) {
    this.max = max;
  }

  @Override
  public CompletionStage<Boolean> acquire(String userId, String connectionId) {
    return CompletableFuture.completedFuture(tryAcquire(userId, connectionId));
  }

  /** Takes a slot now; false when the user has none left. */
  public boolean tryAcquire(String userId, String connectionId) {
    boolean[] granted = new boolean[1];
    held.compute(
        userId,
        (u, ids) -> {
          Set<String> set = ids == null ? new HashSet<>() : ids;
          if (set.contains(connectionId) || set.size() < max) {
            set.add(connectionId);
            granted[0] = true;
          }
          return set.isEmpty() ? null : set;
        });
    return granted[0];
  }

  @Override
  public void release(String userId, String connectionId) {
    held.computeIfPresent(
        userId,
        (u, ids) -> {
          ids.remove(connectionId);
          return ids.isEmpty() ? null : ids;
        });
  }

  /** Slots {@code userId} holds on this node. */
  public int held(String userId) {
    Set<String> ids = held.get(userId);
    return ids == null ? 0 : ids.size();
  }
}
