package io.switchboard.node.limits;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * How many connections one user holds at once. A connection takes a slot when it authenticates and
 * gives it back when it stops. Thread-safe; never blocks.
 */
public interface ConnectionSlots {

  /** Takes a slot of {@code userId} for {@code connectionId}; false when the user has none left. */
  CompletionStage<Boolean> acquire(String userId, String connectionId);

  /** Gives the slot back (idempotent). */
  void release(String userId, String connectionId);

  /** No limit. */
  static ConnectionSlots unlimited() {
    return new ConnectionSlots() {
      @Override
      public CompletionStage<Boolean> acquire(String userId, String connectionId) {
        return CompletableFuture.completedFuture(true);
      }

      @Override
      public void release(String userId, String connectionId) {}
    };
  }
}
