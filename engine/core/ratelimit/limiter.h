#pragma once

#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::ratelimit {

// One limiter's answer to one request.
struct Decision {
  enum Kind {
    kAllow,   // admitted now
    kDelay,   // admitted after `wait` (0 < wait <= max_wait); the slot is reserved
    kReject,  // not admitted; nothing was consumed
  };
  Kind kind = kAllow;
  absl::Duration wait;  // kDelay: how long to wait; kReject: when a retry could pass (hint)
  // For the RateLimit headers: the quota, what is left of it after this request, and the time
  // until it is whole again.
  int64_t limit = 0;
  int64_t remaining = 0;
  absl::Duration reset;
};

// A rate limiter over one state (one key). The one interface every algorithm implements;
// built from a rule by makeLimiter(). Thread-safe.
class Limiter {
 public:
  virtual ~Limiter() = default;
  // Decides one request arriving at `now` that counts for `hits` units (0: a peek that
  // consumes nothing; see algorithms.h). max_wait = 0: never kDelay. Never reads a clock;
  // `now` may step backwards slightly (threads racing) without harm.
  virtual Decision acquire(absl::Time now, absl::Duration max_wait, uint32_t hits) = 0;
  // A request of one unit.
  Decision acquire(absl::Time now, absl::Duration max_wait) { return acquire(now, max_wait, 1); }
};

// The limiter for `rule`'s algorithm and parameters (scope is ignored: one state).
// `rule` must have passed validateRules().
std::unique_ptr<Limiter> makeLimiter(const RuleSpec& rule);

}  // namespace seckill::ratelimit
