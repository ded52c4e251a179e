#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/call_guard.h"

namespace seckill::ratelimit {

struct BreakerOptions {
  enum class Window { kCount, kTime };
  Window window = Window::kCount;
  int64_t window_calls = 100;                        // kCount: the last N calls
  absl::Duration window_length = absl::Seconds(10);  // kTime: calls of the last period
  int64_t min_calls = 20;    // no decision on fewer calls in the window
  double failure_ratio = 0.5;  // open when failures / calls >= this (> 1 = never)
  double slow_ratio = 1.0;     // open when slow / calls >= this (> 1 = never)
  absl::Duration slow_call = absl::Seconds(1);  // a call this slow or slower is slow
  absl::Duration open_for = absl::Seconds(5);   // open before trying half-open
  int64_t probe_calls = 3;                      // trial calls allowed while half-open
};

// A circuit breaker for one dependency (stock store, order store), after Resilience4j:
//
//   closed --(>= min_calls in the window and failure or slow ratio >= threshold)--> open
//   open --(open_for elapsed, noticed by the next allow())--> half-open
//   half-open: allows probe_calls trial calls; once all have been recorded, closed (window
//   reset) if their failure and slow ratios are below the thresholds, else open again. If the
//   probes do not all report within open_for, a fresh round of probes is allowed.
//
// The window is count-based (the last window_calls results) or time-based (the results of
// the last window_length, in 10 buckets). Operators can force a mode: kForcedOpen (deny all),
// kDisabled (allow all, record nothing), kMetricsOnly (allow all, but run and report the state
// machine). Leaving a forced mode for kNormal restarts closed with an empty window; leaving
// kMetricsOnly keeps the computed state.
//
// Results recorded while open (calls allowed before it opened) are ignored. Every transition
// of state() is counted and passed to the listener, which is called outside the lock (so it may
// call back into the breaker) on the thread that caused it. Thread-safe: one mutex, taken once
// per allow() and once per record().
class CircuitBreaker final : public CallGuard {
 public:
  enum class State { kClosed, kOpen, kHalfOpen, kForcedOpen, kDisabled, kMetricsOnly };
  static constexpr size_t kStates = 6;
  enum class Mode { kNormal, kForcedOpen, kDisabled, kMetricsOnly };

  struct Transition {
    std::string_view breaker;
    State from;
    State to;
    absl::Time at;
    std::string_view reason;  // "failure_ratio", "slow_ratio", "open_elapsed", "probes_ok",
                              // "probes_failed", "operator"
    bool metrics_only;        // a transition of the machine run under kMetricsOnly
  };
  using Listener = std::function<void(const Transition&)>;

  // InvalidArgument for options out of range (window_calls, min_calls, probe_calls < 1;
  // non-positive durations; negative ratios).
  static absl::StatusOr<std::unique_ptr<CircuitBreaker>> create(std::string name,
                                                                BreakerOptions options,
                                                                Listener listener = nullptr);

  // Whether a call may go to the dependency now. In half-open this hands out a probe slot,
  // so call it only when the call will be made (and its result recorded).
  bool allow(absl::Time now) override;
  // The result of a call allowed earlier: ok = false for an error (not for a business
  // outcome like sold out), latency to classify slow calls.
  void record(absl::Time now, bool ok, absl::Duration latency) override;

  // What operators see: the forced mode if one is set, else the machine's state.
  State state() const;
  // The machine's own state (closed / open / half-open), also under kMetricsOnly.
  State machineState() const;
  // Retry-After hint for a denied call: what is left of open_for (open_for when forced open).
  absl::Duration retryAfter(absl::Time now) const override;

  void setMode(Mode mode, absl::Time now);
  Mode mode() const;

  // Transitions into `to` since creation, and all transitions.
  uint64_t transitionsInto(State to) const {
    return into_[static_cast<size_t>(to)].load(std::memory_order_relaxed);
  }
  uint64_t transitions() const;

  struct WindowStats {
    int64_t calls = 0;
    int64_t failures = 0;
    int64_t slow = 0;
  };
  // The closed-state window as of the last record().
  WindowStats windowStats() const;
  const std::string& name() const { return name_; }

 private:
  CircuitBreaker(std::string name, BreakerOptions options, Listener listener);

  struct Pending {
    State from, to;
    absl::Time at;
    std::string_view reason;
    bool metrics_only;
  };
  using PendingList = std::vector<Pending>;

  State effectiveLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the machine to `to`, noting the effective transition (if any) in `out`.
  void moveLocked(State to, absl::Time at, std::string_view reason, PendingList& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool machineAllowLocked(absl::Time now, PendingList& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void resetWindowLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void addToWindowLocked(absl::Time now, bool failed, bool slow) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  WindowStats windowLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool tripped(const WindowStats& w) const;
  void notify(const PendingList& pending);

  static constexpr int64_t kTimeBuckets = 10;
  struct Bucket {
    int64_t epoch = -1;  // window_length / kTimeBuckets periods since the Unix epoch
    WindowStats stats;
  };

  const std::string name_;
  const BreakerOptions options_;
  const Listener listener_;

  mutable absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kNormal;
  State machine_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  absl::Time half_open_at_ ABSL_GUARDED_BY(mu_);
  int64_t probes_allowed_ ABSL_GUARDED_BY(mu_) = 0;
  WindowStats probes_ ABSL_GUARDED_BY(mu_);
  // Count-based window: bit 0 = failed, bit 1 = slow.
  std::vector<uint8_t> ring_ ABSL_GUARDED_BY(mu_);
  size_t ring_head_ ABSL_GUARDED_BY(mu_) = 0;
  WindowStats ring_totals_ ABSL_GUARDED_BY(mu_);
  // Time-based window.
  std::array<Bucket, kTimeBuckets> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time last_record_ ABSL_GUARDED_BY(mu_);

  std::array<std::atomic<uint64_t>, kStates> into_{};
};

std::string_view breakerStateName(CircuitBreaker::State s);
std::string_view breakerModeName(CircuitBreaker::Mode m);
// Parses "normal" | "forced_open" | "disabled" | "metrics_only".
absl::StatusOr<CircuitBreaker::Mode> parseBreakerMode(std::string_view name);

}  // namespace seckill::ratelimit
