-- KEYS[1]: the limiter state hash. Runs after prelude.lua (prepended at load).
-- A permit granted `lateUs` after its slot `slotUs` is safe if every slot handed
-- out from now on is pushed back by that lateness, provided the slots already
-- reserved after it span less than a second (then any one-second window holding the
-- late permit holds no more slots than it would have on time).
-- ARGV: slotUs, lateUs, intervalUs, ttlMs, ifBacklogged (1|0).
-- With ifBacklogged, the push is made only while the schedule is reserved at least `lateUs`
-- ahead of now: the fleet is then using every slot, and a late permit would bunch with
-- them. A schedule that ends sooner is not kept full (the workers are the bottleneck, or
-- the send is ending): the permit may be sent late without pushing the fleet back; 2.
-- Returns 1 if the schedule was pushed back, 0 if not possible, 2 if not needed.
local s = tonumber(ARGV[1])
if last == nil or last < s or last - s >= 1000000 then return 0 end
if ARGV[5] == '1' and last - now < tonumber(ARGV[2]) then return 2 end
local nb = last + tonumber(ARGV[2]) + tonumber(ARGV[3])
if notBefore == nil or nb > notBefore then redis.call('HSET', key, 'notBefore', fmt(nb)) end
redis.call('PEXPIRE', key, tonumber(ARGV[4]))
return 1
