package io.switchboard.node.user;

import java.util.ArrayList;
import java.util.List;

/** The sessions of a user, oldest first. Immutable: users have few sessions. */
public record UserState(List<String> sessionIds) {

  /** A user with no session. */
  public static final UserState EMPTY = new UserState(List.of());

  public UserState {
    sessionIds = List.copyOf(sessionIds);
  }

  public boolean has(String sessionId) {
    return sessionIds.contains(sessionId);
  }

  public UserState withSession(String sessionId) {
    if (has(sessionId)) {
      return this;
    }
    List<String> more = new ArrayList<>(sessionIds);
    more.add(sessionId);
    return new UserState(more);
  }

  public UserState withoutSession(String sessionId) {
    if (!has(sessionId)) {
      return this;
    }
    List<String> fewer = new ArrayList<>(sessionIds);
    fewer.remove(sessionId);
    return new UserState(fewer);
  }
}
