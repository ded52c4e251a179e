-- ack_cancel.lua: removes a delivered order's delayed cancel for good
-- (RedisDelayQueue::ack). Idempotent: a second ack changes nothing.
-- KEYS: 1 cancel zset, 2 attempts hash, 3 counts hash. ARGV: 1 order id.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], 'cancel_queue', -1)
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
