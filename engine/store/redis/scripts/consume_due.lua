-- consume_due.lua: takes up to `max` due orders from a sale's delayed-cancel
-- zset and re-scores them to the visibility deadline, so an unacknowledged
-- delivery comes back. Counts deliveries per order.
-- A member is one order id, or the order ids of one attempt_orders.lua group
-- separated by spaces (scored by the group's latest pay_before): a due group
-- is split here into one member per order, those delivered re-scored to the
-- deadline and the rest left due at the group's score.
-- KEYS: 1 cancel zset, 2 attempts hash. ARGV: 1 now (us), 2 max, 3 redeliver at (us).
-- Returns {order1, attempts1, order2, attempts2, ...}.
local max = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, max)
local out = {}
local taken = 0
local function deliver(order_id)
  redis.call('ZADD', KEYS[1], ARGV[3], order_id)
  out[#out + 1] = order_id
  out[#out + 1] = redis.call('HINCRBY', KEYS[2], order_id, 1)
  taken = taken + 1
end
for i = 1, #due, 2 do
  if taken >= max then break end
  local member, score = due[i], due[i + 1]
  if string.find(member, ' ', 1, true) then
    redis.call('ZREM', KEYS[1], member)
    for order_id in string.gmatch(member, '[^ ]+') do
      if taken < max then
        deliver(order_id)
      else
        redis.call('ZADD', KEYS[1], score, order_id)
      end
    end
  else
    deliver(member)
  end
end
return out
