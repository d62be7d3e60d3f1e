package io.switchboard.node.edge;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Session ids and resume tokens: random, URL-safe, unguessable. Only the SHA-256 of a resume token
 * ever leaves the connection that issued or received it (sessions store the hash, never the token).
 */
final class SessionSecrets {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  private SessionSecrets() {}

  /** 128 random bits. */
  static String newSessionId() {
    return random(16);
  }

  /** 256 random bits. */
  static String newResumeToken() {
    return random(32);
  }

  /** The hash a session keeps of its resume token. */
  static ByteString hash(String token) {
    try {
      return ByteString.copyFrom(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return ENCODER.encodeToString(b);
  }
}
