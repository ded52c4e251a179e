-- Token bucket on shared state: TokenBucketPolicy (engine/core/ratelimit/algorithms.h) in
-- microseconds, max_wait = 0 (distributed rules never queue).
-- KEYS[1] = sk:rl:{<rule hash>:<scope key>}, a hash: t (last update, us), r (warm-up ramp
--           start, us), k (tokens; a double)
-- ARGV    = now_us ("" = Redis TIME), hits, rate, per_us, burst, warmup_us
-- Returns {kind (0 allow, 2 reject), wait_us, limit, remaining, reset_us}. The key expires
-- once the bucket is full again (and cold, with warm-up): then it equals a fresh one.
-- rl_prelude.lua, put in front at build time, defines `key` (KEYS[1]), `now` (us), `consume`
-- and `n` (the tokens a request takes).
local rate = tonumber(ARGV[3]) / tonumber(ARGV[4])  -- tokens per us
local burst = tonumber(ARGV[5])
local warmup = tonumber(ARGV[6])
local eps = 1e-9

local function ceil_us(x)
  if x <= 0 then return 0 end
  return math.ceil(x - 1e-6)
end

local s = redis.call('HMGET', key, 't', 'r', 'k')
local last, ramp, tokens = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])

local function rate_at(t)
  local p = (t - ramp) / warmup
  if p < 0 then p = 0 elseif p > 1 then p = 1 end
  return rate * (1 / 3 + 2 / 3 * p)
end

local function fill(t0, t1)
  if t1 <= t0 then return 0 end
  if warmup == 0 then return (t1 - t0) * rate end
  local full_from = ramp + warmup
  local amount = 0
  if t0 < full_from then
    local b = math.min(t1, full_from)
    amount = amount + (rate_at(t0) + rate_at(b)) * 0.5 * (b - t0)
  end
  if t1 > full_from then amount = amount + (t1 - math.max(t0, full_from)) * rate end
  return amount
end

local function time_for(t0, need)
  if need <= eps then return 0 end
  if warmup > 0 then
    local full_from = ramp + warmup
    if t0 < full_from then
      local in_ramp = fill(t0, full_from)
      if need <= in_ramp then
        local c0 = rate_at(t0)
        local k = rate * (2 / 3) / warmup
        return ceil_us(2 * need / (c0 + math.sqrt(c0 * c0 + 2 * k * need)))
      end
      return (full_from - t0) + ceil_us((need - in_ramp) / rate)
    end
  end
  return ceil_us(need / rate)
end

if last == nil then
  tokens = burst
  last = now
  ramp = now
elseif now > last then
  local cold = warmup > 0 and now - last >= warmup
  tokens = math.min(burst, tokens + fill(last, now))
  last = now
  if cold then ramp = now end
end
local t = last
local kind, wait = 0, 0
if tokens >= n - eps then
  if consume then tokens = tokens - n end
elseif n > burst + eps then  -- more than the bucket holds: never; the hint is until it is full
  kind = 2
  wait = (t - now) + time_for(t, burst - tokens)
else
  kind = 2
  wait = (t - now) + time_for(t, n - tokens)
end
local remaining = math.floor(tokens + eps)
if remaining < 0 then remaining = 0 end
local reset = (t - now) + time_for(t, burst - tokens)
if kind == 0 and consume then
  redis.call('HSET', key, 't', string.format('%.17g', last), 'r', string.format('%.17g', ramp),
             'k', string.format('%.17g', tokens))
  local keep = reset
  if warmup > 0 and keep < warmup then keep = warmup end
  redis.call('PEXPIRE', key, math.ceil(keep / 1000) + 1)
end
return {kind, math.ceil(wait), burst, remaining, math.ceil(reset)}
