package io.switchboard.node.edge;

import io.switchboard.node.TestNode;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every guarantee of {@link WebSocketIT} again with the front door off: Pekko HTTP serves the
 * WebSocket itself, as it does for upgrades that the connect hook decides on and for bridge routes.
 */
class WebSocketPekkoIT extends WebSocketIT {

  /** Hides {@link WebSocketIT#startNode()}: this class's node has no front door. */
  @BeforeAll
  static void startNode() {
    node = TestNode.start(CONFIG + "switchboard.edge.front-door.enabled = off\n");
    closeStatusCarriesTheCode = false; // Pekko HTTP closes every WebSocket with 1000
  }
}
