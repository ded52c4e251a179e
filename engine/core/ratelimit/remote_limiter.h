#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/core/ratelimit/limiter.h"
#include "engine/core/ratelimit/rule_set.h"

namespace seckill::ratelimit {

// Where the state of `distributed = true` rules lives: shared by every engine node (Redis in
// production, engine/store/redis/redis_rate_limiter.h; a fake in tests). The core only talks
// to this interface, so it stays free of I/O.
class RemoteLimiterBackend {
 public:
  virtual ~RemoteLimiterBackend() = default;

  // Decides one request of `hits` units (0: a peek; see algorithms.h) for `key` (the scope
  // value; ignored for the global scope) of `rule` on the shared state, exactly as the rule's
  // in-process algorithm (algorithms.h) would with max_wait = 0 (distributed rules never queue,
  // see validateRules). `now` is the engine's clock at the request; a backend may use its own
  // clock instead (documented per backend). `rule` stays valid until `done` has been called.
  // `done` is called exactly once, inline or on another thread; a non-OK status means the
  // backend could not answer (the caller applies the failure policy).
  virtual void acquire(const CompiledRule& rule, std::string_view key, absl::Time now,
                       uint32_t hits, Callback<absl::StatusOr<Decision>> done) = 0;
};

// What a distributed rule does when its backend fails (error or timeout).
enum class FailurePolicy {
  kOpen,    // admit as if the rule had passed (the default: a broken Redis must not stop sales)
  kClosed,  // answer 503 unavailable (Verdict::kUnavailable)
};
// Parses "open" | "closed".
absl::StatusOr<FailurePolicy> parseFailurePolicy(std::string_view name);
std::string_view failurePolicyName(FailurePolicy p);

// One backend failure, as reported to DistributedOptions::on_backend_error.
struct BackendErrorEvent {
  std::string rule;     // the rule's name
  absl::Status status;  // what the backend answered
  FailurePolicy applied = FailurePolicy::kOpen;
  uint64_t suppressed = 0;  // failures since the previous report that were not reported
};

struct DistributedOptions {
  FailurePolicy failure = FailurePolicy::kOpen;  // [limits] distributed_failure
  // Told about backend failures, at most once per `report_every` of request time (the others
  // are counted in `suppressed`); for the log. May be empty. Runs on the thread that completed
  // the backend call.
  std::function<void(const BackendErrorEvent&)> on_backend_error;
  absl::Duration report_every = absl::Seconds(1);
};

}  // namespace seckill::ratelimit
