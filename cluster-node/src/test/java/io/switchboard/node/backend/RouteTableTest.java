package io.switchboard.node.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Route templates, the choice of the most specific route, and round-robin over its workers. */
class RouteTableTest {
  private final RouteTable<String> table = new RouteTable<>();

  private void serve(String worker, String... routes) {
    List<RouteTemplate> templates = new ArrayList<>();
    for (String route : routes) {
      String[] parts = route.split(" ", 2);
      templates.add(RouteTemplate.parse(parts[0], parts[1]));
    }
    table.put(
        worker,
        new RouteTable.Registration(worker, templates, EnumSet.noneOf(Backend.EventKind.class)));
  }

  private String route(String method, String path) {
    return table.forRequest(method, path).map(m -> m.worker() + " " + m.route().path()).orElse("");
  }

  @Test
  void parametersAreExtractedFromTheirSegments() {
    serve("w", "GET /votes/:room/ballots/:ballot");
    var match = table.forRequest("get", "/votes/42/ballots/7?verbose=1").orElseThrow();
    assertEquals(Map.of("room", "42", "ballot", "7"), match.params());
    assertTrue(table.forRequest("GET", "/votes/42").isEmpty(), "segment counts must match");
    assertTrue(table.forRequest("GET", "/votes//ballots/7").isEmpty(), "a parameter is not empty");
    assertTrue(table.forRequest("POST", "/votes/42/ballots/7").isEmpty(), "the method matters");
  }

  @Test
  void aLiteralSegmentBeatsAParameterAndAnExactMethodBeatsAny() {
    serve("params", "GET /votes/:room", "GET /:a/:b");
    serve("literal", "GET /votes/summary");
    serve("any", "* /votes/:room/close");
    serve("exact", "POST /votes/:room/close");
    assertEquals("literal /votes/summary", route("GET", "/votes/summary"));
    assertEquals("params /votes/:room", route("GET", "/votes/7"));
    assertEquals("params /:a/:b", route("GET", "/other/7"));
    assertEquals("exact /votes/:room/close", route("POST", "/votes/7/close"));
    assertEquals("any /votes/:room/close", route("DELETE", "/votes/7/close"));
  }

  @Test
  void requestsOfOneRouteGoRoundRobinOverItsWorkers() {
    serve("a", "GET /item/:id");
    serve("b", "GET /item/:key");
    serve("c", "GET /item/special");
    List<String> chosen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      chosen.add(table.forRequest("GET", "/item/" + i).orElseThrow().worker());
    }
    assertEquals(List.of("a", "b", "a", "b", "a", "b"), chosen);
    assertEquals("c", table.forRequest("GET", "/item/special").orElseThrow().worker());
    assertEquals(Map.of("key", "9"), matchOf("b", "/item/9"));
  }

  private Map<String, String> matchOf(String worker, String path) {
    for (int i = 0; i < 4; i++) {
      var m = table.forRequest("GET", path).orElseThrow();
      if (m.worker().equals(worker)) {
        return m.params();
      }
    }
    throw new AssertionError(worker + " never chosen");
  }

  @Test
  void aRemovedWorkerIsNoLongerChosen() {
    serve("a", "GET /x");
    serve("b", "GET /x");
    assertTrue(table.remove("a"));
    for (int i = 0; i < 3; i++) {
      assertEquals("b", table.forRequest("GET", "/x").orElseThrow().worker());
    }
    assertTrue(table.remove("b"));
    assertTrue(table.forRequest("GET", "/x").isEmpty());
  }

  @Test
  void messagesMatchOnThePathAloneAndEventsGoToWorkersThatWantThem() {
    serve("w", "POST /chat/:room");
    var message = table.forMessage("/chat/lobby").orElseThrow();
    assertEquals(Map.of("room", "lobby"), message.params());
    assertTrue(table.forMessage("/chat").isEmpty());

    table.put(
        "events",
        new RouteTable.Registration("events", List.of(), EnumSet.of(Backend.EventKind.CONNECTED)));
    assertEquals("events", table.forEvent(Backend.EventKind.CONNECTED).orElseThrow());
    assertTrue(table.forEvent(Backend.EventKind.LEFT).isEmpty());
  }

  @Test
  void routeCountsListEveryPatternWithItsWorkers() {
    serve("a", "GET /x", "POST /y/:id");
    serve("b", "GET /x");
    assertEquals(
        List.of(
            new Backend.RouteCount("GET", "/x", 2), new Backend.RouteCount("POST", "/y/:id", 1)),
        table.routeCounts());
  }

  @Test
  void malformedPatternsAreRefused() {
    for (String[] bad :
        new String[][] {
          {"GET", "votes"},
          {"", "/x"},
          {"G3T", "/x"},
          {"GET", "/x/:"},
          {"GET", "/:a/:a"},
          {"GET", "/x?y=1"},
          {"GET", "/a b"}
        }) {
      assertThrows(
          IllegalArgumentException.class,
          () -> RouteTemplate.parse(bad[0], bad[1]),
          () -> bad[0] + " " + bad[1]);
    }
    assertEquals(Set.of(), Set.copyOf(RouteTemplate.parse("get", "/").segments()));
    assertEquals("GET", RouteTemplate.parse("get", "/").method());
  }
}
