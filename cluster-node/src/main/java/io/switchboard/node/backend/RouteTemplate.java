package io.switchboard.node.backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A parsed route pattern: a method ("*" for any) and a path template of "/"-separated segments,
 * each literal or {@code :name} (matches one segment, whose value becomes parameter {@code name}).
 * Immutable.
 */
public record RouteTemplate(String method, String path, List<String> segments) {

  /** The method that matches any method. */
  public static final String ANY_METHOD = "*";

  private static final int MAX_LENGTH = 1024;

  public RouteTemplate {
    segments = List.copyOf(segments);
  }

  /**
   * Parses a pattern, e.g. {@code ("GET", "/votes/:room")}.
   *
   * @throws IllegalArgumentException when the method or the template is malformed
   */
  public static RouteTemplate parse(String method, String path) {
    if (method == null || method.isBlank()) {
      throw new IllegalArgumentException("route without a method");
    }
    String m = method.trim().toUpperCase(Locale.ROOT);
    if (!m.equals(ANY_METHOD) && !m.chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
      throw new IllegalArgumentException("invalid method [" + method + "]");
    }
    if (path == null || !path.startsWith("/") || path.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("route path must start with / [" + path + "]");
    }
    if (path.indexOf('?') >= 0 || path.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("invalid route path [" + path + "]");
    }
    List<String> segments = segmentsOf(path);
    List<String> names = new ArrayList<>();
    for (String segment : segments) {
      if (segment.startsWith(":")) {
        String name = segment.substring(1);
        if (name.isEmpty() || names.contains(name)) {
          throw new IllegalArgumentException("invalid parameter [" + segment + "] in " + path);
        }
        names.add(name);
      }
    }
    return new RouteTemplate(m, path, segments);
  }

  /** The segments of a request path: without the query, leading and trailing slash. */
  public static List<String> segmentsOf(String path) {
    int query = path.indexOf('?');
    String p = query >= 0 ? path.substring(0, query) : path;
    int from = p.startsWith("/") ? 1 : 0;
    int to = p.endsWith("/") && p.length() > from ? p.length() - 1 : p.length();
    if (from >= to) {
      return List.of();
    }
    return List.of(p.substring(from, to).split("/", -1));
  }

  /** Whether requests of {@code requestMethod} (upper-case) may use this route. */
  public boolean acceptsMethod(String requestMethod) {
    return method.equals(ANY_METHOD) || method.equals(requestMethod);
  }

  /** The parameters if {@code pathSegments} match this template, else null. */
  public Map<String, String> match(List<String> pathSegments) {
    if (pathSegments.size() != segments.size()) {
      return null;
    }
    Map<String, String> params = null;
    for (int i = 0; i < segments.size(); i++) {
      String template = segments.get(i);
      String actual = pathSegments.get(i);
      if (template.startsWith(":")) {
        if (actual.isEmpty()) {
          return null;
        }
        if (params == null) {
          params = new HashMap<>();
        }
        params.put(template.substring(1), actual);
      } else if (!template.equals(actual)) {
        return null;
      }
    }
    return params == null ? Map.of() : params;
  }

  /**
   * Positive when this template is more specific than {@code other} for a path both match: at the
   * first segment where one is literal and the other a parameter, the literal wins; then an exact
   * method beats "*" (unless {@code ignoreMethod}). Zero: the same shape.
   */
  public int compareSpecificity(RouteTemplate other, boolean ignoreMethod) {
    for (int i = 0; i < Math.min(segments.size(), other.segments.size()); i++) {
      boolean literal = !segments.get(i).startsWith(":");
      boolean otherLiteral = !other.segments.get(i).startsWith(":");
      if (literal != otherLiteral) {
        return literal ? 1 : -1;
      }
    }
    if (ignoreMethod) {
      return 0;
    }
    boolean exact = !method.equals(ANY_METHOD);
    boolean otherExact = !other.method.equals(ANY_METHOD);
    return exact == otherExact ? 0 : exact ? 1 : -1;
  }

  /** The template with parameter names erased: templates of one shape serve the same paths. */
  public String shape() {
    StringBuilder b = new StringBuilder();
    for (String segment : segments) {
      b.append('/').append(segment.startsWith(":") ? ":" : segment);
    }
    return b.length() == 0 ? "/" : b.toString();
  }
}
