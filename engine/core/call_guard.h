#pragma once

#include "absl/time/time.h"

namespace seckill {

// Guards the calls to one backend dependency (a circuit breaker): asked
// before each call, told each call's result. The core holds it by this
// interface; engine/core/ratelimit's CircuitBreaker implements it.
// Implementations are thread-safe.
class CallGuard {
 public:
  virtual ~CallGuard() = default;
  // Whether a call may go to the dependency now. A true answer may hand out a
  // trial slot, so call it only when the call will be made and recorded.
  virtual bool allow(absl::Time now) = 0;
  // The result of an allowed call: ok = false for an infrastructure error
  // (never for a business outcome such as sold out).
  virtual void record(absl::Time now, bool ok, absl::Duration latency) = 0;
  // How long a denied caller should wait before retrying.
  virtual absl::Duration retryAfter(absl::Time now) const = 0;
};

}  // namespace seckill
