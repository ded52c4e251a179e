#include "engine/core/ratelimit/circuit_breaker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {

std::string_view breakerStateName(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kOpen: return "open";
    case CircuitBreaker::State::kHalfOpen: return "half_open";
    case CircuitBreaker::State::kForcedOpen: return "forced_open";
    case CircuitBreaker::State::kDisabled: return "disabled";
    case CircuitBreaker::State::kMetricsOnly: return "metrics_only";
  }
  return "?";
}

std::string_view breakerModeName(CircuitBreaker::Mode m) {
  switch (m) {
    case CircuitBreaker::Mode::kNormal: return "normal";
    case CircuitBreaker::Mode::kForcedOpen: return "forced_open";
    case CircuitBreaker::Mode::kDisabled: return "disabled";
    case CircuitBreaker::Mode::kMetricsOnly: return "metrics_only";
  }
  return "?";
}

absl::StatusOr<CircuitBreaker::Mode> parseBreakerMode(std::string_view name) {
  for (auto m : {CircuitBreaker::Mode::kNormal, CircuitBreaker::Mode::kForcedOpen,
                 CircuitBreaker::Mode::kDisabled, CircuitBreaker::Mode::kMetricsOnly}) {
    if (breakerModeName(m) == name) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown breaker mode \"", av(name), "\" (normal | forced_open | disabled | metrics_only)"));
}

absl::StatusOr<std::unique_ptr<CircuitBreaker>> CircuitBreaker::create(std::string name,
                                                                       BreakerOptions options,
                                                                       Listener listener) {
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("breaker \"", name, "\": ", av(what)));
  };
  if (options.window_calls < 1) return bad("window_calls must be >= 1");
  if (options.window_length < absl::Nanoseconds(kTimeBuckets)) return bad("window_length too short");
  if (options.min_calls < 1) return bad("min_calls must be >= 1");
  if (options.window == BreakerOptions::Window::kCount && options.min_calls > options.window_calls) {
    return bad("min_calls must be <= window_calls");
  }
  if (!(options.failure_ratio > 0)) return bad("failure_ratio must be > 0");
  if (!(options.slow_ratio > 0)) return bad("slow_ratio must be > 0");
  if (options.slow_call <= absl::ZeroDuration()) return bad("slow_call must be > 0");
  if (options.open_for <= absl::ZeroDuration()) return bad("open_for must be > 0");
  if (options.probe_calls < 1) return bad("probe_calls must be >= 1");
  return std::unique_ptr<CircuitBreaker>(
      new CircuitBreaker(std::move(name), std::move(options), std::move(listener)));
}

CircuitBreaker::CircuitBreaker(std::string name, BreakerOptions options, Listener listener)
    : name_(std::move(name)), options_(std::move(options)), listener_(std::move(listener)) {}

CircuitBreaker::State CircuitBreaker::effectiveLocked() const {
  switch (mode_) {
    case Mode::kNormal: return machine_;
    case Mode::kForcedOpen: return State::kForcedOpen;
    case Mode::kDisabled: return State::kDisabled;
    case Mode::kMetricsOnly: return State::kMetricsOnly;
  }
  return machine_;
}

void CircuitBreaker::moveLocked(State to, absl::Time at, std::string_view reason,
                                PendingList& out) {
  const State from = machine_;
  machine_ = to;
  switch (to) {
    case State::kOpen:
      opened_at_ = at;
      break;
    case State::kHalfOpen:
      half_open_at_ = at;
      probes_allowed_ = 0;
      probes_ = WindowStats{};
      break;
    case State::kClosed:
      resetWindowLocked();
      break;
    default:
      break;
  }
  if (mode_ == Mode::kNormal || mode_ == Mode::kMetricsOnly) {
    into_[static_cast<size_t>(to)].fetch_add(1, std::memory_order_relaxed);
    out.push_back(Pending{from, to, at, reason, mode_ == Mode::kMetricsOnly});
  }
}

bool CircuitBreaker::machineAllowLocked(absl::Time now, PendingList& out) {
  switch (machine_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now < opened_at_ + options_.open_for) return false;
      moveLocked(State::kHalfOpen, now, "open_elapsed", out);
      [[fallthrough]];
    case State::kHalfOpen:
      if (probes_allowed_ < options_.probe_calls) {
        ++probes_allowed_;
        return true;
      }
      if (now - half_open_at_ >= options_.open_for) {  // probes lost: issue a fresh round
        half_open_at_ = now;
        probes_allowed_ = probes_.calls + 1;
        return true;
      }
      return false;
    default:
      return true;
  }
}

bool CircuitBreaker::allow(absl::Time now) {
  PendingList pending;
  bool ok = true;
  {
    absl::MutexLock lock(&mu_);
    switch (mode_) {
      case Mode::kForcedOpen: ok = false; break;
      case Mode::kDisabled: ok = true; break;
      case Mode::kMetricsOnly: machineAllowLocked(now, pending); ok = true; break;
      case Mode::kNormal: ok = machineAllowLocked(now, pending); break;
    }
  }
  notify(pending);
  return ok;
}

bool CircuitBreaker::tripped(const WindowStats& w) const {
  if (w.calls <= 0) return false;
  const double calls = static_cast<double>(w.calls);
  return static_cast<double>(w.failures) / calls >= options_.failure_ratio ||
         static_cast<double>(w.slow) / calls >= options_.slow_ratio;
}

