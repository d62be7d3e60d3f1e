/**
 * A local Redis server process for running without an external Redis: {@link
 * io.switchboard.persistence.embedded.EmbeddedRedis} starts {@code redis-server} from the PATH, or
 * the binary bundled in the embedded-redis artifact, on a loopback port with append-only
 * persistence, and can stop, kill and restart it. Used by the node when no Redis address is
 * configured, and by tests that need a Redis of their own.
 */
package io.switchboard.persistence.embedded;
