-- queue_cancel.lua: queues one order's delayed cancel (RedisDelayQueue::publish).
-- KEYS: 1 cancel zset, 2 counts hash. ARGV: 1 due (us), 2 order id.
-- The counts hash's cancel_queue field counts the orders queued (a group
-- member counts each of its orders), for pending().
if redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'cancel_queue', 1)
end
return 1
