-- attempt_orders.lua: a GROUP of order attempts on one sale, each one atomic and
-- all of them in arrival order (Redis runs a script alone). The store sends the
-- attempts that queued up while the sale's previous group was in flight (group
-- commit); one attempt is a group of one. Each attempt mirrors
-- MemorySaleStore::runAttempt: token check/replay -> window -> dedup key -> one
-- unit -> order hash + stream entry + delayed cancel -> token result.
--
-- KEYS: 1 stock, 2 order stream, 3 cancel zset, 4 counts hash, then per attempt
--       i (0-based) at 5 + 3i: dedup key, token hash (a placeholder when no
--       token), order hash
-- ARGV: 1 sale id, 2 append created orders to the stream (0|1: only when a
--       writer consumes it), then per attempt i (0-based) at 3 + 9i: order id, user id,
--       token ('' = none), require token (0|1), window open (0|1), now (ms),
--       created_at, pay_before, updated_at (us)
-- Returns one answer per attempt: its code alone, or {code, replayed (0|1),
-- order id, created_at, pay_before, updated_at} for a duplicate (the holder's
-- order id) and a replayed token (the first use's answer); code: 0 created,
-- 1 duplicate, 2 sold out, 3 invalid token, 4 token in flight, 5 sale not
-- open, 6 busy, 7 failed (a Redis error, in place of the order id; nothing of
-- the attempt was kept).
--
-- Costs per created order: SET NX (the dedup key, bound to the order), HSET,
-- and XADD when streaming. Per group: one GET and one DECRBY of the stock, one ZADD of all the
-- delayed cancels, one HINCRBY of the counts. The dedup key needs no expiring
-- "in flight" hold here: nothing runs between the key and the unit.
local stock_key, stream_key, cancel_key, counts_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local sale_id, stream = ARGV[1], ARGV[2] == '1'
local n = (#ARGV - 2) / 9

-- A command error (a key of the wrong type: data written by hand) must not stop
-- the script midway: Redis keeps what a script wrote before an error, and an
-- order written without its unit taken would oversell. So the stock is checked
-- before anything is written, each attempt's writes go through redis.pcall and
-- are undone when one fails (that attempt answers code 7 with the error), and
-- the units taken are written back before anything else that could fail.
local stock = redis.call('GET', stock_key) or '0'
local left = tonumber(stock)
if not left or left ~= math.floor(left) then
  return redis.error_reply('ERR stock of sale ' .. sale_id .. ' is not an integer: ' .. stock)
end
local taken = 0
local cancels = {}
local results = {}

local function failed(reply)
  return type(reply) == 'table' and reply.err ~= nil
end

-- Records a first use's answer on its token (the replay answer).
local function record(token_key, code, oid, c, p, u)
  return redis.pcall('HSET', token_key, 'state', 'used', 'r_code', code, 'r_oid', oid,
                     'r_c', c, 'r_p', p, 'r_u', u)
end

for i = 0, n - 1 do
  local k, a = 5 + 3 * i, 3 + 9 * i
  local token = ARGV[a + 2]
  -- An answer that carries nothing but its code is the code alone (an attempt
  -- created now needs nothing more: the engine has the order); a duplicate, a
  -- replay and an error answer {code, replayed, order id or error, created,
  -- pay_before, updated}.
  local result
  -- 1. The token: this user's, unexpired, unused (or replayed).
  if token ~= '' then
    local t = redis.pcall('HMGET', KEYS[k + 1], 'user', 'exp', 'state',
                          'r_code', 'r_oid', 'r_c', 'r_p', 'r_u')
    local exp = not failed(t) and tonumber(t[2])
    if failed(t) or not t[1] or t[1] ~= ARGV[a + 1] or not exp
        or tonumber(ARGV[a + 5]) >= exp then
      result = 3
    elseif t[3] == 'used' then
      result = {tonumber(t[4]) or 6, 1, t[5] or '', t[6] or '0', t[7] or '0', t[8] or '0'}
    elseif ARGV[a + 4] ~= '1' then
      result = 5
    end
  elseif ARGV[a + 3] == '1' then
    result = 3
  elseif ARGV[a + 4] ~= '1' then
    result = 5
  end

  if not result then
    local dedup_key, order_id = KEYS[k], ARGV[a]
    -- 2. The (user, sale) dedup key, taken before any stock is touched.
    local set = redis.pcall('SET', dedup_key, order_id, 'NX')
    if failed(set) then
      result = {7, 0, set.err, '0', '0', '0'}
    elseif not set then
      local held = redis.pcall('GET', dedup_key)
      if failed(held) then
        result = {7, 0, held.err, '0', '0', '0'}
      else
        if token ~= '' then record(KEYS[k + 1], 1, held, '0', '0', '0') end
        result = {1, 0, held, '0', '0', '0'}
      end
    elseif left <= 0 then
      -- 3. Sold out: the key goes back.
      redis.call('DEL', dedup_key)
      if token ~= '' then record(KEYS[k + 1], 2, '', '0', '0', '0') end
      result = 2
    else
      -- 4. One unit, the order, its stream entry (for the batch writer) and its
      -- delayed cancel. The key stays bound to the order, without expiry,
      -- until the order is cancelled.
      local user_id = ARGV[a + 1]
      local created, pay_before, updated = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
      local order_key = KEYS[k + 2]
      local w = redis.pcall('HSET', order_key, 'id', order_id, 'sale', sale_id, 'user', user_id,
                            'state', '0', 'reason', '0', 'created', created,
                            'pay_before', pay_before, 'updated', updated)
      if not failed(w) and stream then
        w = redis.pcall('XADD', stream_key, '*', 'id', order_id, 'user', user_id,
                        'created', created, 'pay_before', pay_before)
      end
      if not failed(w) and token ~= '' then
        w = record(KEYS[k + 1], 0, order_id, created, pay_before, updated)
      end
      if failed(w) then
        -- Undone: no key, no order. (A stream entry cannot have been written:
        -- it is the last write before the token's, and a token hash of the
        -- wrong type already failed its HMGET above.)
        redis.call('DEL', dedup_key, order_key)
        result = {7, 0, w.err, '0', '0', '0'}
      else
        left = left - 1
        taken = taken + 1
        cancels[2 * taken - 1] = pay_before
        cancels[2 * taken] = order_id
        result = 0
      end
    end
  end
  results[i + 1] = result
end

if taken > 0 then
  redis.call('DECRBY', stock_key, taken)
  -- The orders exist and their units are taken: from here an error would only
  -- hide that, so it is logged and the answers stand.
  local z = redis.pcall('ZADD', cancel_key, unpack(cancels))
  if failed(z) then
    redis.log(redis.LOG_WARNING, 'seckill: delayed cancels of sale ' .. sale_id .. ' not queued: ' .. z.err)
  end
  local c = redis.pcall('HINCRBY', counts_key, 'pending', taken)
  if failed(c) then
    redis.log(redis.LOG_WARNING, 'seckill: order counts of sale ' .. sale_id .. ' not updated: ' .. c.err)
  end
end
return results
