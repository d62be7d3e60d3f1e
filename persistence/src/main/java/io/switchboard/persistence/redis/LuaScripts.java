package io.switchboard.persistence.redis;

/**
 * The Lua scripts that make each multi-key change atomic. Redis runs a script alone and, with
 * append-only persistence, logs its effects as one transaction, so no reader and no restart ever
 * sees half of one. Every script validates before it writes, because Redis does not roll back a
 * script that fails half-way. Redisson sends them with EVALSHA and loads them on NOSCRIPT.
 *
 * <p>Numbers travel as decimal strings and are stored as given, never formatted by Lua (whose
 * {@code tostring} switches to exponent notation for large numbers).
 */
final class LuaScripts {

  private LuaScripts() {}

  /** Status of one atomic write in the result of {@link #WRITE}: stored now. */
  static final long WRITTEN = 1;

  /** Status of one atomic write: already stored byte for byte (a retried command). */
  static final long ALREADY_WRITTEN = 2;

  /** Status of one atomic write: its sequence numbers are taken by other events; not stored. */
  static final long CONFLICT = 0;

  /**
   * Writes the atomic writes of one or more persistence ids, in order. KEYS: for each persistence
   * id its journal sorted set and its highest-sequence-number key. ARGV: for each persistence id
   * the number of its atomic writes, then for each atomic write its event count n followed by n
   * pairs of (sequence number, entry). Returns one status per atomic write, in order. One call per
   * batch where all keys live on one server; one call per persistence id on Redis Cluster.
   */
  static final String WRITE =
      """
      local results = {}
      local i = 1
      for k = 1, #KEYS, 2 do
        local journal, highest = KEYS[k], KEYS[k + 1]
        local stored = redis.call('GET', highest)
        local high = stored and tonumber(stored) or 0
        local newHigh = nil
        local writes = tonumber(ARGV[i])
        i = i + 1
        for w = 1, writes do
          local n = tonumber(ARGV[i])
          local status = 1
          if tonumber(ARGV[i + 1]) <= high then
            status = 2
            for j = 0, n - 1 do
              if not redis.call('ZSCORE', journal, ARGV[i + 2 + 2 * j]) then
                status = 0
                break
              end
            end
          else
            for j = 0, n - 1 do
              redis.call('ZADD', journal, ARGV[i + 1 + 2 * j], ARGV[i + 2 + 2 * j])
            end
            newHigh = ARGV[i + 2 * n - 1]
            high = tonumber(newHigh)
          end
          results[#results + 1] = status
          i = i + 1 + 2 * n
        end
        if newHigh then
          redis.call('SET', highest, newHigh)
        end
      end
      return results
      """;

  /**
   * Saves a snapshot, replacing one of the same sequence number. KEYS[1] index sorted set, KEYS[2]
   * snapshot hash. ARGV: sequence number, timestamp, snapshot bytes.
   */
  static final String SAVE_SNAPSHOT =
      """
      redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
      redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1] .. ':' .. ARGV[2])
      redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
      return 1
      """;

  /**
   * The newest snapshot within the criteria, or nil. KEYS[1] index, KEYS[2] hash. ARGV: min and max
   * sequence number, min and max timestamp.
   */
  static final String LOAD_SNAPSHOT =
      """
      local minTs, maxTs = tonumber(ARGV[3]), tonumber(ARGV[4])
      local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[1])
      for _, member in ipairs(members) do
        local seq, ts = string.match(member, '^(%d+):(%d+)$')
        local t = tonumber(ts)
        if t >= minTs and t <= maxTs then
          local data = redis.call('HGET', KEYS[2], seq)
          if data then
            return data
          end
        end
      end
      return false
      """;

  /**
   * Deletes the snapshots within the criteria. KEYS[1] index, KEYS[2] hash. ARGV: min and max
   * sequence number, min and max timestamp. Returns how many were deleted.
   */
  static final String DELETE_SNAPSHOTS =
      """
      local minTs, maxTs = tonumber(ARGV[3]), tonumber(ARGV[4])
      local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])
      local deleted = 0
      for _, member in ipairs(members) do
        local seq, ts = string.match(member, '^(%d+):(%d+)$')
        local t = tonumber(ts)
        if t >= minTs and t <= maxTs then
          redis.call('ZREM', KEYS[1], member)
          redis.call('HDEL', KEYS[2], seq)
          deleted = deleted + 1
        end
      end
      return deleted
      """;
}
