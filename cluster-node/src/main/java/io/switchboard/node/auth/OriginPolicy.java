package io.switchboard.node.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which WebSocket {@code Origin}s may open a connection (against cross-site WebSocket hijacking: a
 * page on another site opening a socket with the victim's cookies).
 *
 * <ul>
 *   <li>No {@code Origin} header: allowed. Browsers always send one on a WebSocket upgrade; its
 *       absence means a non-browser client, which carries its own credentials.
 *   <li>No allowed origins configured: only the same host, i.e. the Origin's host and port equal
 *       those of the request's {@code Host} header (a missing port means the scheme's default).
 *   <li>Allowed origins configured: the Origin must match one of them, compared without regard to
 *       case and a trailing slash; an entry may use {@code *} as a glob ({@code
 *       "https://*.example.com"}, or {@code "*"} for any origin). The same host is then not
 *       implied.
 * </ul>
 *
 * The opaque origin {@code null} (sandboxed frames, files) is refused unless listed. Immutable.
 */
public final class OriginPolicy {
  private final List<GroupPattern> allowed;

  private OriginPolicy(List<GroupPattern> allowed) {
    this.allowed = allowed;
  }

  /** A policy over the configured allowed origins (empty: same host only). */
  public static OriginPolicy create(List<String> allowedOrigins) {
    return new OriginPolicy(
        allowedOrigins.stream().map(OriginPolicy::normalize).map(GroupPattern::new).toList());
  }

  /** Whether a request with these headers may upgrade. */
  public boolean allows(Optional<String> origin, Optional<String> host) {
    if (origin.isEmpty()) {
      return true;
    }
    String o = normalize(origin.get());
    if (!allowed.isEmpty()) {
      return allowed.stream().anyMatch(p -> p.matchesIgnoringCase(o));
    }
    return host.isPresent() && sameHost(o, host.get().trim());
  }

  private static boolean sameHost(String origin, String hostHeader) {
    URI o;
    URI h;
    try {
      o = new URI(origin);
      h = new URI("http://" + hostHeader);
    } catch (URISyntaxException e) {
      return false;
    }
    if (o.getHost() == null || h.getHost() == null || !o.getHost().equalsIgnoreCase(h.getHost())) {
      return false;
    }
    int originPort = o.getPort() >= 0 ? o.getPort() : defaultPort(o.getScheme());
    if (h.getPort() >= 0) {
      return originPort == h.getPort();
    }
    return originPort == 80 || originPort == 443;
  }

  private static int defaultPort(String scheme) {
    String s = scheme == null ? "" : scheme.toLowerCase(Locale.ROOT);
    return s.equals("https") || s.equals("wss") ? 443 : 80;
  }

  private static String normalize(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }
}
