#include "engine/core/ratelimit/algorithms.h"

#include <algorithm>
#include <cmath>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace seckill::ratelimit {

namespace {

// Token amounts within this of a whole token count as whole: keeps floating-point dust from
// turning an exact refill (10/s for 100 ms = 1 token) into a rejection.
constexpr double kEps = 1e-9;

// Longest duration a limiter reports (~31 years): keeps extreme rules (burst 1e9 at 1/h)
// from overflowing int64 nanoseconds.
constexpr int64_t kMaxNanos = 1'000'000'000'000'000'000;

// ceil() of a nanosecond amount, forgiving floating-point dust below the next integer.
int64_t ceilNanos(double x) {
  if (x <= 0) return 0;
  if (x >= static_cast<double>(kMaxNanos)) return kMaxNanos;
  return static_cast<int64_t>(std::ceil(x - 1e-3));
}

int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }  // a >= 0, b > 0

absl::Duration nanos(int64_t ns) { return absl::Nanoseconds(ns); }

}  // namespace

// ---------------------------------------------------------------------------- token bucket

TokenBucketPolicy::TokenBucketPolicy(const RuleSpec& rule)
    : rate_per_ns_(static_cast<double>(rule.rate) /
                   static_cast<double>(absl::ToInt64Nanoseconds(rule.per))),
      burst_(static_cast<double>(rule.burst)),
      warmup_ns_(absl::ToInt64Nanoseconds(rule.warmup)) {}

double TokenBucketPolicy::rateAt(int64_t t, int64_t ramp_ns) const {
  double p = static_cast<double>(t - ramp_ns) / static_cast<double>(warmup_ns_);
  p = std::clamp(p, 0.0, 1.0);
  return rate_per_ns_ * (1.0 / 3.0 + 2.0 / 3.0 * p);
}

double TokenBucketPolicy::fill(int64_t t0, int64_t t1, int64_t ramp_ns) const {
  if (t1 <= t0) return 0;
  if (warmup_ns_ == 0) return static_cast<double>(t1 - t0) * rate_per_ns_;
  const int64_t full_from = ramp_ns + warmup_ns_;
  double amount = 0;
  if (t0 < full_from) {  // the linear part: trapezoid
    int64_t b = std::min(t1, full_from);
    amount += (rateAt(t0, ramp_ns) + rateAt(b, ramp_ns)) * 0.5 * static_cast<double>(b - t0);
  }
  if (t1 > full_from) amount += static_cast<double>(t1 - std::max(t0, full_from)) * rate_per_ns_;
  return amount;
}

int64_t TokenBucketPolicy::timeFor(int64_t t0, double need, int64_t ramp_ns) const {
  if (need <= kEps) return 0;
  if (warmup_ns_ > 0) {
    const int64_t full_from = ramp_ns + warmup_ns_;
    if (t0 < full_from) {
      double in_ramp = fill(t0, full_from, ramp_ns);
      if (need <= in_ramp) {
        // Solve c0*x + k*x^2/2 = need for x, in the cancellation-free form.
        double c0 = rateAt(t0, ramp_ns);
        double k = rate_per_ns_ * (2.0 / 3.0) / static_cast<double>(warmup_ns_);
        return ceilNanos(2.0 * need / (c0 + std::sqrt(c0 * c0 + 2.0 * k * need)));
      }
      return (full_from - t0) + ceilNanos((need - in_ramp) / rate_per_ns_);
    }
  }
  return ceilNanos(need / rate_per_ns_);
}

Decision TokenBucketPolicy::acquire(State& s, int64_t now_ns, int64_t max_wait_ns,
                                    uint32_t hits) const {
  if (hits == 0) {  // a peek: decided on a copy, so not even the warm-up ramp starts
    State copy = s;
    return take(copy, now_ns, 0, 1.0, /*consume=*/false);
  }
  return take(s, now_ns, max_wait_ns, static_cast<double>(hits), /*consume=*/true);
}

