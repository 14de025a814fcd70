-- KEYS[1]: the limiter state hash. Runs after prelude.lua (prepended at load).
-- ARGV: rate, recovery, ttlMs. Returns effectiveRate.
setTarget(tonumber(ARGV[1]))
redis.call('PEXPIRE', key, tonumber(ARGV[3]))
return fmt(effective(tonumber(ARGV[2])))
