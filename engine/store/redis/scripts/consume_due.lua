-- consume_due.lua: takes up to `max` due members of a delayed-cancel zset and
-- re-scores them to the visibility deadline, so an unacknowledged delivery
-- comes back. Counts deliveries per member.
-- KEYS: 1 cancel zset, 2 attempts hash. ARGV: 1 now (us), 2 max, 3 redeliver at (us).
-- Returns {member1, attempts1, member2, attempts2, ...}.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[3], m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], m, 1)
end
return out
