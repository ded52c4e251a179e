-- Records an audit entry that comes with no change of state (RedisControlStore::appendAudit).
-- KEYS[1] = sk:{control}:audit (stream), KEYS[2] = sk:{control}:audit:seq
-- ARGV    = audit entry JSON, audit stream length
-- Returns the entry's seq.
local bad = wrongType({{KEYS[1], 'stream'}, {KEYS[2], 'string'}})
if bad then return bad end
local seq = nextSeq(KEYS[1], KEYS[2])
if not seq then return redis.error_reply('ERR ' .. KEYS[2] .. ' is not an integer') end
appendAudit(KEYS[1], KEYS[2], seq, ARGV[1], ARGV[2])
return seq
