package io.switchboard.examples.worker;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The votes of every room: one vote per user and room (a new vote replaces the user's earlier one),
 * and which rooms changed since their tally was last published. Thread-safe (requests and the
 * publishing timer run on different threads).
 */
final class Tallies {
  private final Map<String, Map<String, String>> votesByRoom = new HashMap<>();
  private final Set<String> changed = ConcurrentHashMap.newKeySet();

  /** Records {@code userId}'s vote in {@code room}; returns the room's tally. */
  synchronized Map<String, Integer> vote(String room, String userId, String option) {
    votesByRoom.computeIfAbsent(room, r -> new HashMap<>()).put(userId, option);
    changed.add(room);
    return tally(room);
  }

  /** Votes per option in {@code room}, options sorted. */
  synchronized Map<String, Integer> tally(String room) {
    Map<String, Integer> counts = new TreeMap<>();
    votesByRoom
        .getOrDefault(room, Map.of())
        .values()
        .forEach(o -> counts.merge(o, 1, Integer::sum));
    return counts;
  }

  /** The rooms whose tally changed since the last call, and forgets that they did. */
  Set<String> drainChanged() {
    Set<String> rooms = Set.copyOf(changed);
    changed.removeAll(rooms);
    return rooms;
  }

  /** A tally as JSON: {"room":"r","votes":{"no":1,"yes":2}}. */
  static String json(String room, Map<String, Integer> tally) {
    StringBuilder b = new StringBuilder("{\"room\":").append(quote(room)).append(",\"votes\":{");
    String separator = "";
    for (Map.Entry<String, Integer> e : tally.entrySet()) {
      b.append(separator).append(quote(e.getKey())).append(':').append(e.getValue());
      separator = ",";
    }
    return b.append("}}").toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
