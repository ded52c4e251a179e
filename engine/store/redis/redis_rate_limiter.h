#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/ratelimit/remote_limiter.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The scripts of the distributed limits and of the rule store, by index into
// rateLimitScripts() (offset by RedisRateLimiterOptions::first_script).
enum RateLimitScript : size_t {
  kScriptRlTokenBucket,
  kScriptRlLeakyBucket,
  kScriptRlSlidingWindow,
  kScriptRlSlidingLog,
  kRateLimitScriptCount,
};

// The scripts RedisRateLimiter runs (engine/store/redis/scripts/rl_*.lua).
// Put them in RedisClientOptions::scripts of the client they use: alone (first_script = 0),
// or appended after other scripts (first_script = the index of the first one), e.g.
//   auto scripts = storeScripts(); size_t rl = scripts.size();
//   append rateLimitScripts(); ... RedisRateLimiter(client, {.first_script = rl})
std::vector<RedisScript> rateLimitScripts();

namespace redis_keys {
// The shared state of one key of a distributed rule: "sk:rl:{<rule hash>:<scope key>}". The
// route (hash-tag content) is "<rule hash>:<scope key>", 16 hex digits then the key, raw
// ("=<key>") when it is short and plain, else hashed ("#<16 hex>", same collision odds as the
// in-process table).
std::string rateLimitRoute(uint64_t rule_hash, std::string_view scope_key);
std::string rateLimitKey(std::string_view route);
}  // namespace redis_keys

struct RedisRateLimiterOptions {
  size_t first_script = 0;  // index of rateLimitScripts()[0] in the client's scripts
  // Whose clock the scripts use. true (default): Redis TIME inside the script, so every engine
  // node decides on one clock and clock skew between nodes cannot shift a limit. false: the
  // engine's `now` (µs) is passed in; deterministic, for tests driving a ManualClock.
  bool redis_time = true;
};

// RemoteLimiterBackend on Redis: each algorithm of algorithms.h runs as one Lua script over
// one key per (rule, scope key), with EVALSHA: one round trip per distributed rule evaluated.
// Times are microseconds; keys expire when their state equals a fresh one (idle keys vanish).
// Errors (connection down, timeout, error reply, malformed reply) complete `done` with a
// non-OK status; the RateLimiter applies the failure policy. Thread-safe; completions run on
// the client's connection threads. The client must outlive this object and be shut down
// before anything the callbacks use is destroyed.
class RedisRateLimiter final : public ratelimit::RemoteLimiterBackend {
 public:
  explicit RedisRateLimiter(RedisClient& client, RedisRateLimiterOptions options = {});
  RedisRateLimiter(const RedisRateLimiter&) = delete;
  RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

  void acquire(const ratelimit::CompiledRule& rule, std::string_view key, absl::Time now,
               uint32_t hits, Callback<absl::StatusOr<ratelimit::Decision>> done) override;

 private:
  RedisClient& client_;
  const RedisRateLimiterOptions options_;
};

}  // namespace seckill
