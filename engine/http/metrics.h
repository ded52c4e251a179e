#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/engine_stats.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/stats.h"
#include "engine/http/router.h"
#include "engine/identity/identity.h"

namespace seckill::http {

// The HTTP edge's own metrics. Hot-path updates are per-thread sharded
// counters (no lock, no shared cache line); the connection gauge is one atomic
// touched only on connect and close. Thread-safe.
class HttpMetrics {
 public:
  // The status codes the edge answers with; any other is counted as 500.
  static constexpr std::array<int, 14> kStatusCodes = {200, 201, 400, 401, 403, 404, 405,
                                                       409, 410, 413, 429, 431, 500, 503};

  // Counts one answered request and its latency (request parsed -> answer sent).
  void recordRequest(Route route, int status, uint64_t micros);
  // Counts what the rate rules decided for one request (kAllow also for a request no rule
  // checked).
  void recordAdmission(ratelimit::Verdict::Kind kind) {
    admission_[static_cast<size_t>(kind)].add();
  }
  // Counts a request whose shopper identity was refused (its 401), by reason.
  void recordIdentityRefusal(identity::Refusal r) { refused_[static_cast<size_t>(r)].add(); }
  void connectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }
  // A connection took per-request state (its read buffer, request and answer) for a request
  // it receives, or gave it back (answered, or closed); an idle keep-alive connection holds
  // none.
  void requestStateTaken() { states_taken_.add(); }
  void requestStateReturned() { states_returned_.add(); }
  // Open connections holding per-request state (receiving, processing or answering).
  int64_t connectionsHoldingRequestState() const {
    const uint64_t returned = states_returned_.value();  // first: never below the true count
    return static_cast<int64_t>(states_taken_.value() - returned);
  }
  // Requests answered so far on `route` with `status`.
  uint64_t requests(Route route, int status) const;

  // Writes the edge's part of `out`: requests by route and code (non-zero pairs), latency,
  // connections, admission. With `take_max` (the stats sampler, once a second) also the
  // largest latency since the previous such call, which it resets.
  void fill(EngineStats& out, bool take_max = false);

 private:
  static size_t statusIndex(int status);
  static constexpr size_t kVerdictKinds = 6;  // ratelimit::Verdict::Kind

  std::array<ShardedCounter, kRouteCount * kStatusCodes.size()> requests_;
  std::array<ShardedCounter, kVerdictKinds> admission_;
  std::array<ShardedCounter, identity::kRefusalCount> refused_;
  LatencyHistogram latency_;
  std::atomic<int64_t> connections_{0};
  ShardedCounter states_taken_;
  ShardedCounter states_returned_;
};

// The engine's whole /metrics text from one EngineStats: every series the engine exports.
void renderPrometheus(const EngineStats& stats, std::string& out);

// A Prometheus label value, quoted and escaped ('\\', '"', newline).
void appendLabelValue(std::string& out, std::string_view v);

// Microseconds as decimal seconds without trailing zeros: 250 -> "0.00025".
void appendMicrosAsSeconds(std::string& out, uint64_t micros);

}  // namespace seckill::http
