-- Sliding log on shared state: SlidingLogPolicy (engine/core/ratelimit/algorithms.h) in
-- microseconds: admitted iff fewer than `rate` admissions happened in (now - per, now].
-- KEYS[1] = sk:rl:{<rule hash>:<scope key>}, a list of admission times (us), oldest first
--           (kept sorted even if `now` steps back)
-- ARGV    = now_us ("" = Redis TIME), rate, per_us
-- Returns {kind (0 allow, 2 reject), wait_us, limit, remaining, reset_us}. The key expires
-- when its newest entry leaves the window.
-- rl_prelude.lua, put in front at build time, defines `key` (KEYS[1]) and `now` (us).
local rate = tonumber(ARGV[2])
local per = tonumber(ARGV[3])

local drop = 0
while true do
  local chunk = redis.call('LRANGE', key, drop, drop + 63)
  local stopped = false
  for i = 1, #chunk do
    if tonumber(chunk[i]) <= now - per then
      drop = drop + 1
    else
      stopped = true
      break
    end
  end
  if stopped or #chunk < 64 then break end
end
if drop > 0 then redis.call('LTRIM', key, drop, -1) end
local size = redis.call('LLEN', key)
local kind, wait, newest = 0, 0, now
if size < rate then
  if size > 0 then newest = math.max(now, tonumber(redis.call('LINDEX', key, -1))) end
  redis.call('RPUSH', key, string.format('%.17g', newest))
  size = size + 1
  redis.call('PEXPIRE', key, math.ceil((newest + per - now) / 1000) + 1)
else
  kind = 2
  wait = math.max(0, tonumber(redis.call('LINDEX', key, 0)) + per - now)
  newest = tonumber(redis.call('LINDEX', key, -1))
end
return {kind, math.ceil(wait), rate, rate - size, math.ceil(math.max(0, newest + per - now))}
