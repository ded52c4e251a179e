-- release_unit.lua: returns a cancelled order's unit iff the order still holds
-- its dedup key (the exactly-once guard). Idempotent.
-- KEYS: 1 dedup key, 2 stock. ARGV: 1 order id. Returns 1 iff released now.
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