Decision TokenBucketPolicy::take(State& s, int64_t now_ns, int64_t max_wait_ns, double need,
                                 bool consume) const {
  if (s.last_ns == kNever) {
    s.tokens = burst_;
    s.last_ns = now_ns;
    s.ramp_ns = now_ns;
  } else if (now_ns > s.last_ns) {
    const bool cold = warmup_ns_ > 0 && now_ns - s.last_ns >= warmup_ns_;
    s.tokens = std::min(burst_, s.tokens + fill(s.last_ns, now_ns, s.ramp_ns));
    s.last_ns = now_ns;
    if (cold) s.ramp_ns = now_ns;
  }
  const int64_t t = s.last_ns;  // >= now_ns; > only if `now` stepped back
  Decision d;
  if (s.tokens >= need - kEps) {
    if (consume) s.tokens -= need;
    d.kind = Decision::kAllow;
  } else if (need > burst_ + kEps) {
    // More than the bucket holds: never admitted. The hint is the time until it is full.
    d.kind = Decision::kReject;
    d.wait = nanos((t - now_ns) + timeFor(t, burst_ - s.tokens, s.ramp_ns));
  } else {
    int64_t wait = (t - now_ns) + timeFor(t, need - s.tokens, s.ramp_ns);
    if (consume && max_wait_ns > 0 && wait <= max_wait_ns) {
      s.tokens -= need;
      d.kind = Decision::kDelay;
    } else {
      d.kind = Decision::kReject;
    }
    d.wait = nanos(wait);
  }
  d.limit = static_cast<int64_t>(burst_);
  d.remaining = std::max<int64_t>(0, static_cast<int64_t>(std::floor(s.tokens + kEps)));
  d.reset = nanos((t - now_ns) + timeFor(t, burst_ - s.tokens, s.ramp_ns));
  return d;
}

bool TokenBucketPolicy::isFresh(const State& s, int64_t now_ns) const {
  if (s.last_ns == kNever) return true;
  if (now_ns < s.last_ns) return false;
  if (warmup_ns_ > 0 && now_ns - s.last_ns < warmup_ns_) return false;  // still warm
  return s.tokens + fill(s.last_ns, now_ns, s.ramp_ns) >= burst_ - kEps;
}

// ---------------------------------------------------------------------------- leaky bucket

LeakyBucketPolicy::LeakyBucketPolicy(const RuleSpec& rule)
    : interval_ns_(std::max<int64_t>(
          1, std::llround(static_cast<double>(absl::ToInt64Nanoseconds(rule.per)) /
                          static_cast<double>(rule.rate)))),
      queue_(rule.queue) {}

Decision LeakyBucketPolicy::acquire(State& s, int64_t now_ns, int64_t max_wait_ns,
                                    uint32_t hits) const {
  using i128 = __int128;
  const bool consume = hits > 0;
  const int64_t n = consume ? hits : 1;
  if (!consume) max_wait_ns = 0;
  const int64_t slot = std::max(now_ns, s.next_free_ns);
  // The request's last unit leaves (n - 1) intervals after its first.
  const i128 last_wait = i128(slot - now_ns) + i128(n - 1) * interval_ns_;
  Decision d;
  d.limit = queue_ + 1;
  const i128 next_free = i128(slot) + i128(n) * interval_ns_;
  // Within the queue: at most `queue` units (its own counted) wait once this request is in.
  const bool fits = n <= queue_ + 1 && last_wait <= i128(queue_) * interval_ns_ &&
                    next_free - now_ns <= kMaxNanos;
  if (fits && (last_wait == 0 || max_wait_ns == 0)) {
    d.kind = Decision::kAllow;
    if (consume) s.next_free_ns = static_cast<int64_t>(next_free);
  } else if (fits && last_wait <= max_wait_ns) {
    d.kind = Decision::kDelay;
    d.wait = nanos(static_cast<int64_t>(last_wait));
    s.next_free_ns = static_cast<int64_t>(next_free);
  } else if (n > queue_ + 1 || (max_wait_ns > 0 && i128(n - 1) * interval_ns_ > max_wait_ns)) {
    // More units than the queue holds, or than max_wait lets through even when it is empty:
    // never admitted. The hint is the time until the backlog drains.
    d.kind = Decision::kReject;
    d.wait = nanos(s.next_free_ns > now_ns ? s.next_free_ns - now_ns : 0);
  } else {
    d.kind = Decision::kReject;
    // When the backlog will have dropped to what leaves room for n units, and (when waiting)
    // the last unit's wait to max_wait.
    const i128 room = i128(queue_ - n + 1) * interval_ns_;
    i128 at = room >= i128(s.next_free_ns) - now_ns ? i128(now_ns) : s.next_free_ns - room;
    if (max_wait_ns > 0) {
      at = std::max(at, i128(s.next_free_ns) + i128(n - 1) * interval_ns_ - max_wait_ns);
    }
    d.wait = nanos(static_cast<int64_t>(std::clamp<i128>(at - now_ns, 0, kMaxNanos)));
  }
  // (A fresh state's next_free is INT64_MIN: no subtraction before the comparison.)
  const int64_t backlog = s.next_free_ns > now_ns ? s.next_free_ns - now_ns : 0;
  d.remaining = std::max<int64_t>(0, queue_ + 1 - ceilDiv(backlog, interval_ns_));
  d.reset = nanos(backlog);
  return d;
}

