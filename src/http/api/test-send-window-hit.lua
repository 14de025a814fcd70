-- Take `n` from a fixed-window budget of `max`, or nothing when it would go over.
-- KEYS[1]: the counter; ARGV[1]: window in ms; ARGV[2]: n; ARGV[3]: max.
-- Returns { allowed (1|0), count after, ttlMs }. A refused request takes nothing, so a
-- client that backs off for the returned ttl is let through.
local n = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if current + n > tonumber(ARGV[3]) then
  if ttl < 0 then ttl = tonumber(ARGV[1]) end
  return { 0, current, ttl }
end
local count = redis.call('INCRBY', KEYS[1], n)
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { 1, count, ttl }
