-- Publishes a rule set (RedisRuleStore): the set and its version change together.
-- KEYS[1] = sk:{rules}:set (the JSON list of RuleSpecs), KEYS[2] = sk:{rules}:version
-- ARGV    = json, mode ("publish" | "seed": only if no set is stored yet)
-- Returns {written (1 | 0), version}. A missing version starts at Redis TIME in ms, so after
-- Redis lost its data the versions still differ from every one the nodes have seen.
if ARGV[2] == 'seed' and redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
end
redis.call('SET', KEYS[1], ARGV[1])
return {1, redis.call('INCR', KEYS[2])}
