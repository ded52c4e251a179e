#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The rule set as JSON, every RuleSpec field included (durations in nanoseconds):
//   {"format":1,"rules":[{"path":"/api/**","method":"POST"|null,"scope":"user",
//     "algorithm":"token_bucket","rate":10,"per_ns":1000000000,"burst":20,"queue":0,
//     "warmup_ns":0,"on_limit":"reject","max_wait_ns":0,"distributed":true,"line":12}, ...]}
std::string rulesToJson(const std::vector<ratelimit::RuleSpec>& specs);
// Parses and validates (validateRules) a set: InvalidArgument naming what is wrong.
absl::StatusOr<std::vector<ratelimit::RuleSpec>> rulesFromJson(std::string_view json);

namespace redis_keys {
inline constexpr std::string_view kRulesRoute = "rules";          // the hash tag {rules}
inline constexpr std::string_view kRuleSet = "sk:{rules}:set";    // string: rulesToJson()
inline constexpr std::string_view kRuleVersion = "sk:{rules}:version";  // int, INCR'd per write
}  // namespace redis_keys

struct RedisRuleStoreOptions {
  size_t first_script = 0;  // index of rateLimitScripts()[0] in the client's scripts
  absl::Duration poll_interval = absl::Milliseconds(100);  // the watcher's version poll
  // Told about an invalid set in Redis (once per version) and about the watcher losing Redis
  // (once per outage); for the log. May be empty. Runs on the watcher thread.
  std::function<void(const absl::Status&)> on_error;
};

// The rule set of all engine nodes, in Redis (production mode): sk:{rules}:set holds the JSON
// list (rulesToJson), sk:{rules}:version a counter bumped by every write; both are written
// together by one script (rl_publish_rules.lua), and read together by one MGET.
//
// A node seeds Redis with its config's rules at start (seedIfAbsent), applies what fetch()
// returns, then watch()es: a thread polls the version every poll_interval and hands each new,
// valid set to the callback (which gives it to RuleRegistry::replace()). A node's reload
// publish()es its new set; every node sees it within poll_interval + one round trip. A set
// that does not parse or validate is reported (on_error) and ignored: the running set stays.
//
// Versions this store wrote or read itself (publish, seedIfAbsent, fetch) are not handed to
// the callback again. The blocking calls (publish, fetch, seedIfAbsent) must not run on a
// Redis connection thread. Thread-safe. The client must outlive the store.
class RedisRuleStore {
 public:
  struct Stored {
    uint64_t version = 0;
    std::vector<ratelimit::RuleSpec> specs;
  };
  // Called with each new valid set and its Redis version, on the watcher thread.
  using OnRules = std::function<void(std::vector<ratelimit::RuleSpec> specs, uint64_t version)>;

  explicit RedisRuleStore(RedisClient& client, RedisRuleStoreOptions options = {});
  // Stops the watcher.
  ~RedisRuleStore();
  RedisRuleStore(const RedisRuleStore&) = delete;
  RedisRuleStore& operator=(const RedisRuleStore&) = delete;

  // Validates `specs` and makes them the stored set: returns the new version. InvalidArgument
  // (nothing written) for an invalid set; Unavailable/Internal if Redis fails.
  absl::StatusOr<uint64_t> publish(const std::vector<ratelimit::RuleSpec>& specs);
  // Stores `specs` only if Redis holds no set yet. True iff it wrote them.
  absl::StatusOr<bool> seedIfAbsent(const std::vector<ratelimit::RuleSpec>& specs);
  // The stored set; nullopt if none. InvalidArgument if the stored set is invalid.
  absl::StatusOr<std::optional<Stored>> fetch();

  // Starts the watcher thread (once; FailedPrecondition on a second call).
  absl::Status watch(OnRules on_rules);
  // Stops and joins the watcher. Idempotent; not from the callback.
  void stop();

 private:
  absl::StatusOr<std::optional<Stored>> read(uint64_t* version_seen);
  void noteVersion(uint64_t v);
  void run();
  void pollOnce();

  RedisClient& client_;
  const RedisRuleStoreOptions options_;
  // The latest version this store wrote, read or handed out: the watcher skips it.
  std::atomic<uint64_t> known_version_{0};
  uint64_t bad_version_ = 0;  // watcher thread: last invalid version reported
  bool failing_ = false;      // watcher thread: the last poll failed
  OnRules on_rules_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace seckill
