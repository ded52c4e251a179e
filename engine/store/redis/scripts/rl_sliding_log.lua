-- Sliding log on shared state: SlidingLogPolicy (engine/core/ratelimit/algorithms.h) in
-- microseconds: admitted iff fewer than `rate` admissions happened in (now - per, now].
-- KEYS[1] = sk:rl:{<rule hash>:<scope key>}, a list of admission times (us), oldest first
--           (kept sorted even if `now` steps back)
-- ARGV    = now_us ("" = Redis TIME), hits, rate, per_us
-- Returns {kind (0 allow, 2 reject), wait_us, limit, remaining, reset_us}. The key expires
-- when its newest entry leaves the window.
-- A request of n hits logs n entries.
-- rl_prelude.lua, put in front at build time, defines `key` (KEYS[1]), `now` (us), `consume`
-- and `n`.
local rate = tonumber(ARGV[3])
local per = tonumber(ARGV[4])

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
local kind, wait, newest = 0, 0, nil
if size > 0 then newest = tonumber(redis.call('LINDEX', key, -1)) end
if n <= rate - size then
  if consume then
    local t = now
    if newest ~= nil then t = math.max(now, newest) end
    local entry = string.format('%.17g', t)
    local left = n
    while left > 0 do  -- RPUSH in chunks: unpack() is bounded by the Lua stack
      local chunk = {}
      for i = 1, math.min(left, 1000) do chunk[i] = entry end
      redis.call('RPUSH', key, unpack(chunk))
      left = left - #chunk
    end
    size = size + n
    newest = t
    redis.call('PEXPIRE', key, math.ceil((newest + per - now) / 1000) + 1)
  end
elseif n > rate then  -- more than the window allows: never; the hint is until it is empty
  kind = 2
  if newest ~= nil then wait = math.max(0, newest + per - now) end
else  -- room once the oldest size + n - rate entries have left the window
  kind = 2
  wait = math.max(0, tonumber(redis.call('LINDEX', key, size + n - rate - 1)) + per - now)
end
local reset = 0
if newest ~= nil then reset = math.max(0, newest + per - now) end
return {kind, math.ceil(wait), rate, rate - size, math.ceil(reset)}
