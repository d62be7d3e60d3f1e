/**
 * Counting what clients consume: a {@link io.switchboard.node.limits.TokenBucket} per connection,
 * frames per second per user ({@link io.switchboard.node.limits.UserRateLimiter}) and connections
 * per user ({@link io.switchboard.node.limits.ConnectionSlots}), cluster-wide through Redis when
 * the node has one and node-local otherwise. Nothing here blocks the caller: Redis is only ever
 * called asynchronously, and when it cannot be reached the node-local count applies (fail open to a
 * local limit, never to none).
 */
package io.switchboard.node.limits;
