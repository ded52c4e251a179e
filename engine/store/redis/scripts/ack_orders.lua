-- ack_orders.lua: lets go of order-stream entries whose orders the database
-- has committed (OrderWriter::ack): XACK, XDEL and the HDEL of their records
-- in one step. Three separate commands could be cut by a kill -9 between the
-- XACK and the XDEL, leaving entries acked (never delivered again) but still
-- in the stream: its length, the writer's lag, would never come back to 0.
-- Idempotent: acking an entry again, or one already deleted, changes nothing.
-- KEYS: 1 order stream, 2 order records hash.
-- ARGV: 1 group, 2 n, 3..2+n stream ids, then the order ids whose records go.
local n = tonumber(ARGV[2])
local chunk = 500  -- unpack() stays far below Lua's stack limit
for i = 3, 2 + n, chunk do
  local j = math.min(i + chunk - 1, 2 + n)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, j))
  redis.call('XDEL', KEYS[1], unpack(ARGV, i, j))
end
for i = 3 + n, #ARGV, chunk do
  local j = math.min(i + chunk - 1, #ARGV)
  redis.call('HDEL', KEYS[2], unpack(ARGV, i, j))
end
return n
