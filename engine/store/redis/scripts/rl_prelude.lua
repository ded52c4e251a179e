-- The start of every rate-limit algorithm script (rl_token_bucket, rl_leaky_bucket,
-- rl_sliding_window, rl_sliding_log): engine/store/redis/CMakeLists.txt puts it in front of
-- each when it embeds them. All of them take KEYS[1] = the limiter's state, ARGV[1] = now_us and
-- ARGV[2] = hits.
-- Defines `key` (KEYS[1]), `now` (us: ARGV[1], or Redis TIME when ARGV[1] is ""), `consume`
-- (false for a peek: hits = 0, decided as one unit with nothing written) and `n` (the units the
-- request counts for: hits, 1 for a peek). See algorithms.h on hits.
local key = KEYS[1]
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local consume = tonumber(ARGV[2]) > 0
local n = 1
if consume then n = tonumber(ARGV[2]) end
