package io.switchboard.loadtest;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HS256 tokens signed with a secret made for this run; the nodes are started with the same secret
 * ({@code SWITCHBOARD_AUTH_HMAC_SECRET}). Every virtual user is its own user, as in production, so
 * per-user limits count per client.
 */
final class Tokens {
  private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();
  private static final String HEADER =
      URL.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));

  private final byte[] secret = new byte[32];

  Tokens() {
    new SecureRandom().nextBytes(secret);
  }

  /** The secret as the node's {@code SWITCHBOARD_AUTH_HMAC_SECRET}. */
  String nodeSecret() {
    return "base64:" + Base64.getEncoder().encodeToString(secret);
  }

  /** A token for {@code user}, valid for a day, joining and publishing to every group. */
  String token(String user) {
    long now = System.currentTimeMillis() / 1000;
    String claims =
        String.format(
            "{\"sub\":\"%s\",\"iat\":%d,\"exp\":%d,\"sb_join\":[\"*\"],\"sb_publish\":[\"*\"]}",
            user, now, now + 86_400);
    String signed = HEADER + "." + URL.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return signed
          + "."
          + URL.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
