package io.switchboard.node.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The API keys a backend may present as {@code authorization: Bearer <key>}. Keys are compared as
 * SHA-256 digests with {@link MessageDigest#isEqual} against every configured key, so the time a
 * check takes says nothing about how much of a key was right. With no key configured, everything is
 * refused. Immutable, thread-safe.
 */
public final class ApiKeys {
  private static final String BEARER = "bearer ";

  private final List<byte[]> digests;

  /** The keys of {@code switchboard.api.keys} (and {@code api.key}). */
  public ApiKeys(List<String> keys) {
    this.digests = keys.stream().map(ApiKeys::digest).toList();
  }

  /** Whether any key is configured (otherwise the API refuses every call). */
  public boolean configured() {
    return !digests.isEmpty();
  }

  /**
   * Why a call with this {@code authorization} value is refused, or empty when its key is one of
   * the configured keys.
   */
  public Optional<String> refusal(Optional<String> authorization) {
    if (digests.isEmpty()) {
      return Optional.of(
          "the backend API is disabled: no API key is configured "
              + "(switchboard.api.keys or SWITCHBOARD_API_KEY)");
    }
    String value = authorization.orElse("").trim();
    if (!value.toLowerCase(Locale.ROOT).startsWith(BEARER)) {
      return Optional.of("missing API key: send the header authorization: Bearer KEY");
    }
    byte[] presented = digest(value.substring(BEARER.length()).trim());
    boolean match = false;
    for (byte[] known : digests) {
      match |= MessageDigest.isEqual(known, presented);
    }
    return match ? Optional.empty() : Optional.of("invalid API key");
  }

  private static byte[] digest(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
