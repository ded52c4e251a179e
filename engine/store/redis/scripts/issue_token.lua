-- issue_token.lua: stores a fresh one-time token.
-- KEYS: 1 token hash. ARGV: 1 user id, 2 expires (ms since epoch), 3 ttl (ms).
-- The key expires after the ttl (relative, so engine/Redis clock skew cannot
-- drop it early); validity itself is checked against 'exp' by attempt_orders.
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'exp', ARGV[2], 'state', 'fresh')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
