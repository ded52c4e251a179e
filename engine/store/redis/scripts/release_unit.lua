-- release_unit.lua: returns a cancelled order's unit iff its buyer is still
-- bound to that order (the exactly-once guard). Idempotent.
-- KEYS: 1 buyers hash, 2 stock, 3 (with ARGV[3]) order records hash.
-- ARGV: 1 user id, 2 order id, 3 (optional) the order to bind the buyer to
-- instead, 4 (with ARGV[3]) the order's new record. Then no unit is returned:
-- a duplicate the database refused hands its buyer to the shopper's live
-- order, whose unit its own stands for, and its record says so in the same
-- step (see MysqlOrderRepository::recordDuplicate). Returns 1 iff changed now.
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  if ARGV[3] and ARGV[3] ~= '' then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
    return 1
  end
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