// -------------------------------------------------------------------------- sliding window

SlidingWindowPolicy::SlidingWindowPolicy(const RuleSpec& rule)
    : per_ns_(absl::ToInt64Nanoseconds(rule.per)), rate_(rule.rate) {}

Decision SlidingWindowPolicy::acquire(State& s, int64_t now_ns, int64_t /*max_wait_ns*/,
                                      uint32_t hits) const {
  using i128 = __int128;
  const bool consume = hits > 0;
  const int64_t n = consume ? hits : 1;
  const int64_t P = per_ns_;
  int64_t ws = now_ns - (((now_ns % P) + P) % P);
  if (ws > s.window_start_ns) {  // roll forward: one window on keeps cur as prev
    s.prev = ws == s.window_start_ns + P ? s.cur : 0;
    s.cur = 0;
    s.window_start_ns = ws;
  } else if (ws < s.window_start_ns) {  // `now` stepped back a window: count it in the current
    ws = s.window_start_ns;
    now_ns = ws;
  }
  const int64_t e = now_ns - ws;
  const i128 cap = i128(rate_) * P;  // in request-nanoseconds
  i128 used = i128(s.prev) * (P - e) + i128(s.cur) * P;
  Decision d;
  d.limit = rate_;
  if (n <= rate_ && used + i128(n) * P <= cap) {
    d.kind = Decision::kAllow;
    if (consume) {
      s.cur += static_cast<uint32_t>(n);
      used += i128(n) * P;
    }
  } else if (n > rate_) {
    // More than the window allows: never admitted. The hint is the time until it is empty.
    d.kind = Decision::kReject;
    d.wait = s.cur > 0 ? nanos(ws + 2 * P - now_ns) : s.prev > 0 ? nanos(ws + P - now_ns) : nanos(0);
  } else {
    d.kind = Decision::kReject;
    int64_t at;
    if (int64_t(s.cur) + n > rate_) {
      // Only the next window can admit: prev' = cur, need cur*(P - x) + n*P <= rate*P
      // (cur > 0 here, as n <= rate).
      i128 num = i128(P) * (int64_t(s.cur) - rate_ + n);
      at = ws + P + int64_t((num + s.cur - 1) / s.cur);
    } else {
      // This window, once prev has decayed: prev*(P - x) <= (rate - cur - n)*P.
      i128 num = i128(P) * (int64_t(s.prev) - rate_ + int64_t(s.cur) + n);
      at = ws + int64_t((num + s.prev - 1) / s.prev);
    }
    d.wait = nanos(std::max<int64_t>(0, at - now_ns));
  }
  d.remaining = std::max<int64_t>(0, int64_t((cap - used) / P));
  d.reset = s.cur > 0 ? nanos(ws + 2 * P - now_ns) : s.prev > 0 ? nanos(ws + P - now_ns) : nanos(0);
  return d;
}

bool SlidingWindowPolicy::isFresh(const State& s, int64_t now_ns) const {
  return (s.prev == 0 && s.cur == 0) || now_ns >= s.window_start_ns + 2 * per_ns_;
}

// ----------------------------------------------------------------------------- sliding log

SlidingLogPolicy::SlidingLogPolicy(const RuleSpec& rule)
    : per_ns_(absl::ToInt64Nanoseconds(rule.per)), rate_(rule.rate) {}