void CircuitBreaker::record(absl::Time now, bool ok, absl::Duration latency) {
  PendingList pending;
  {
    absl::MutexLock lock(&mu_);
    if (mode_ == Mode::kForcedOpen || mode_ == Mode::kDisabled) return;
    const bool failed = !ok;
    const bool slow = latency >= options_.slow_call;
    switch (machine_) {
      case State::kClosed: {
        addToWindowLocked(now, failed, slow);
        WindowStats w = windowLocked(now);
        if (w.calls >= options_.min_calls) {
          const double calls = static_cast<double>(w.calls);
          if (static_cast<double>(w.failures) / calls >= options_.failure_ratio) {
            moveLocked(State::kOpen, now, "failure_ratio", pending);
          } else if (static_cast<double>(w.slow) / calls >= options_.slow_ratio) {
            moveLocked(State::kOpen, now, "slow_ratio", pending);
          }
        }
        break;
      }
      case State::kHalfOpen:
        ++probes_.calls;
        probes_.failures += failed ? 1 : 0;
        probes_.slow += slow ? 1 : 0;
        if (probes_.calls >= options_.probe_calls) {
          if (tripped(probes_)) {
            moveLocked(State::kOpen, now, "probes_failed", pending);
          } else {
            moveLocked(State::kClosed, now, "probes_ok", pending);
          }
        }
        break;
      default:  // open: a late result of a call allowed before it opened
        break;
    }
  }
  notify(pending);
}

void CircuitBreaker::resetWindowLocked() {
  ring_.clear();
  ring_head_ = 0;
  ring_totals_ = WindowStats{};
  buckets_.fill(Bucket{});
}

void CircuitBreaker::addToWindowLocked(absl::Time now, bool failed, bool slow) {
  last_record_ = std::max(last_record_, now);
  if (options_.window == BreakerOptions::Window::kCount) {
    const uint8_t v = (failed ? 1 : 0) | (slow ? 2 : 0);
    if (ring_.size() < static_cast<size_t>(options_.window_calls)) {
      ring_.push_back(v);
    } else {
      const uint8_t old = ring_[ring_head_];
      ring_totals_.calls -= 1;
      ring_totals_.failures -= old & 1;
      ring_totals_.slow -= (old >> 1) & 1;
      ring_[ring_head_] = v;
      ring_head_ = (ring_head_ + 1) % ring_.size();
    }
    ring_totals_.calls += 1;
    ring_totals_.failures += failed ? 1 : 0;
    ring_totals_.slow += slow ? 1 : 0;
    return;
  }
  const int64_t width = absl::ToInt64Nanoseconds(options_.window_length) / kTimeBuckets;
  const int64_t epoch = absl::ToUnixNanos(now) / width;
  Bucket& b = buckets_[static_cast<size_t>(epoch % kTimeBuckets)];
  if (b.epoch != epoch) b = Bucket{epoch, {}};
  b.stats.calls += 1;
  b.stats.failures += failed ? 1 : 0;
  b.stats.slow += slow ? 1 : 0;
}

CircuitBreaker::WindowStats CircuitBreaker::windowLocked(absl::Time now) const {
  if (options_.window == BreakerOptions::Window::kCount) return ring_totals_;
  const int64_t width = absl::ToInt64Nanoseconds(options_.window_length) / kTimeBuckets;
  const int64_t epoch = absl::ToUnixNanos(now) / width;
  WindowStats w;
  for (const Bucket& b : buckets_) {
    if (b.epoch > epoch - kTimeBuckets && b.epoch <= epoch) {
      w.calls += b.stats.calls;
      w.failures += b.stats.failures;
      w.slow += b.stats.slow;
    }
  }
  return w;
}

CircuitBreaker::WindowStats CircuitBreaker::windowStats() const {
  absl::MutexLock lock(&mu_);
  return windowLocked(last_record_);
}

CircuitBreaker::State CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  return effectiveLocked();
}

CircuitBreaker::State CircuitBreaker::machineState() const {
  absl::MutexLock lock(&mu_);
  return machine_;
}

CircuitBreaker::Mode CircuitBreaker::mode() const {
  absl::MutexLock lock(&mu_);
  return mode_;
}

absl::Duration CircuitBreaker::retryAfter(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  switch (effectiveLocked()) {
    case State::kForcedOpen:
      return options_.open_for;
    case State::kOpen:
      return std::max(absl::ZeroDuration(), opened_at_ + options_.open_for - now);
    case State::kHalfOpen:
      if (probes_allowed_ < options_.probe_calls) return absl::ZeroDuration();
      return std::max(absl::ZeroDuration(), half_open_at_ + options_.open_for - now);
    default:
      return absl::ZeroDuration();
  }
}

void CircuitBreaker::setMode(Mode mode, absl::Time now) {
  PendingList pending;
  {
    absl::MutexLock lock(&mu_);
    const State before = effectiveLocked();
    const Mode old = mode_;
    mode_ = mode;
    if ((old == Mode::kForcedOpen || old == Mode::kDisabled) && old != mode) {
      // The machine did not run while forced: restart it closed, with an empty window.
      machine_ = State::kClosed;
      resetWindowLocked();
    }
    const State after = effectiveLocked();
    if (after != before) {
      into_[static_cast<size_t>(after)].fetch_add(1, std::memory_order_relaxed);
      pending.push_back(Pending{before, after, now, "operator", false});
    }
  }
  notify(pending);
}

uint64_t CircuitBreaker::transitions() const {
  uint64_t n = 0;
  for (const auto& c : into_) n += c.load(std::memory_order_relaxed);
  return n;
}

void CircuitBreaker::notify(const PendingList& pending) {
  if (!listener_) return;
  for (const Pending& p : pending) {
    listener_(Transition{name_, p.from, p.to, p.at, p.reason, p.metrics_only});
  }
}

}  // namespace seckill::ratelimit
