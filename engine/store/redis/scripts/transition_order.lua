-- transition_order.lua: moves an order from one state to another iff it is in
-- `from` and (when given) at < only_before. States: 0 pending, 1 paid, 2 cancelled.
-- KEYS: 1 order records hash, 2 counts hash.
-- ARGV: 1 order id, 2 from, 3 to, 4 cancel reason, 5 at (us), 6 only_before (us, '' = none).
-- Returns {applied (0|1), the order's record after it}, or {-1} for an unknown
-- order. A record is "<state> <reason> <created> <pay_before> <updated> <user>".
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return {-1} end
local state, reason, created, pay_before, rest =
    string.match(record, '^(%d+) (%d+) (%-?%d+) (%-?%d+) (.*)$')
local user = rest and string.match(rest, '^%-?%d+ (.*)$')
if not user then
  return redis.error_reply('ERR malformed record of order ' .. ARGV[1] .. ': ' .. record)
end
local names = {['0'] = 'pending', ['1'] = 'paid', ['2'] = 'cancelled'}
if state == ARGV[2] and (ARGV[6] == '' or tonumber(ARGV[5]) < tonumber(ARGV[6])) then
  if ARGV[3] == '2' then reason = ARGV[4] end
  record = ARGV[3] .. ' ' .. reason .. ' ' .. created .. ' ' .. pay_before .. ' ' .. ARGV[5] ..
           ' ' .. user
  redis.call('HSET', KEYS[1], ARGV[1], record)
  redis.call('HINCRBY', KEYS[2], names[ARGV[2]], -1)
  redis.call('HINCRBY', KEYS[2], names[ARGV[3]], 1)
  return {1, record}
end
return {0, record}
