package io.switchboard.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Bridge routes ({@code switchboard.bridge}): each {@code /<path-prefix>/<name>} fronts an upstream
 * WebSocket server. Every route starts from {@code defaults}; a bad route stops the node at
 * start-up with the offending key named.
 */
public record BridgeSettings(String pathPrefix, Map<String, Route> routes) {

  private static final Pattern ROUTE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  /** Headers the WebSocket client sets itself; a route may neither pass nor add them. */
  private static final Set<String> RESERVED_HEADERS =
      Set.of("host", "connection", "upgrade", "content-length", "transfer-encoding");

  /**
   * One bridge route.
   *
   * @param name the path segment after the prefix
   * @param upstream the {@code ws://} or {@code wss://} URL of the upstream server
   * @param passHeaders browser request headers passed on (lower case)
   * @param addHeaders headers added to every upstream request
   * @param replayHeader header carrying the last journaled upstream id on reconnection ("": none)
   * @param replayIdPointer JSON pointer of the id in upstream messages; "" counts messages instead
   * @param sessionIdHeader header naming the session to the upstream ("": not sent)
   * @param userIdHeader header naming the user to the upstream ("": not sent)
   * @param binaryFrames whether client Message bodies go upstream as binary frames by default
   * @param retryWindow how long an upstream that was lost is retried
   * @param minBackoff first delay between attempts
   * @param maxBackoff longest delay between attempts
   * @param gracePeriod how long the upstream outlives a browser that went away
   * @param maxHeldMessages client messages held while the upstream is not connected
   * @param maxMessageSize largest upstream message accepted, in bytes
   */
  public record Route(
      String name,
      URI upstream,
      List<String> passHeaders,
      Map<String, String> addHeaders,
      String replayHeader,
      String replayIdPointer,
      String sessionIdHeader,
      String userIdHeader,
      boolean binaryFrames,
      Duration retryWindow,
      Duration minBackoff,
      Duration maxBackoff,
      Duration gracePeriod,
      int maxHeldMessages,
      int maxMessageSize) {

    /** Whether the replay id is the count of journaled upstream messages. */
    public boolean countsMessages() {
      return replayIdPointer.isEmpty();
    }
  }

  /** Reads {@code switchboard.bridge}. */
  public static BridgeSettings create(Config config) {
    Config c = config.getConfig("switchboard.bridge");
    Config defaults = c.getConfig("defaults");
    Map<String, Route> routes = new LinkedHashMap<>();
    for (String name : c.getObject("routes").keySet()) {
      Config route =
          c.getConfig("routes").getConfig(ConfigUtil.quoteString(name)).withFallback(defaults);
      routes.put(name, route(name, route, "switchboard.bridge.routes." + name));
    }
    String prefix = c.getString("path-prefix");
    if (!ROUTE_NAME.matcher(prefix).matches()) {
      throw new ConfigException.BadValue("switchboard.bridge.path-prefix", "not a path segment");
    }
    return new BridgeSettings(prefix, Map.copyOf(routes));
  }

  /** The route of this name, if configured. */
  public Optional<Route> route(String name) {
    return Optional.ofNullable(routes.get(name));
  }

  private static Route route(String name, Config c, String path) {
    if (!ROUTE_NAME.matcher(name).matches()) {
      throw new ConfigException.BadValue(path, "route names are letters, digits, '.', '_', '-'");
    }
    URI upstream;
    try {
      upstream = new URI(c.getString("upstream"));
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException.BadValue(path + ".upstream", e.getMessage());
    }
    String scheme = String.valueOf(upstream.getScheme()).toLowerCase(Locale.ROOT);
    if (!scheme.equals("ws") && !scheme.equals("wss") || upstream.getHost() == null) {
      throw new ConfigException.BadValue(path + ".upstream", "needs a ws:// or wss:// URL");
    }
    List<String> pass =
        c.getStringList("pass-headers").stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    Map<String, String> add = new LinkedHashMap<>();
    c.getObject("add-headers").unwrapped().forEach((k, v) -> add.put(k, String.valueOf(v)));
    for (String header : concat(pass, add.keySet())) {
      String lower = header.toLowerCase(Locale.ROOT);
      if (RESERVED_HEADERS.contains(lower) || lower.startsWith("sec-websocket-")) {
        throw new ConfigException.BadValue(path, "header " + header + " is set by the bridge");
      }
    }
    String replayId = c.getString("replay-id");
    String pointer;
    if (replayId.equals("counter")) {
      pointer = "";
    } else if (replayId.startsWith("json:") && replayId.length() > 5) {
      String field = replayId.substring(5);
      pointer = field.startsWith("/") ? field : "/" + field;
    } else {
      throw new ConfigException.BadValue(path + ".replay-id", "\"counter\" or \"json:<field>\"");
    }
    String frameType = c.getString("frame-type");
    if (!frameType.equals("text") && !frameType.equals("binary")) {
      throw new ConfigException.BadValue(path + ".frame-type", "\"text\" or \"binary\"");
    }
    Duration minBackoff = c.getDuration("min-backoff");
    Duration maxBackoff = c.getDuration("max-backoff");
    if (minBackoff.isZero() || minBackoff.isNegative() || maxBackoff.compareTo(minBackoff) < 0) {
      throw new ConfigException.BadValue(path, "need 0 < min-backoff <= max-backoff");
    }
    int maxHeld = c.getInt("max-held-messages");
    if (maxHeld < 0) {
      throw new ConfigException.BadValue(path + ".max-held-messages", "must not be negative");
    }
    return new Route(
        name,
        upstream,
        pass,
        Map.copyOf(add),
        c.getString("replay-header"),
        pointer,
        c.getString("session-id-header"),
        c.getString("user-id-header"),
        frameType.equals("binary"),
        c.getDuration("retry-window"),
        minBackoff,
        maxBackoff,
        c.getDuration("grace-period"),
        maxHeld,
        (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-message-size")));
  }

  private static List<String> concat(List<String> a, Set<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
