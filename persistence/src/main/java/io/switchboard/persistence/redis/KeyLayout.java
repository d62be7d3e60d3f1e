package io.switchboard.persistence.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Redis keys of one persistence id. Every key of a persistence id carries the same hash tag, so
 * the Lua scripts that touch several of them work on Redis Cluster:
 *
 * <pre>
 * &lt;prefix&gt;:j:{&lt;pid&gt;}   sorted set: score = sequence number, member = journal entry
 * &lt;prefix&gt;:h:{&lt;pid&gt;}   string: highest sequence number ever written (survives deletes)
 * &lt;prefix&gt;:s:{&lt;pid&gt;}   hash: field = sequence number, value = snapshot
 * &lt;prefix&gt;:si:{&lt;pid&gt;}  sorted set: score = sequence number, member = "seqNr:timestamp"
 * </pre>
 *
 * A persistence id holding a '}' would end the hash tag early, so such ids are tagged with a digest
 * of the id instead and the id follows the tag.
 */
final class KeyLayout {

  private final String prefix;

  KeyLayout(String prefix) {
    this.prefix = prefix;
  }

  String journal(String persistenceId) {
    return key("j", persistenceId);
  }

  String highest(String persistenceId) {
    return key("h", persistenceId);
  }

  String snapshots(String persistenceId) {
    return key("s", persistenceId);
  }

  String snapshotIndex(String persistenceId) {
    return key("si", persistenceId);
  }

  private String key(String kind, String persistenceId) {
    if (persistenceId.indexOf('}') < 0) {
      return prefix + ':' + kind + ":{" + persistenceId + '}';
    }
    return prefix + ':' + kind + ":{#" + digest(persistenceId) + "}:" + persistenceId;
  }

  private static String digest(String persistenceId) {
    try {
      byte[] sha =
          MessageDigest.getInstance("SHA-1").digest(persistenceId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JVM", e);
    }
  }
}
