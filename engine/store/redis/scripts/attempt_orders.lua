-- attempt_orders.lua: a GROUP of order attempts on one sale, each one atomic and
-- all of them in arrival order (Redis runs a script alone). The store sends the
-- attempts that queued up while the sale's previous group was in flight (group
-- commit); one attempt is a group of one. Each attempt mirrors
-- MemorySaleStore::runAttempt: token check/replay -> window -> dedup -> one
-- unit -> order record + stream entry + delayed cancel -> token result.
--
-- KEYS: 1 stock, 2 order stream, 3 cancel zset, 4 counts hash, 5 buyers hash
--       (user -> order id: the dedup), 6 order records hash (order id ->
--       record), then from 7 on the token hash of each attempt that has a token,
--       in the attempts' order (an attempt without one has no key)
-- ARGV: 1 sale id, 2 append created orders to the stream (0|1: only when a
--       writer consumes it), 3 the latest pay_before (us) of the group's attempts (when
--       its delayed cancel comes due), 4 now (ms): the latest arrival of the group's
--       attempts, when its tokens are judged; then per attempt i (0-based) at 5 + 5i:
--       order id, user id, token ('' = none), flags (1 = a token is required, + 2 = the
--       window is open), and the order's record should it be created (formatted by the
--       engine: encodeOrderRecord)
-- Returns one answer per attempt: its code alone, or {code, replayed (0|1),
-- order id, created_at, pay_before, updated_at} for a duplicate (the holder's
-- order id) and a replayed token (the first use's answer); code: 0 created,
-- 1 duplicate, 2 sold out, 3 invalid token, 4 token in flight, 5 sale not
-- open, 6 busy.
--
-- Costs per group, whatever its size: one GET and one DECRBY of the stock, one
-- HMGET and one HSET of the buyers, one HSET of the order records, one ZADD of
-- one delayed-cancel member for all the group's orders (see consume_due.lua),
-- two HINCRBY of the counts; per created order only an XADD, and only when
-- streaming. An order record is
-- "<state> <reason> <created> <pay_before> <updated> <user>" (see
-- redis_reply_util.h); this script reads its times only for a token's answer and
-- a stream entry.
local stock_key, stream_key, cancel_key, counts_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local buyers_key, records_key = KEYS[5], KEYS[6]
local sale_id, stream, cancel_due, now = ARGV[1], ARGV[2] == '1', ARGV[3], tonumber(ARGV[4])
local n = (#ARGV - 4) / 5

-- Redis keeps what a script wrote before an error, and an order written without
-- its unit taken would oversell. So every key the group writes is checked
-- before the first write: a key of the wrong type (data written by hand) fails
-- the whole call with nothing written. Only token hashes are per attempt: one
-- that is not a valid token makes its attempt answer "invalid token".
local stock = redis.call('GET', stock_key) or '0'
local left = tonumber(stock)
if not left or left ~= math.floor(left) then
  return redis.error_reply('ERR stock of sale ' .. sale_id .. ' is not an integer: ' .. stock)
end
local checks = {{records_key, 'hash'}, {cancel_key, 'zset'}, {counts_key, 'hash'}}
if stream then checks[4] = {stream_key, 'stream'} end
for _, c in ipairs(checks) do
  local t = redis.call('TYPE', c[1])['ok']
  if t ~= 'none' and t ~= c[2] then
    return redis.error_reply('WRONGTYPE ' .. c[1] .. ' is a ' .. t .. ', not a ' .. c[2])
  end
end

local users = {}
for i = 0, n - 1 do users[i + 1] = ARGV[6 + 5 * i] end
local held = redis.call('HMGET', buyers_key, unpack(users))  -- a wrong type fails here

local function failed(reply)
  return type(reply) == 'table' and reply.err ~= nil
end

local taken, results = 0, {}
local new_buyers, new_records, cancels, streamed = {}, {}, {}, {}
local bought = {}  -- users who ordered earlier in this group

-- Records a first use's answer on its token (the replay answer) at once, so a
-- later attempt of the same group with that token replays it. The token hash
-- was just read as a hash; should the write still fail, the attempt's answer
-- stands (a retry with the token then finds the buyer: a duplicate).
local function record(token_key, code, oid, c, p, u)
  local r = redis.pcall('HSET', token_key, 'state', 'used', 'r_code', code, 'r_oid', oid,
                        'r_c', c, 'r_p', p, 'r_u', u)
  if failed(r) then
    redis.log(redis.LOG_WARNING, 'seckill: answer of token ' .. token_key .. ' not recorded: ' .. r.err)
  end
end

local token_keys = 6  -- the last token key taken
for i = 0, n - 1 do
  local a = 5 + 5 * i
  local user_id, token = ARGV[a + 1], ARGV[a + 2]
  local token_key
  if token ~= '' then
    token_keys = token_keys + 1
    token_key = KEYS[token_keys]
  end
  -- Compared as text: tonumber() is a strtod, and conversions were a tenth of this script.
  local flags = ARGV[a + 3]
  local require_token = flags == '1' or flags == '3'
  local window_open = flags == '2' or flags == '3'
  -- An answer that carries nothing but its code is the code alone (an attempt
  -- created now needs nothing more: the engine has the order); a duplicate and
  -- a replay answer {code, replayed, order id, created, pay_before, updated}.
  local result
  -- 1. The token: this user's, unexpired, unused (or replayed).
  if token ~= '' then
    local t = redis.pcall('HMGET', token_key, 'user', 'exp', 'state',
                          'r_code', 'r_oid', 'r_c', 'r_p', 'r_u')
    local exp = not failed(t) and tonumber(t[2])
    if failed(t) or not t[1] or t[1] ~= user_id or not exp
        or now >= exp then
      result = 3
    elseif t[3] == 'used' then
      result = {tonumber(t[4]) or 6, 1, t[5] or '', t[6] or '0', t[7] or '0', t[8] or '0'}
    elseif not window_open then
      result = 5
    end
  elseif require_token then
    result = 3
  elseif not window_open then
    result = 5
  end

  if not result then
    -- 2. The (user, sale) dedup, before any stock is touched.
    local holder = held[i + 1] or bought[user_id]
    if holder then
      if token ~= '' then record(token_key, 1, holder, '0', '0', '0') end
      result = {1, 0, holder, '0', '0', '0'}
    elseif left <= 0 then
      -- 3. Sold out.
      if token ~= '' then record(token_key, 2, '', '0', '0', '0') end
      result = 2
    else
      -- 4. One unit, the order, its stream entry (for the batch writer) and its
      -- delayed cancel. The buyer stays bound to the order until it is
      -- cancelled.
      local order_id, order_record = ARGV[a], ARGV[a + 4]
      bought[user_id] = order_id
      left = left - 1
      taken = taken + 1
      new_buyers[2 * taken - 1] = user_id
      new_buyers[2 * taken] = order_id
      new_records[2 * taken - 1] = order_id
      new_records[2 * taken] = order_record
      cancels[taken] = order_id
      if stream or token ~= '' then
        local created, pay_before, updated =
          string.match(order_record, '^%S+ %S+ (%S+) (%S+) (%S+) ')
        if stream then streamed[taken] = {order_id, user_id, created, pay_before} end
        if token ~= '' then record(token_key, 0, order_id, created, pay_before, updated) end
      end
      result = 0
    end
  end
  results[i + 1] = result
end

if taken > 0 then
  -- Out of memory refuses the first write of a script and lets the later ones
  -- through: with no token written before, this DECRBY fails the call with
  -- nothing kept.
  redis.call('DECRBY', stock_key, taken)
  redis.call('HSET', buyers_key, unpack(new_buyers))
  redis.call('HSET', records_key, unpack(new_records))
  for _, s in ipairs(streamed) do
    redis.call('XADD', stream_key, '*', 'id', s[1], 'user', s[2], 'created', s[3],
               'pay_before', s[4])
  end
  -- One delayed-cancel member for the group, due at the latest pay_before of its
  -- attempts (the engine works it out: no number is parsed here per order), which is
  -- never before any of its orders' own: consume_due.lua splits the member into one
  -- per order when it comes due.
  redis.call('ZADD', cancel_key, cancel_due, table.concat(cancels, ' '))
  redis.call('HINCRBY', counts_key, 'pending', taken)
  redis.call('HINCRBY', counts_key, 'cancel_queue', taken)
end
return results
