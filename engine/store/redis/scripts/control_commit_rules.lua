-- Makes a rule-set version current (RedisControlStore::commitRules) iff the current version is
-- the expected one, and records its audit entry, in one step.
-- KEYS[1] = sk:{control}:rules (the current RuleVersion, JSON)
-- KEYS[2] = sk:{control}:rules:version (the current version; absent = 0)
-- KEYS[3] = sk:{control}:rules:history (hash: version -> RuleVersion JSON)
-- KEYS[4] = sk:{control}:audit (stream), KEYS[5] = sk:{control}:audit:seq
-- KEYS[6] = sk:{control}:gen (hash: topic -> generation)
-- ARGV    = expected, version (expected + 1), RuleVersion JSON, audit entry JSON,
--           versions to keep, audit stream length
-- Returns {1, version, seq, generation} when written, {0, current version} when `expected` is
-- stale (nothing written).
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if not current then
  return redis.error_reply('ERR ' .. KEYS[2] .. ' is not an integer')
end
if current ~= tonumber(ARGV[1]) then return {0, current} end
local bad = wrongType({{KEYS[1], 'string'}, {KEYS[3], 'hash'}, {KEYS[4], 'stream'},
                       {KEYS[5], 'string'}, {KEYS[6], 'hash'}})
if bad then return bad end
bad = badGeneration(KEYS[6], 'rules')
if bad then return bad end
local seq = nextSeq(KEYS[4], KEYS[5])
if not seq then return redis.error_reply('ERR ' .. KEYS[5] .. ' is not an integer') end

redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
local keep = tonumber(ARGV[5])
if redis.call('HLEN', KEYS[3]) > keep then
  local versions = redis.call('HKEYS', KEYS[3])
  table.sort(versions, function(a, b) return (tonumber(a) or 0) < (tonumber(b) or 0) end)
  for i = 1, #versions - keep do redis.call('HDEL', KEYS[3], versions[i]) end
end
appendAudit(KEYS[4], KEYS[5], seq, ARGV[4], ARGV[6])
return {1, tonumber(ARGV[2]), seq, redis.call('HINCRBY', KEYS[6], 'rules', 1)}
