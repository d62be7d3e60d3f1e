package io.switchboard.persistence.redis;

/**
 * A journal or snapshot-store operation that Redis did not complete: unreachable, too slow (the
 * operation timeout passed), or answering with an error. The message names the operation and where
 * Redis is. A write that failed this way may or may not have been applied; the journal never
 * reports such a write as rejected, so the writer treats it as failed and recovers.
 */
public final class RedisPersistenceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** An operation that failed with a cause from Redisson or the timeout. */
  public RedisPersistenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
