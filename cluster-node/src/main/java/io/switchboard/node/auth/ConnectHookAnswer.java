package io.switchboard.node.auth;

import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a backend worker answers the connect hook, and what the node makes of it: a 2xx reply with
 * {@value #USER} (and optionally {@value #JOIN}, {@value #PUBLISH} — group patterns separated by
 * spaces or commas — and {@value #EXPIRES_AT}, epoch milliseconds) admits the upgrade as that user;
 * 401 and 403 are passed on to the client; any other status is 403. Header names are compared
 * without regard to case.
 */
public final class ConnectHookAnswer {
  /** Reply header: the user id. */
  public static final String USER = "x-switchboard-user";

  /** Reply header: group patterns the user may join. */
  public static final String JOIN = "x-switchboard-join";

  /** Reply header: group patterns the user may publish to. */
  public static final String PUBLISH = "x-switchboard-publish";

  /** Reply header: when the connection's credentials expire (epoch ms); none: never. */
  public static final String EXPIRES_AT = "x-switchboard-expires-at";

  private ConnectHookAnswer() {}

  /** The decision for a worker's reply. */
  static Gatekeeper.UpgradeDecision decide(int status, Map<String, String> headers) {
    if (status < 200 || status >= 300) {
      return new Gatekeeper.Refuse(status == 401 ? 401 : 403, "refused by the connect hook");
    }
    Map<String, String> h = new HashMap<>();
    headers.forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v));
    String userId = h.getOrDefault(USER, "").trim();
    if (userId.isEmpty() || userId.length() > TokenVerifier.MAX_USER_ID) {
      return new Gatekeeper.Refuse(403, "the connect hook named no user");
    }
    try {
      String expires = h.get(EXPIRES_AT);
      return new Gatekeeper.Proceed(
          new Identity(
              userId,
              TokenVerifier.patterns(h.get(JOIN), JOIN),
              TokenVerifier.patterns(h.get(PUBLISH), PUBLISH),
              expires == null ? null : Instant.ofEpochMilli(Long.parseLong(expires.trim())),
              Identity.Kind.HOOK));
    } catch (IllegalArgumentException e) {
      return new Gatekeeper.Refuse(403, "unusable connect hook answer: " + e.getMessage());
    }
  }
}
