/**
 * The edge: client connections. One local {@link io.switchboard.node.edge.ConnectionActor} per
 * socket speaks the client protocol against a {@link io.switchboard.node.edge.Transport} (WebSocket
 * here; long-poll implements the same interface), keeps a {@link
 * io.switchboard.node.edge.StreamCursor} per stream so every message goes out once and in order,
 * and talks to the session and group entities. Mapping between wire frames and entity messages
 * lives here and nowhere else.
 */
package io.switchboard.node.edge;
