/**
 * A Pekko Persistence journal ({@link io.switchboard.persistence.redis.RedisJournal}) and snapshot
 * store ({@link io.switchboard.persistence.redis.RedisSnapshotStore}) on Redis through Redisson.
 *
 * <p>This package owns the Redis key layout, the binary record format, the Lua scripts that make
 * every batch atomic, the typed configuration ({@link
 * io.switchboard.persistence.redis.RedisSettings}, the only reader of {@code Config} here) and the
 * one Redisson client per actor system and settings ({@link
 * io.switchboard.persistence.redis.RedisClients}). It knows nothing of the application that
 * persists through it: payloads go through Pekko serialization untouched.
 */
package io.switchboard.persistence.redis;
