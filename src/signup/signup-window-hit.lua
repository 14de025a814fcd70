-- One hit on a fixed-window counter: INCR, and start the window on the first hit (or
-- repair a key that lost its expiry). KEYS[1]: the counter; ARGV[1]: window in ms.
-- Returns { count, ttlMs }.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { n, ttl }
