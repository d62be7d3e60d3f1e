package io.switchboard.node.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimNames;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.switchboard.node.config.AuthSettings;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Verifies a JWT and turns its claims into an {@link Identity}. The signature is checked with the
 * configured keys, each pinned to the algorithms of its type ({@link VerificationKeys}); unsecured
 * tokens ({@code alg: none}) and encrypted ones are refused; {@code exp} and {@code nbf} are
 * honoured with the configured clock skew; {@code iss} and {@code aud} must match when configured.
 * The user id comes from the user claim, the group patterns from the join and publish claims (a
 * list of strings, or one string of patterns separated by spaces or commas). Thread-safe and cheap
 * to share: one per node.
 */
public final class TokenVerifier {

  /** Most patterns one claim may carry. */
  public static final int MAX_PATTERNS = 256;

  /** Longest user id accepted. */
  public static final int MAX_USER_ID = 200;

  /** The outcome of a verification. */
  public sealed interface Result {}

  /** A valid token and the identity it proves. */
  public record Verified(Identity identity) implements Result {}

  /** An invalid token, with a reason fit to show the client. */
  public record Rejected(String reason) implements Result {}

  private final DefaultJWTProcessor<SecurityContext> processor;
  private final VerificationKeys keys;
  private final String userClaim;
  private final String joinClaim;
  private final String publishClaim;
  private final Duration clockSkew;
  private final int maxTokenSize;

  private TokenVerifier(AuthSettings settings, VerificationKeys keys, int maxTokenSize) {
    this.keys = keys;
    this.userClaim = settings.userClaim();
    this.joinClaim = settings.joinClaim();
    this.publishClaim = settings.publishClaim();
    this.clockSkew = settings.clockSkew();
    this.maxTokenSize = maxTokenSize;
    Set<String> required = new HashSet<>();
    required.add(settings.userClaim());
    if (settings.requireExpiry()) {
      required.add(JWTClaimNames.EXPIRATION_TIME);
    }
    JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
    if (!settings.issuer().isEmpty()) {
      exact.issuer(settings.issuer());
    }
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            // Mutable sets: the library asks them whether they contain null.
            settings.audience().isEmpty() ? null : new HashSet<>(List.of(settings.audience())),
            exact.build(),
            required,
            new HashSet<>());
    claims.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, settings.clockSkew().toSeconds()));
    this.processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(keys);
    processor.setJWTClaimsSetVerifier(claims);
  }

  /**
   * A verifier over the keys configured in {@code settings}, plus {@code extraHmacSecrets} (the
   * node's generated development secret).
   *
   * @throws IllegalArgumentException when a key cannot be loaded, or none is configured
   */
  public static TokenVerifier create(
      AuthSettings settings, List<String> extraHmacSecrets, int maxTokenSize) {
    List<String> secrets = new ArrayList<>(settings.hmacSecrets());
    secrets.addAll(extraHmacSecrets);
    VerificationKeys keys =
        VerificationKeys.load(
            secrets, settings.publicKeys(), settings.publicKeyFiles(), settings.jwksFile());
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("No key to verify tokens with (switchboard.auth)");
    }
    return new TokenVerifier(settings, keys, maxTokenSize);
  }

  /** The algorithms a token may be signed with: those of the configured key types. */
  public Set<JWSAlgorithm> algorithms() {
    return keys.algorithms();
  }

  /** The tolerance applied to {@code exp} and {@code nbf}. */
  public Duration clockSkew() {
    return clockSkew;
  }

  /** Verifies {@code token}; never throws for any input. */
  public Result verify(String token) {
    if (token == null || token.isBlank()) {
      return new Rejected("no token");
    }
    if (token.length() > maxTokenSize) {
      return new Rejected("token larger than " + maxTokenSize + " bytes");
    }
    JWTClaimsSet claims;
    try {
      claims = processor.process(token.trim(), null);
    } catch (ParseException e) {
      return new Rejected("malformed token");
    } catch (BadJOSEException | JOSEException e) {
      return new Rejected(reason(e));
    } catch (RuntimeException e) {
      // A hostile token must never fail the caller, whatever the library makes of it.
      return new Rejected("malformed token");
    }
    return identity(claims);
  }

  private Result identity(JWTClaimsSet claims) {
    Object user = claims.getClaim(userClaim);
    if (!(user instanceof String userId) || userId.isBlank() || userId.length() > MAX_USER_ID) {
      return new Rejected(
          "claim " + userClaim + " must be a user id of 1.." + MAX_USER_ID + " chars");
    }
    try {
      return new Verified(
          new Identity(
              userId,
              patterns(claims.getClaim(joinClaim), joinClaim),
              patterns(claims.getClaim(publishClaim), publishClaim),
              claims.getExpirationTime() == null ? null : claims.getExpirationTime().toInstant(),
              Identity.Kind.TOKEN));
    } catch (IllegalArgumentException e) {
      return new Rejected(e.getMessage());
    }
  }

  /** Patterns from a claim (a list of strings, or one string separated by spaces or commas). */
  static List<GroupPattern> patterns(Object claim, String name) {
    List<String> raw = new ArrayList<>();
    if (claim == null) {
      return List.of();
    } else if (claim instanceof String s) {
      for (String part : s.split("[\\s,]+")) {
        if (!part.isEmpty()) {
          raw.add(part);
        }
      }
    } else if (claim instanceof Collection<?> list) {
      for (Object o : list) {
        if (!(o instanceof String s)) {
          throw new IllegalArgumentException("claim " + name + " must hold strings");
        }
        raw.add(s);
      }
    } else {
      throw new IllegalArgumentException("claim " + name + " must be a string or a list");
    }
    if (raw.size() > MAX_PATTERNS) {
      throw new IllegalArgumentException("claim " + name + " has more than " + MAX_PATTERNS);
    }
    List<GroupPattern> out = new ArrayList<>(raw.size());
    for (String s : raw) {
      try {
        out.add(new GroupPattern(s));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("claim " + name + ": " + e.getMessage());
      }
    }
    return out;
  }

  private static String reason(Exception e) {
    String message = String.valueOf(e.getMessage());
    if (message.contains("Expired")) {
      return "token expired";
    }
    if (message.contains("before use time")) {
      return "token not yet valid";
    }
    if (message.contains("Unsecured") || message.contains("plain")) {
      return "unsigned tokens are refused";
    }
    if (message.contains("no matching key") || message.contains("Another algorithm expected")) {
      return "token algorithm or key not accepted";
    }
    if (message.contains("Invalid signature") || message.contains("signature")) {
      return "invalid token signature";
    }
    if (message.contains("Encrypted")) {
      return "encrypted tokens are refused";
    }
    return "token rejected: " + message;
  }
}
