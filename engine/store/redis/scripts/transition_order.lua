-- transition_order.lua: moves an order from one state to another iff it is in
-- `from` and (when given) at < only_before. States: 0 pending, 1 paid, 2 cancelled.
-- KEYS: 1 order hash, 2 counts hash.
-- ARGV: 1 from, 2 to, 3 cancel reason, 4 at (us), 5 only_before (us, '' = none).
-- Returns {applied (0|1), HGETALL of the order}, or {-1} for an unknown order.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {-1} end
local names = {['0'] = 'pending', ['1'] = 'paid', ['2'] = 'cancelled'}
local applied = 0
if state == ARGV[1] and (ARGV[5] == '' or tonumber(ARGV[4]) < tonumber(ARGV[5])) then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated', ARGV[4])
  if ARGV[2] == '2' then redis.call('HSET', KEYS[1], 'reason', ARGV[3]) end
  redis.call('HINCRBY', KEYS[2], names[ARGV[1]], -1)
  redis.call('HINCRBY', KEYS[2], names[ARGV[2]], 1)
  applied = 1
end
return {applied, redis.call('HGETALL', KEYS[1])}
