package io.switchboard.node.stream;

/** Names of streams: {@value #INBOX} for a session inbox, anything else valid is a group. */
public final class StreamNames {

  /** The stream of a session's direct messages. */
  public static final String INBOX = "@";

  /** Longest group name accepted, in characters. */
  public static final int MAX_GROUP_LENGTH = 200;

  private StreamNames() {}

  /**
   * Whether a group name is acceptable: 1 to {@value #MAX_GROUP_LENGTH} characters, no control
   * characters or whitespace, not starting with '@' (reserved for session streams).
   */
  public static boolean isValidGroup(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_GROUP_LENGTH) {
      return false;
    }
    if (name.charAt(0) == '@') {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isISOControl(c) || Character.isWhitespace(c)) {
        return false;
      }
    }
    return true;
  }
}
