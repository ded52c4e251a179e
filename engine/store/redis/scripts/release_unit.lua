-- release_unit.lua: returns a cancelled order's unit iff its buyer is still
-- bound to that order (the exactly-once guard). Idempotent.
-- KEYS: 1 buyers hash, 2 stock. ARGV: 1 user id, 2 order id. Returns 1 iff released now.
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
