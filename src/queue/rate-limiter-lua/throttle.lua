-- KEYS[1]: the limiter state hash. Runs after prelude.lua (prepended at load).
-- ARGV: localRate, decreaseFactor, cooldownUs, recovery, minFraction, ttlMs, firstDecreaseFactor, calmUs
-- A report calmUs or more after the last decrease (or the first ever) cuts by firstDecreaseFactor.
-- Returns { decreased (1|0), effectiveRate }.
if target == nil then setTarget(tonumber(ARGV[1])) end
local eff = effective(tonumber(ARGV[4]))
if thrAt ~= nil and now - thrAt < tonumber(ARGV[3]) then return { 0, fmt(eff) } end
local factor = tonumber(ARGV[2])
if thrAt == nil or now - thrAt >= tonumber(ARGV[8]) then factor = tonumber(ARGV[7]) end
local n = math.max(eff * factor, target * tonumber(ARGV[5]))
redis.call('HSET', key, 'thrEff', fmt(n), 'thrAt', fmt(now))
redis.call('PEXPIRE', key, tonumber(ARGV[6]))
return { 1, fmt(n) }
