package io.switchboard.node.bench;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HS256 tokens for benchmark users: the node is started with the same random secret, and each
 * socket connects as its own user ({@code sub}) allowed to join and publish everywhere, as a real
 * deployment's clients would (per-user limits then count per socket, not for all sockets at once).
 */
final class Jwt {
  private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();
  private static final String HEADER =
      URL.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));

  private final byte[] secret;

  Jwt() {
    secret = new byte[32];
    new SecureRandom().nextBytes(secret);
  }

  /** The secret as the node's switchboard.auth.hmac-secret setting. */
  String nodeSetting() {
    return "base64:" + Base64.getEncoder().encodeToString(secret);
  }

  /** A token for {@code user}, valid for a day, joining and publishing to every group. */
  String token(String user) {
    long now = System.currentTimeMillis() / 1000;
    String claims =
        "{\"sub\":\""
            + user
            + "\",\"iat\":"
            + now
            + ",\"exp\":"
            + (now + 86_400)
            + ",\"sb_join\":[\"*\"],\"sb_publish\":[\"*\"]}";
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
