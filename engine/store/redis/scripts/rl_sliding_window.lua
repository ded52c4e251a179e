-- Sliding window, two counters, on shared state: SlidingWindowPolicy
-- (engine/core/ratelimit/algorithms.h) in microseconds. Exact while rate * per_us < 2^53.
-- KEYS[1] = sk:rl:{<rule hash>:<scope key>}, a hash: w (current window start, us), p, c
-- ARGV    = now_us ("" = Redis TIME), hits, rate, per_us
-- Returns {kind (0 allow, 2 reject), wait_us, limit, remaining, reset_us}. The key expires
-- two windows after the current one started (both counters are then 0).
-- rl_prelude.lua, put in front at build time, defines `key` (KEYS[1]), `now` (us), `consume`
-- and `n` (what the request counts for).
local rate = tonumber(ARGV[3])
local P = tonumber(ARGV[4])

local s = redis.call('HMGET', key, 'w', 'p', 'c')
local w, prev, cur = tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0
local ws = now - (now % P)
if ws > w then
  if ws == w + P then prev = cur else prev = 0 end
  cur = 0
  w = ws
elseif ws < w then  -- `now` stepped back a window: count it in the current one
  ws = w
  now = ws
end
local e = now - ws
local cap = rate * P
local used = prev * (P - e) + cur * P
local kind, wait = 0, 0
if n <= rate and used + n * P <= cap then
  if consume then
    cur = cur + n
    used = used + n * P
    redis.call('HSET', key, 'w', string.format('%.17g', w), 'p', prev, 'c', cur)
    redis.call('PEXPIRE', key, math.ceil((ws + 2 * P - now) / 1000) + 1)
  end
elseif n > rate then  -- more than the window allows: never; the hint is until it is empty
  kind = 2
  if cur > 0 then wait = ws + 2 * P - now elseif prev > 0 then wait = ws + P - now end
else
  kind = 2
  local at
  if cur + n > rate then
    at = ws + P + math.ceil(P * (cur - rate + n) / cur)
  else
    at = ws + math.ceil(P * (prev - rate + cur + n) / prev)
  end
  wait = math.max(0, at - now)
end
local remaining = math.max(0, math.floor((cap - used) / P))
local reset = 0
if cur > 0 then reset = ws + 2 * P - now elseif prev > 0 then reset = ws + P - now end
return {kind, math.ceil(wait), rate, remaining, math.ceil(reset)}
