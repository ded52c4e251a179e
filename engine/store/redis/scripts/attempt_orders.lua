-- attempt_order.lua: ONE order attempt, atomically (Redis runs a script alone).
-- Mirrors MemorySaleStore::runAttempt: token check/replay -> window -> dedup key
-- -> one unit -> order hash + stream entry + delayed cancel -> token result.
--
-- KEYS: 1 stock, 2 dedup key, 3 token hash (a placeholder when no token),
--       4 order hash, 5 order stream, 6 cancel zset, 7 counts hash
-- ARGV: 1 order id, 2 sale id, 3 user id, 4 token ('' = none), 5 require token (0|1),
--       6 window open (0|1), 7 now (ms), 8 dedup ttl (ms),
--       9 created_at, 10 pay_before, 11 updated_at (us)
-- Returns {code, replayed (0|1), order id, created_at, pay_before, updated_at};
-- code: 0 created, 1 duplicate, 2 sold out, 3 invalid token, 4 token in flight,
--       5 sale not open, 6 busy.
local stock_key, dedup_key, token_key = KEYS[1], KEYS[2], KEYS[3]
local order_key, stream_key, cancel_key, counts_key = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local order_id, sale_id, user_id, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local require_token, window_open = ARGV[5] == '1', ARGV[6] == '1'
local now_ms, dedup_ttl_ms = tonumber(ARGV[7]), ARGV[8]
local created, pay_before, updated = ARGV[9], ARGV[10], ARGV[11]

local function answer(code)
  return {code, 0, '', '0', '0', '0'}
end

-- Records the first use's answer on the token (the replay answer) and returns it.
local function finish(code, oid, c, p, u)
  if token ~= '' then
    redis.call('HSET', token_key, 'state', 'used', 'r_code', code, 'r_oid', oid,
               'r_c', c, 'r_p', p, 'r_u', u)
  end
  return {code, 0, oid, c, p, u}
end

-- 1. The token: this user's, unexpired, unused (or replayed).
if token ~= '' then
  local t = redis.call('HMGET', token_key, 'user', 'exp', 'state',
                       'r_code', 'r_oid', 'r_c', 'r_p', 'r_u')
  if not t[1] or t[1] ~= user_id or now_ms >= tonumber(t[2]) then return answer(3) end
  if t[3] == 'used' then return {tonumber(t[4]), 1, t[5], t[6], t[7], t[8]} end
  -- 'inflight' cannot be seen: this whole step is one script. Kept for parity.
  if t[3] == 'inflight' then return answer(4) end
  if not window_open then return answer(5) end
elseif require_token then
  return answer(3)
elseif not window_open then
  return answer(5)
end

-- 2. The (user, sale) dedup key, taken before any stock is touched.
local held = redis.call('GET', dedup_key)
if held then return finish(1, held, '0', '0', '0') end
redis.call('SET', dedup_key, '', 'PX', dedup_ttl_ms)

-- 3. One unit: check-and-decrement (atomic here; see docs/redis.md for the strategies).
local left = tonumber(redis.call('GET', stock_key) or '0')
if left <= 0 then
  redis.call('DEL', dedup_key)
  return finish(2, '', '0', '0', '0')
end
redis.call('DECR', stock_key)

-- 4. The order, its stream entry (for the batch writer) and its delayed cancel.
-- The key is bound to the order, without expiry, until the order is cancelled.
redis.call('SET', dedup_key, order_id)
redis.call('HSET', order_key, 'id', order_id, 'sale', sale_id, 'user', user_id,
           'state', '0', 'reason', '0', 'created', created, 'pay_before', pay_before,
           'updated', updated)
redis.call('XADD', stream_key, '*', 'id', order_id, 'user', user_id,
           'created', created, 'pay_before', pay_before)
redis.call('ZADD', cancel_key, pay_before, order_id)
redis.call('HINCRBY', counts_key, 'pending', 1)
return finish(0, order_id, created, pay_before, updated)
