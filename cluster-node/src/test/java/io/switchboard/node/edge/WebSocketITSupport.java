package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.protocol.v1.Delivery;
import java.util.List;

/** Assertions shared by the end-to-end tests. */
public final class WebSocketITSupport {
  private WebSocketITSupport() {}

  /** The deliveries are exactly offsets {@code from..to}: gap-free, in order, no duplicate. */
  public static void assertSequence(List<Delivery> deliveries, long from, long to) {
    assertEquals(to - from + 1, deliveries.size(), "count of deliveries " + from + ".." + to);
    long expected = from;
    for (Delivery d : deliveries) {
      assertEquals(expected++, d.getOffset(), "gap-free, in order, no duplicate");
    }
  }
}
