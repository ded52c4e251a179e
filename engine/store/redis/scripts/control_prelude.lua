-- The start of every control-state script (control_commit_rules, control_put,
-- control_append_audit; RedisControlStore): engine/store/redis/CMakeLists.txt puts it in front of
-- each when it embeds them. Every key is sk:{control}:... (one cluster slot), and each script
-- writes one change whole, together with its audit entry.

-- An error reply if a key of `checks` ({key, type} pairs) exists with another type, else nil.
-- Redis keeps what a script wrote before an error, so every key is checked before the first
-- write: a key written by hand fails the call with nothing written.
local function wrongType(checks)
  for _, c in ipairs(checks) do
    local t = redis.call('TYPE', c[1])['ok']
    if t ~= 'none' and t ~= c[2] then
      return redis.error_reply('WRONGTYPE ' .. c[1] .. ' is a ' .. t .. ', not a ' .. c[2])
    end
  end
  return nil
end

-- An error reply if the generation `topic` in `gen_key` is not an integer (HINCRBY would fail
-- after the writes), else nil.
local function badGeneration(gen_key, topic)
  local g = redis.call('HGET', gen_key, topic)
  if g and not tonumber(g) then
    return redis.error_reply('ERR ' .. gen_key .. ' ' .. topic .. ' is not an integer: ' .. g)
  end
  return nil
end

-- The seq of the next audit entry: one past the counter and past the stream's last entry
-- (whose ID is <seq>-0), so the XADD cannot fail on an ID that went backwards. nil if the
-- counter is not an integer.
local function nextSeq(stream, seq_key)
  local seq = tonumber(redis.call('GET', seq_key) or '0')
  if not seq or seq ~= math.floor(seq) then return nil end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then
    local id = tonumber(string.match(last[1][1], '^(%d+)-'))
    if id and id > seq then seq = id end
  end
  return seq + 1
end

-- Appends the audit entry `entry` (JSON) as `seq`: stream ID <seq>-0, fields seq and entry;
-- the stream keeps about `maxlen` entries.
local function appendAudit(stream, seq_key, seq, entry, maxlen)
  local s = string.format('%.0f', seq)
  redis.call('SET', seq_key, s)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, s .. '-0', 'seq', s, 'entry', entry)
end
