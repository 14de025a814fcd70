-- Shared head of every script: server time in microseconds and the state with the
-- effective rate derived from it. Numbers are stored with '%.3f' because Lua 5.1's
-- tostring keeps 14 digits, too few for microsecond timestamps.
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function fmt(x) return string.format('%.3f', x) end
local h = redis.call('HMGET', key, 'target', 'last', 'thrEff', 'thrAt', 'notBefore')
local target = tonumber(h[1])
local last = tonumber(h[2])
local thrEff = tonumber(h[3])
local thrAt = tonumber(h[4])
local notBefore = tonumber(h[5])
local function setTarget(r)
  target = r
  if thrEff ~= nil and thrEff > r then
    thrEff = r
    redis.call('HSET', key, 'thrEff', fmt(r))
  end
  redis.call('HSET', key, 'target', fmt(r))
end
local function effective(recovery)
  if thrEff == nil or thrAt == nil then return target end
  local e = thrEff + recovery * target * math.max(0, now - thrAt) / 1000000
  if e > target then return target end
  return e
end
