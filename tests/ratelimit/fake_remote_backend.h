#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/ratelimit/algorithms.h"
#include "engine/core/ratelimit/remote_limiter.h"

namespace seckill::ratelimit::testing {

// A RemoteLimiterBackend in memory: the "shared" state is one in-process Limiter per
// (rule identity hash, key), so two RateLimiters given the same fake share a budget like two
// nodes on one Redis. It can fail every call (`setFailing`), or hold answers until
// releaseHeld() (to complete them later, e.g. from another thread). Thread-safe.
class FakeRemoteBackend final : public RemoteLimiterBackend {
 public:
  struct Call {
    std::string rule;  // the rule's name
    std::string key;
  };

  void acquire(const CompiledRule& rule, std::string_view key, absl::Time now, uint32_t hits,
               Callback<absl::StatusOr<Decision>> done) override {
    absl::StatusOr<Decision> answer;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(Call{rule.name, std::string(key)});
      if (failing_) {
        answer = absl::UnavailableError("fake backend: down");
      } else {
        auto& limiter = states_[std::make_pair(rule.identity_hash, std::string(key))];
        if (!limiter) limiter = makeLimiter(rule.spec);
        answer = limiter->acquire(now, absl::ZeroDuration(), hits);
      }
      if (holding_) {
        held_.emplace_back(std::move(done), std::move(answer));
        return;
      }
    }
    std::move(done)(std::move(answer));
  }

  void setFailing(bool failing) {
    absl::MutexLock lock(&mu_);
    failing_ = failing;
  }
  void setHolding(bool holding) {
    absl::MutexLock lock(&mu_);
    holding_ = holding;
  }
  // Completes every held call, on the calling thread; returns how many.
  size_t releaseHeld() {
    std::vector<std::pair<Callback<absl::StatusOr<Decision>>, absl::StatusOr<Decision>>> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (auto& [done, answer] : held) std::move(done)(std::move(answer));
    return held.size();
  }
  size_t heldCount() {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }
  std::vector<Call> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<uint64_t, std::string>, std::unique_ptr<Limiter>> states_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<Callback<absl::StatusOr<Decision>>, absl::StatusOr<Decision>>> held_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill::ratelimit::testing
