/**
 * Bridge routes: {@code /bridge/<name>} in front of an existing WebSocket server (the route's
 * upstream). A client speaking the Switchboard protocol gets a resumable session whose {@link
 * io.switchboard.node.bridge.UpstreamActor} (a child of the session entity, so it lives wherever
 * the session lives) keeps the upstream connection: reconnecting with backoff and replay
 * information when it drops, holding the client's messages meanwhile, and handing every upstream
 * message to the session to journal in its inbox. Any other WebSocket client is passed straight
 * through ({@link io.switchboard.node.bridge.BridgeRoutes}).
 */
package io.switchboard.node.bridge;
