import DanmuCodecs
import DanmuPipeline

/// A Lua script run with EVALSHA (its SHA-1 computed here), falling back to EVAL once when Redis answers
/// NOSCRIPT (a restarted or flushed server forgot it). Each script touches only the keys passed in KEYS, all of
/// one hash tag, so it is also legal on Redis Cluster.
struct ClusterScript: Sendable {
    let source: String
    let sha: String

    init(_ source: String) {
        self.source = source
        sha = SHA1.digest(Array(source.utf8)).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// The EVALSHA command for `keys` and `arguments`.
    func command(keys: [String], arguments: [String]) -> [String] {
        ["EVALSHA", sha, String(keys.count)] + keys + arguments
    }

    /// The same as EVAL (sends the body).
    func evalCommand(keys: [String], arguments: [String]) -> [String] {
        ["EVAL", source, String(keys.count)] + keys + arguments
    }

    /// True when `reply` says the server does not know the script.
    static func isNoScript(_ reply: RESPValue) -> Bool {
        if case .error(let message) = reply { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    /// Heartbeat: `SET node:<id> id PX ttl`, score the node in the ZSET by Redis's own clock, drop nodes whose
    /// score passed, and return the live node ids (sorted by the ZSET: score, then id).
    /// KEYS: node key, nodes ZSET. ARGV: id, ttl ms.
    static let heartbeat = ClusterScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        return redis.call('ZRANGE', KEYS[2], 0, -1)
        """)

    /// Compare-and-extend of a whole list of leases: 1 extended (ours), 2 extended (ours, being handed over),
    /// 3 set again (the key was gone: a Redis restarted without it; nobody else holds it, and the caller only
    /// renews leases still valid by its own clock), 0 another node's. KEYS: leases. ARGV: id, ttl ms.
    static let renew = ClusterScript(
        """
        local r = {}
        local handoff = 'handoff:' .. ARGV[1]
        for i, k in ipairs(KEYS) do
          local v = redis.call('GET', k)
          if v == ARGV[1] then
            redis.call('PEXPIRE', k, ARGV[2]); r[i] = 1
          elseif v == handoff then
            redis.call('PEXPIRE', k, ARGV[2]); r[i] = 2
          elseif not v then
            redis.call('SET', k, ARGV[1], 'PX', ARGV[2]); r[i] = 3
          else
            r[i] = 0
          end
        end
        return r
        """)

    /// Claims up to ARGV[3] of the given leases that are free or being handed over (by anyone, us included:
    /// taking back our own hand-over cancels it). Returns the 1-based indexes claimed: positive for a free key
    /// (nobody held it: a start, or a takeover after a lost lease), negative for a hand-over. KEYS: leases.
    /// ARGV: id, ttl ms, how many.
    static let claim = ClusterScript(
        """
        local r = {}
        local want = tonumber(ARGV[3])
        for i, k in ipairs(KEYS) do
          if #r >= want then break end
          local v = redis.call('GET', k)
          if not v then
            redis.call('SET', k, ARGV[1], 'PX', ARGV[2]); r[#r + 1] = i
          elseif string.sub(v, 1, 8) == 'handoff:' then
            redis.call('SET', k, ARGV[1], 'PX', ARGV[2]); r[#r + 1] = -i
          end
        end
        return r
        """)

    /// The gap marks of rooms just claimed from free leases: returns each mark (false when absent) and sets an
    /// absent one to 0, so that a node taking a room over from one that died before it passed anything still
    /// finds a mark (and counts the gap from seq 1). KEYS: marks. ARGV: ttl ms.
    static let marks = ClusterScript(
        """
        local r = {}
        for i, k in ipairs(KEYS) do
          local v = redis.call('GET', k)
          if v then r[i] = v else redis.call('SET', k, '0', 'PX', ARGV[1]); r[i] = false end
        end
        return r
        """)

    /// Marks our leases as being handed over (`handoff:<id>`, same TTL): any node may claim them now, while we
    /// keep collecting until one did. 1 marked, 0 not ours. KEYS: leases. ARGV: id, ttl ms.
    static let handoff = ClusterScript(
        """
        local r = {}
        for i, k in ipairs(KEYS) do
          if redis.call('GET', k) == ARGV[1] then
            redis.call('SET', k, 'handoff:' .. ARGV[1], 'PX', ARGV[2]); r[i] = 1
          else
            r[i] = 0
          end
        end
        return r
        """)

    /// Compare-and-delete: deletes each lease that is still ours (owned or being handed over).
    /// KEYS: leases. ARGV: id. Returns how many were deleted.
    static let release = ClusterScript(
        """
        local n = 0
        for i, k in ipairs(KEYS) do
          local v = redis.call('GET', k)
          if v == ARGV[1] or v == 'handoff:' .. ARGV[1] then redis.call('DEL', k); n = n + 1 end
        end
        return n
        """)
}
