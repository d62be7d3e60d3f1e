package io.switchboard.node.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How clients prove who they are and what they may do ({@code switchboard.auth}): the mode, the
 * keys tokens are verified with, the claims read from them, where the edge looks for a token, the
 * allowed WebSocket origins, the user-defined frame interceptors and the connect hook.
 */
public record AuthSettings(
    Mode mode,
    List<String> hmacSecrets,
    List<String> publicKeys,
    List<String> publicKeyFiles,
    String jwksFile,
    String issuer,
    String audience,
    Duration clockSkew,
    boolean requireExpiry,
    String userClaim,
    String joinClaim,
    String publishClaim,
    String queryParameter,
    String cookieName,
    boolean requireTokenAtUpgrade,
    List<String> allowedOrigins,
    Duration tokenExpiryWarning,
    List<String> interceptors,
    boolean connectHook,
    String connectHookPath,
    Duration connectHookTimeout,
    String anonymousUserId,
    List<String> anonymousJoin,
    List<String> anonymousPublish,
    String devUserId,
    Duration devTokenTtl) {

  /** Whether connections need a token. */
  public enum Mode {
    /** Every connection presents a valid JWT (the default). */
    JWT,
    /** Every connection is accepted as one shared anonymous user; for development only. */
    ANONYMOUS
  }

  /** Reads {@code switchboard.auth}. */
  public static AuthSettings create(Config config) {
    Config c = config.getConfig("switchboard.auth");
    List<String> secrets = new ArrayList<>(c.getStringList("hmac-secrets"));
    if (!c.getString("hmac-secret").isBlank()) {
      secrets.add(0, c.getString("hmac-secret"));
    }
    return new AuthSettings(
        Mode.valueOf(c.getString("mode").trim().toUpperCase(Locale.ROOT)),
        List.copyOf(secrets),
        c.getStringList("public-keys"),
        c.getStringList("public-key-files"),
        c.getString("jwks-file").trim(),
        c.getString("issuer").trim(),
        c.getString("audience").trim(),
        c.getDuration("clock-skew"),
        c.getBoolean("require-expiry"),
        c.getString("user-claim"),
        c.getString("join-claim"),
        c.getString("publish-claim"),
        c.getString("query-parameter"),
        c.getString("cookie-name").trim(),
        c.getBoolean("require-token-at-upgrade"),
        c.getStringList("allowed-origins"),
        c.getDuration("token-expiry-warning"),
        c.getStringList("interceptors"),
        c.getBoolean("connect-hook.enabled"),
        c.getString("connect-hook.path"),
        c.getDuration("connect-hook.timeout"),
        c.getString("anonymous.user-id"),
        c.getStringList("anonymous.join"),
        c.getStringList("anonymous.publish"),
        c.getString("dev-token.user-id"),
        c.getDuration("dev-token.ttl"));
  }

  /** True when no verification key of any kind is configured. */
  public boolean hasNoKeys() {
    return hmacSecrets.isEmpty()
        && publicKeys.isEmpty()
        && publicKeyFiles.isEmpty()
        && jwksFile.isEmpty();
  }
}