void SlidingLogPolicy::expire(State& s, int64_t now_ns) const {
  while (s.size > 0 && s.ring[s.head] <= now_ns - per_ns_) {
    s.head = s.head + 1 == s.cap ? 0 : s.head + 1;
    --s.size;
  }
  if (s.size == 0 && s.ring) {
    s.ring.reset();
    s.cap = s.head = 0;
  }
}

Decision SlidingLogPolicy::acquire(State& s, int64_t now_ns, int64_t /*max_wait_ns*/,
                                   uint32_t hits) const {
  expire(s, now_ns);
  const bool consume = hits > 0;
  const int64_t n = consume ? hits : 1;
  auto at = [&s](int64_t i) { return s.ring[(s.head + i) % s.cap]; };  // i-th oldest
  Decision d;
  d.limit = rate_;
  if (n <= rate_ - int64_t(s.size)) {
    if (consume) {
      if (s.size + n > s.cap) {  // grow: 2, 4, 8, ... (or what n needs) up to rate
        const int64_t want = std::max<int64_t>(s.size + n, std::max<uint32_t>(2, s.cap * 2));
        const uint32_t cap = static_cast<uint32_t>(std::min<int64_t>(rate_, want));
        std::unique_ptr<int64_t[]> ring(new int64_t[cap]);
        for (uint32_t i = 0; i < s.size; ++i) ring[i] = at(i);
        s.ring = std::move(ring);
        s.cap = cap;
        s.head = 0;
      }
      // Keep the log sorted even if `now` steps back.
      const int64_t t = s.size > 0 ? std::max(now_ns, at(s.size - 1)) : now_ns;
      for (int64_t i = 0; i < n; ++i) {
        s.ring[(s.head + s.size) % s.cap] = t;
        ++s.size;
      }
    }
    d.kind = Decision::kAllow;
  } else if (n > rate_) {
    // More than the window allows: never admitted. The hint is the time until it is empty.
    d.kind = Decision::kReject;
    d.wait = s.size > 0 ? nanos(std::max<int64_t>(0, at(s.size - 1) + per_ns_ - now_ns)) : nanos(0);
  } else {
    // Room for n once the oldest size + n - rate entries have left the window.
    d.kind = Decision::kReject;
    d.wait = nanos(std::max<int64_t>(0, at(int64_t(s.size) + n - rate_ - 1) + per_ns_ - now_ns));
  }
  d.remaining = rate_ - s.size;
  d.reset = s.size > 0 ? nanos(std::max<int64_t>(0, at(s.size - 1) + per_ns_ - now_ns)) : nanos(0);
  return d;
}

bool SlidingLogPolicy::isFresh(const State& s, int64_t now_ns) const {
  return s.size == 0 || s.ring[(s.head + s.size - 1) % s.cap] <= now_ns - per_ns_;
}

// ------------------------------------------------------------------------------ factory

namespace {

template <class Policy>
class PolicyLimiter final : public Limiter {
 public:
  explicit PolicyLimiter(const RuleSpec& rule) : policy_(rule) {}
  using Limiter::acquire;
  Decision acquire(absl::Time now, absl::Duration max_wait, uint32_t hits) override {
    absl::MutexLock lock(&mu_);
    return policy_.acquire(state_, absl::ToUnixNanos(now), absl::ToInt64Nanoseconds(max_wait),
                           hits);
  }

 private:
  const Policy policy_;
  absl::Mutex mu_;
  typename Policy::State state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Limiter> makeLimiter(const RuleSpec& rule) {
  switch (rule.algorithm) {
    case Algorithm::kTokenBucket: return std::make_unique<PolicyLimiter<TokenBucketPolicy>>(rule);
    case Algorithm::kLeakyBucket: return std::make_unique<PolicyLimiter<LeakyBucketPolicy>>(rule);
    case Algorithm::kSlidingWindow:
      return std::make_unique<PolicyLimiter<SlidingWindowPolicy>>(rule);
    case Algorithm::kSlidingLog: return std::make_unique<PolicyLimiter<SlidingLogPolicy>>(rule);
  }
  return nullptr;
}

}  // namespace seckill::ratelimit
