package io.switchboard.node.limits;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.redisson.api.RedissonClient;

/**
 * Redis keys of per-user limits: {@code <prefix>:<kind>:<hash of the user id>}. The user id is
 * hashed so that no client-chosen character (braces, colons) ever shapes a key or its cluster slot.
 */
final class RedisKeys {
  private RedisKeys() {}

  static String key(String prefix, String kind, String userId) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(userId.getBytes(StandardCharsets.UTF_8));
      return prefix + ":" + kind + ":" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The client when it has connected, else null (callers then count locally). */
  static RedissonClient connected(CompletionStage<RedissonClient> client) {
    CompletableFuture<RedissonClient> f = client.toCompletableFuture();
    return f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
  }
}
