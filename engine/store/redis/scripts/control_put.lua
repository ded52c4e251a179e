-- Puts one breaker setting or sale (RedisControlStore) and records its audit entry, in one step.
-- KEYS[1] = sk:{control}:breakers | sk:{control}:sales (hash: name or id -> JSON)
-- KEYS[2] = sk:{control}:audit (stream), KEYS[3] = sk:{control}:audit:seq
-- KEYS[4] = sk:{control}:gen (hash: topic -> generation)
-- KEYS[5] = sk:{control}:sales:order (list of ids, first put first); sales only
-- ARGV    = name or id, JSON, topic ('breakers' | 'sales'), audit entry JSON, audit stream length
-- Returns {seq, generation}.
local checks = {{KEYS[1], 'hash'}, {KEYS[2], 'stream'}, {KEYS[3], 'string'}, {KEYS[4], 'hash'}}
if KEYS[5] then checks[5] = {KEYS[5], 'list'} end
local bad = wrongType(checks)
if bad then return bad end
bad = badGeneration(KEYS[4], ARGV[3])
if bad then return bad end
local seq = nextSeq(KEYS[2], KEYS[3])
if not seq then return redis.error_reply('ERR ' .. KEYS[3] .. ' is not an integer') end

if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 and KEYS[5] then
  redis.call('RPUSH', KEYS[5], ARGV[1])
end
appendAudit(KEYS[2], KEYS[3], seq, ARGV[4], ARGV[5])
return {seq, redis.call('HINCRBY', KEYS[4], ARGV[3], 1)}
