#pragma once

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace seckill {

// The one source of time for the core. Core code never reads the clock itself;
// it is handed a Clock& (or a time point taken from one at the edge).
class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock time. Thread-safe.
  virtual absl::Time now() const = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  absl::Time now() const override { return absl::Now(); }
};

// A clock that only moves when told to; for tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time now() const override {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_acquire));
  }
  void advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
  }
  void set(absl::Time t) { nanos_.store(absl::ToUnixNanos(t), std::memory_order_release); }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace seckill
