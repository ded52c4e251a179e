#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/control/control_store.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The scripts RedisControlStore runs (engine/store/redis/scripts/control_*.lua), in this order
// in controlScripts() (offset by RedisControlStoreOptions::first_script).
enum ControlScript : size_t {
  kScriptControlCommitRules,
  kScriptControlPut,
  kScriptControlAppendAudit,
  kControlScriptCount,
};
// Append to RedisClientOptions::scripts; the store finds them from `first_script` on.
std::vector<RedisScript> controlScripts();

namespace redis_keys {
// Every control key has the hash tag {control}: one cluster slot, so each change is one script.
inline constexpr std::string_view kControlRoute = "control";
inline constexpr std::string_view kControlRules = "sk:{control}:rules";  // current RuleVersion
inline constexpr std::string_view kControlRulesVersion = "sk:{control}:rules:version";  // int
// hash: version -> RuleVersion, the newest keep_versions
inline constexpr std::string_view kControlRulesHistory = "sk:{control}:rules:history";
inline constexpr std::string_view kControlBreakers = "sk:{control}:breakers";  // hash: name -> JSON
inline constexpr std::string_view kControlSales = "sk:{control}:sales";        // hash: id -> JSON
inline constexpr std::string_view kControlSalesOrder = "sk:{control}:sales:order";  // list of ids
// stream: ID <seq>-0, fields seq and entry (AuditEntry JSON; its own "seq" is not used)
inline constexpr std::string_view kControlAudit = "sk:{control}:audit";
inline constexpr std::string_view kControlAuditSeq = "sk:{control}:audit:seq";  // the last seq
// hash: rules | breakers | sales -> generation, bumped by every change of the topic
inline constexpr std::string_view kControlGen = "sk:{control}:gen";
}  // namespace redis_keys

struct RedisControlStoreOptions {
  size_t first_script = 0;  // index of controlScripts()[0] in the client's scripts
  absl::Duration poll_interval = absl::Milliseconds(100);  // the watcher's generation poll
  size_t keep_versions = 100;                              // rule versions kept in the history
  size_t audit_length = 100'000;                           // audit entries kept (about: MAXLEN ~)
  // Told when the watcher loses Redis (once per outage); for the log. May be empty. Runs on the
  // watcher thread.
  std::function<void(const absl::Status&)> on_error;
};

// The control state of a fleet, in Redis: every node shares it and follows it (the JSON of
// engine/store/codec/control_json.h under the keys of redis_keys above). Each change is one
// script call that checks what it must (the expected rule version), writes the state and its
// audit entry, and bumps the topic's generation in sk:{control}:gen.
//
// watch() starts a thread that polls the generations every poll_interval and calls `changed`
// for every topic another node changed: a node sees another's change within poll_interval plus
// a round trip. Changes this store wrote itself are not reported, nor those made before watch()
// (it reads the generations first: call it before loading the state). If that first read fails,
// the first poll that succeeds reports every topic.
//
// Every call blocks (RedisClient::commandSync/evalSync): never call one on a Redis connection
// thread. Thread-safe; the writes of one store run one at a time. The client must outlive the
// store.
class RedisControlStore final : public control::ControlStore {
 public:
  explicit RedisControlStore(RedisClient& client, RedisControlStoreOptions options = {});
  // Stops the watcher.
  ~RedisControlStore() override;
  RedisControlStore(const RedisControlStore&) = delete;
  RedisControlStore& operator=(const RedisControlStore&) = delete;

  absl::StatusOr<std::optional<control::RuleVersion>> currentRules() override;
  // Also InvalidArgument (nothing written) unless next.change.version == expected + 1.
  absl::Status commitRules(uint64_t expected, const control::RuleVersion& next,
                           const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::Change>> ruleVersions(size_t limit) override;
  absl::StatusOr<std::optional<control::RuleVersion>> ruleVersion(uint64_t version) override;
  // By name.
  absl::StatusOr<std::vector<control::BreakerSetting>> breakerSettings() override;
  absl::Status putBreakerSetting(const control::BreakerSetting& setting,
                                 const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::SaleRecord>> sales() override;
  absl::Status putSale(const control::SaleRecord& record,
                       const control::AuditEntry& audit) override;
  absl::Status appendAudit(const control::AuditEntry& audit) override;
  absl::StatusOr<control::AuditPage> audit(const control::AuditQuery& query) override;
  // FailedPrecondition on a second call.
  absl::Status watch(std::function<void(control::ControlTopic)> changed) override;
  // Stops and joins the watcher. Idempotent; not from the callback.
  void stop() override;
  std::string describe() const override { return "redis"; }

 private:
  static constexpr size_t kTopics = 3;  // ControlTopic values
  using Generations = std::array<uint64_t, kTopics>;

  absl::StatusOr<Generations> readGenerations();
  // Remembers that this store made `generation` of `topic`.
  void noteOwn(control::ControlTopic topic, uint64_t generation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status put(control::ControlTopic topic, std::string_view hash, std::string field,
                   std::string json, const control::AuditEntry& audit);
  void run();
  void pollOnce();

  RedisClient& client_;
  const RedisControlStoreOptions options_;

  // Held across each write's script call until its generation is noted, so the watcher (which
  // compares under it) never takes this store's own change for another node's.
  absl::Mutex mu_;
  std::array<std::set<uint64_t>, kTopics> own_ ABSL_GUARDED_BY(mu_);  // not yet polled
  std::optional<Generations> seen_ ABSL_GUARDED_BY(mu_);              // the watcher's last poll
  bool watching_ ABSL_GUARDED_BY(mu_) = false;                        // watch() was called
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool failing_ = false;  // watcher thread: the last poll failed
  std::function<void(control::ControlTopic)> changed_;
  std::thread watcher_;
};

}  // namespace seckill
