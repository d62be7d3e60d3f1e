package io.switchboard.node.auth;

import java.util.Locale;

/**
 * A glob over group names (or origins): {@code *} matches any run of characters, including none;
 * every other character matches itself. {@code "room:*"} matches {@code "room:42"}; {@code "*"}
 * matches everything. Matching is linear in practice and never backtracks more than once per star
 * (no regular expressions, so a hostile pattern or name cannot make it slow). Immutable.
 */
public record GroupPattern(String glob) {

  /** Longest pattern accepted from a token or the configuration. */
  public static final int MAX_LENGTH = 256;

  /** A pattern; fails on an empty or over-long glob. */
  public GroupPattern {
    if (glob == null || glob.isEmpty() || glob.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("a group pattern has 1.." + MAX_LENGTH + " characters");
    }
  }

  /** Whether {@code name} matches this pattern. */
  public boolean matches(String name) {
    return matches(glob, name);
  }

  /** The same pattern compared without regard to case (origins and host names). */
  public boolean matchesIgnoringCase(String name) {
    return matches(glob.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT));
  }

  private static boolean matches(String glob, String name) {
    int g = 0;
    int n = 0;
    int star = -1;
    int resume = 0;
    while (n < name.length()) {
      if (g < glob.length() && glob.charAt(g) == '*') {
        star = g++;
        resume = n;
      } else if (g < glob.length() && glob.charAt(g) == name.charAt(n)) {
        g++;
        n++;
      } else if (star >= 0) {
        g = star + 1;
        n = ++resume;
      } else {
        return false;
      }
    }
    while (g < glob.length() && glob.charAt(g) == '*') {
      g++;
    }
    return g == glob.length();
  }
}
