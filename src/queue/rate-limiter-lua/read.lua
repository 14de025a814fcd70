-- KEYS[1]: the limiter state hash. Runs after prelude.lua (prepended at load).
-- ARGV: localRate, recovery. Returns effectiveRate. Read-only.
if target == nil then target = tonumber(ARGV[1]) end
return fmt(effective(tonumber(ARGV[2])))
