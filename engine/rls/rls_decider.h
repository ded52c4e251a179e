#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "engine/core/callback.h"
#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/stats.h"
#include "engine/rls/descriptor_mapping.h"
#include "envoy/service/ratelimit/v3/rls.pb.h"

namespace seckill::rls {

// What the rate-limit service has answered since start (for /metrics).
struct RlsStats {
  uint64_t requests_ok = 0;
  uint64_t requests_over_limit = 0;
  uint64_t requests_invalid = 0;     // refused with INVALID_ARGUMENT
  uint64_t descriptors_ok = 0;       // shadow-limited ones included
  uint64_t descriptors_over_limit = 0;
  uint64_t descriptors_shadow = 0;   // OK, but a log-mode rule or dry-run would have limited
};

struct RlsDeps {
  const Clock& clock;
  // The engine's limiter: the rules, overrides and rule states the HTTP edge and the admin API
  // share. Must outlive the decider.
  const ratelimit::RateLimiter& limiter;
  // Told about each descriptor a log-mode rule or a dry-run override would have limited (the
  // engine counts and logs them as it does the HTTP edge's). May be empty.
  std::function<void(const ratelimit::Verdict&)> on_shadow;
};

// Decides Envoy RateLimitRequests on the engine's rules: maps the request (descriptor_mapping.h),
// asks the core for each descriptor in order, and writes one status per descriptor; the
// response is OVER_LIMIT iff some descriptor is. Every descriptor is decided, also after one
// was over limit (as envoyproxy/ratelimit does): each consumes from the rules it passes.
// Thread-safe; holds no lock of its own.
class RlsDecider {
 public:
  RlsDecider(RlsDeps deps, MappingOptions options);
  RlsDecider(const RlsDecider&) = delete;
  RlsDecider& operator=(const RlsDecider&) = delete;

  // Fills `response` and calls `done` exactly once: OK, or InvalidArgument naming the field
  // (nothing decided, nothing consumed). Inline, unless a distributed rule's backend answers
  // later (then on the thread that completed it); `request` and `response` must stay valid
  // until `done` runs.
  void decide(const envoy_rls::RateLimitRequest& request, envoy_rls::RateLimitResponse* response,
              Callback<absl::Status> done) const;

  const MappingOptions& options() const { return options_; }
  RlsStats stats() const;

 private:
  struct Run;
  // Decides descriptors from `run->next` on; returns when all are decided (and answered) or
  // one went to the backend (which resumes the run).
  void resume(std::unique_ptr<Run> run) const;
  void record(Run& run, size_t index, const ratelimit::Verdict& v) const;
  void finish(Run& run) const;

  const RlsDeps deps_;
  const MappingOptions options_;
  mutable ShardedCounter requests_ok_;
  mutable ShardedCounter requests_over_limit_;
  mutable ShardedCounter requests_invalid_;
  mutable ShardedCounter descriptors_ok_;
  mutable ShardedCounter descriptors_over_limit_;
  mutable ShardedCounter descriptors_shadow_;
};

}  // namespace seckill::rls
