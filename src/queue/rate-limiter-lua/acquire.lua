-- KEYS[1]: the limiter state hash. Runs after prelude.lua (prepended at load).
-- ARGV: localRate, assertRate (1|0), marginUs, ttlMs, recovery, floorUs, count, leadUs
-- Reserves `count` consecutive slots, one interval apart: exactly the slots `count`
-- single calls in a row would get (the state only remembers the last one). `count` 0
-- reserves nothing and only reports the backlog.
-- Returns { waitUs, slotUs, effectiveRate, nowUs, intervalUs, backlogUs }: the FIRST slot
-- (slot i, from 0, is slotUs + i * intervalUs), and how far ahead of now the schedule is
-- reserved once this call's slots are (last - now, at least 0: what late.lua's
-- ifBacklogged compares a permit's lateness with).
-- `leadUs`: the first slot is no sooner than that after now, so that a caller who works
-- before its slot (RateLimiter.reserve) has the time to. It only matters while the schedule
-- is reserved less far ahead (a start, or after a pause); a later slot is always as safe.
local localRate = tonumber(ARGV[1])
if target == nil or ARGV[2] == '1' then setTarget(localRate) end
local eff = effective(tonumber(ARGV[5]))
-- A window holds a whole number of permits: space for floor(rate) per second.
local cap = eff
if eff >= 1 then cap = math.floor(eff) end
local interval = (1000000 + tonumber(ARGV[3])) / cap
local floor = tonumber(ARGV[6])
local count = tonumber(ARGV[7] or '1')
-- The client's floor only matters after state loss; ignore absurd ones (clock change).
if floor > 0 and floor - now < 60000000 and (last == nil or floor > last) then last = floor end
local slot = now + tonumber(ARGV[8] or '0')
if last ~= nil and last + interval > slot then slot = last + interval end
if notBefore ~= nil and notBefore > slot then slot = notBefore end
if count > 0 then
  last = slot + (count - 1) * interval
  redis.call('HSET', key, 'last', fmt(last))
end
redis.call('PEXPIRE', key, tonumber(ARGV[4]))
local backlog = 0
if last ~= nil and last > now then backlog = last - now end
return { math.ceil(slot - now), fmt(slot), fmt(eff), fmt(now), fmt(interval), fmt(backlog) }
