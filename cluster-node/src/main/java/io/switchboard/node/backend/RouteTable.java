package io.switchboard.node.backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which worker serves what, and the choice of one for each request: the most specific matching
 * route wins, and requests of one route are spread round-robin over every worker that serves it.
 * Not thread-safe: owned by one router actor. {@code W} identifies a worker.
 */
final class RouteTable<W> {

  /** What a worker registered. */
  record Registration(String workerId, List<RouteTemplate> routes, Set<Backend.EventKind> events) {}

  /** The chosen worker, the route that matched and its parameters. */
  record Match<W>(W worker, RouteTemplate route, Map<String, String> params) {}

  private final Map<W, Registration> workers = new LinkedHashMap<>();
  private final Map<String, Integer> turns = new HashMap<>();

  /** Adds a worker or replaces what it serves. */
  void put(W worker, Registration registration) {
    workers.put(worker, registration);
  }

  /** Forgets a worker; false if it was unknown. */
  boolean remove(W worker) {
    return workers.remove(worker) != null;
  }

  boolean contains(W worker) {
    return workers.containsKey(worker);
  }

  int size() {
    return workers.size();
  }

  /** The worker for a request, if any route matches {@code method} and {@code path}. */
  Optional<Match<W>> forRequest(String method, String path) {
    return choose(method.toUpperCase(Locale.ROOT), RouteTemplate.segmentsOf(path), false);
  }

  /** The worker for a one-way message: routes match on the path alone. */
  Optional<Match<W>> forMessage(String path) {
    return choose(null, RouteTemplate.segmentsOf(path), true);
  }

  /** One of the workers that want events of {@code kind}, in turn. */
  Optional<W> forEvent(Backend.EventKind kind) {
    List<W> wanting = new ArrayList<>();
    workers.forEach(
        (worker, registration) -> {
          if (registration.events().contains(kind)) {
            wanting.add(worker);
          }
        });
    return wanting.isEmpty() ? Optional.empty() : Optional.of(turn("event " + kind, wanting));
  }

  /** Every route pattern served, with its number of workers, sorted by path then method. */
  List<Backend.RouteCount> routeCounts() {
    Map<String, int[]> counts = new TreeMap<>();
    for (Registration registration : workers.values()) {
      for (RouteTemplate route : registration.routes()) {
        counts.computeIfAbsent(route.path() + " " + route.method(), k -> new int[1])[0]++;
      }
    }
    List<Backend.RouteCount> out = new ArrayList<>();
    counts.forEach(
        (key, n) -> {
          int space = key.lastIndexOf(' ');
          out.add(new Backend.RouteCount(key.substring(space + 1), key.substring(0, space), n[0]));
        });
    return out;
  }

  private Optional<Match<W>> choose(String method, List<String> segments, boolean anyMethod) {
    List<Match<W>> best = new ArrayList<>();
    for (Map.Entry<W, Registration> entry : workers.entrySet()) {
      Match<W> own = bestOf(entry.getKey(), entry.getValue(), method, segments, anyMethod);
      if (own == null) {
        continue;
      }
      int cmp = best.isEmpty() ? 1 : own.route().compareSpecificity(best.get(0).route(), anyMethod);
      if (cmp > 0) {
        best.clear();
      }
      if (cmp >= 0) {
        best.add(own);
      }
    }
    if (best.isEmpty()) {
      return Optional.empty();
    }
    RouteTemplate route = best.get(0).route();
    String key = anyMethod ? "message " + route.shape() : route.method() + " " + route.shape();
    return Optional.of(turn(key, best));
  }

  /** The most specific of one worker's routes that matches, or null. */
  private Match<W> bestOf(
      W worker,
      Registration registration,
      String method,
      List<String> segments,
      boolean anyMethod) {
    Match<W> best = null;
    for (RouteTemplate route : registration.routes()) {
      if (!anyMethod && !route.acceptsMethod(method)) {
        continue;
      }
      Map<String, String> params = route.match(segments);
      if (params != null
          && (best == null || route.compareSpecificity(best.route(), anyMethod) > 0)) {
        best = new Match<>(worker, route, params);
      }
    }
    return best;
  }

  private <T> T turn(String key, List<T> candidates) {
    int n = turns.merge(key, 1, (a, b) -> a == Integer.MAX_VALUE ? 0 : a + 1);
    return candidates.get(Math.floorMod(n - 1, candidates.size()));
  }
}
