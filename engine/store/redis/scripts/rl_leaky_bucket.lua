-- Leaky bucket (GCRA) on shared state: LeakyBucketPolicy (engine/core/ratelimit/algorithms.h)
-- in microseconds, max_wait = 0 (a request within the queue is admitted at once, its departure
-- slot reserved: nginx limit_req burst=queue nodelay).
-- KEYS[1] = sk:rl:{<rule hash>:<scope key>}, a string: the next free departure time (us)
-- ARGV    = now_us ("" = Redis TIME), hits, rate, per_us, queue
-- Returns {kind (0 allow, 2 reject), wait_us, limit, remaining, reset_us}. The key expires
-- when the backlog has drained.
-- A request of n hits takes n consecutive slots and is decided by its last one.
-- rl_prelude.lua, put in front at build time, defines `key` (KEYS[1]), `now` (us), `consume`
-- and `n`.
local interval = tonumber(ARGV[4]) / tonumber(ARGV[3])
local queue = tonumber(ARGV[5])

local function ceil_div(a, b)  -- a >= 0, forgiving floating-point dust
  return math.ceil(a / b - 1e-9)
end

local next_free = tonumber(redis.call('GET', key))
if next_free == nil then next_free = now end
local slot = math.max(now, next_free)
local last_wait = slot - now + (n - 1) * interval  -- the request's last unit
local ahead = ceil_div(last_wait, interval)
local kind, retry = 0, 0
if n <= queue + 1 and ahead <= queue then
  if consume then
    next_free = slot + n * interval
    local backlog = next_free - now
    redis.call('SET', key, string.format('%.17g', next_free), 'PX', math.ceil(backlog / 1000) + 1)
  end
elseif n > queue + 1 then  -- more units than the queue holds: never; the hint is the drain
  kind = 2
  retry = math.max(0, next_free - now)
else
  kind = 2
  local room = (queue - n + 1) * interval
  local at
  if room >= next_free - now then at = now else at = next_free - room end
  retry = math.max(0, at - now)
end
local backlog = math.max(0, next_free - now)
local remaining = math.max(0, queue + 1 - ceil_div(backlog, interval))
return {kind, math.ceil(retry), queue + 1, remaining, math.ceil(backlog)}
