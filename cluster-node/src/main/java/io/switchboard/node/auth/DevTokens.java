package io.switchboard.node.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * Development credentials: a random HMAC secret for a node started without keys, and HS256 tokens
 * signed with a secret. Also a command line to mint a token for a configured secret:
 *
 * <pre>
 * mvn -q -pl cluster-node exec:java -Dexec.mainClass=io.switchboard.node.auth.DevTokens \
 *   -Dexec.args="--secret SECRET --user alice --join room:* --publish room:* --ttl PT1H"
 * </pre>
 *
 * Claim names are the defaults ({@code sub}, {@code sb_join}, {@code sb_publish}).
 */
public final class DevTokens {
  private static final SecureRandom RANDOM = new SecureRandom();

  private DevTokens() {}

  /** 256 random bits, as a {@code base64:} secret the node's configuration accepts. */
  public static String newSecret() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return "base64:" + Base64.getEncoder().encodeToString(b);
  }

  /** A random backend API key (256 bits, URL-safe). */
  public static String newApiKey() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * A token for {@code userId} allowed to join and publish to the given patterns, valid for {@code
   * ttl}, signed HS256 with {@code secret} (text, or {@code base64:...}).
   */
  public static String mint(
      String secret, String userId, List<String> join, List<String> publish, Duration ttl) {
    Instant now = Instant.now();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(userId)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(ttl)))
            .claim("sb_join", join)
            .claim("sb_publish", publish)
            .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(VerificationKeys.secretBytes(secret)));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("Cannot sign with this secret: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /** Prints a token; see the class comment for the arguments. */
  public static void main(String[] args) {
    String secret = null;
    String user = "dev";
    List<String> join = new ArrayList<>();
    List<String> publish = new ArrayList<>();
    Duration ttl = Duration.ofHours(1);
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--secret" -> secret = args[i + 1];
        case "--user" -> user = args[i + 1];
        case "--join" -> join.add(args[i + 1]);
        case "--publish" -> publish.add(args[i + 1]);
        case "--ttl" -> ttl = Duration.parse(args[i + 1]);
        default -> throw new IllegalArgumentException("Unknown argument " + args[i]);
      }
    }
    if (secret == null) {
      throw new IllegalArgumentException(
          "Usage: --secret SECRET [--user ID] [--join PATTERN]... [--publish PATTERN]... [--ttl"
              + " PT1H]");
    }
    System.out.println(mint(secret, user, join, publish, ttl));
  }
}
