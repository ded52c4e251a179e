-- set_stock_total.lua: reads, sets or moves a sale's total stock, moving the units left by the
-- same amount, never below the units already taken (pending and paid orders).
-- KEYS: 1 stock (units left), 2 meta hash (field stock_total).
-- ARGV: 1 "get" | "set" | "add", 2 the new total ("set") or the change ("add").
-- Returns {1, total, left, wanted} when done (or read); {0, total, left, wanted} (unchanged)
-- when the new total is below what is sold; {-1} when the sale has no stock in Redis.
local total = tonumber(redis.call('HGET', KEYS[2], 'stock_total'))
local left = tonumber(redis.call('GET', KEYS[1]))
if not total or not left then return {-1} end
if left < 0 then left = 0 end
if ARGV[1] == 'get' then return {1, total, left, total} end
local want = tonumber(ARGV[2])
if ARGV[1] == 'add' then want = total + want end
if want < 0 or want < total - left then return {0, total, left, want} end
left = left + want - total
redis.call('SET', KEYS[1], left)
redis.call('HSET', KEYS[2], 'stock_total', want)
return {1, want, left, want}
