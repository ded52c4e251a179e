#pragma once

// The four algorithms, each split into an immutable policy (the rule's parameters) and a small
// state struct, so that a keyed table can store one compact state per key and the global scope
// is just one state. A policy is thread-compatible: the owner of a state serializes calls on it
// (Limiter and KeyedLimiters hold a mutex). Times are Unix nanoseconds; a default-constructed
// State is a fresh one (nothing seen yet). isFresh(s, now) is true iff `s` decides every request
// from `now` on exactly as a fresh state would, so dropping it never changes a decision.
//
// `hits` is what one request counts for (the rate-limit service's hits_addend; 1 everywhere
// else): n >= 1 units are taken all or nothing, as n requests arriving at once would be, and a
// request of more units than the rule can ever hold at once (its Decision::limit) is always
// rejected. hits = 0 peeks: the answer a 1-unit request would get now (never kDelay), with
// nothing consumed and the state unchanged.
//
// | algorithm      | state per key              | accuracy                                  |
// |----------------|----------------------------|-------------------------------------------|
// | token_bucket   | 24 B                       | exact rate + burst; optional warm-up      |
// | leaky_bucket   | 8 B                        | exact spacing; queue of waiting requests  |
// | sliding_window | 16 B                       | approximate: assumes the previous window's|
// |                |                            | requests were spread evenly               |
// | sliding_log    | 24 B + 8 B per request in  | exact: never more than `rate` in any      |
// |                | the window (<= rate)       | window of length `per`                    |
//
// The two window algorithms trade accuracy for memory: the two-counter window can admit up to
// ~2x `rate` within one unaligned window when the previous window's requests were bunched at
// its end, but costs 16 bytes per key whatever the rate; the log is exact but costs up to
// 8 bytes x rate per key. Both reject rather than delay (on_limit = queue is refused for them).

#include <cstdint>
#include <limits>
#include <memory>

#include "engine/core/ratelimit/limiter.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::ratelimit {

// Token bucket: capacity `burst`, refilled continuously at rate/per (computed from the time of
// the last update; no refill thread). A request takes one token (`hits` tokens). With
// max_wait > 0 a request that finds too few reserves them (the bucket goes into debt) and is
// delayed until they would have been refilled, if that is within max_wait. A fresh bucket is
// full.
//
// Warm-up (warmup > 0): the refill rate climbs linearly from rate/3 (Guava's cold factor 3) to
// rate over `warmup`, starting at the first request of a cold bucket. A bucket is cold when
// fresh or after no request for a whole `warmup` period. The capacity is unchanged: a cold
// bucket still starts full, so keep burst small on warm-up rules.
class TokenBucketPolicy {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  struct State {
    int64_t last_ns = kNever;  // time of the last update; kNever = fresh (full, cold)
    int64_t ramp_ns = 0;       // warm-up: when the current ramp started
    double tokens = 0;         // negative while delayed requests hold reserved tokens
  };

  explicit TokenBucketPolicy(const RuleSpec& rule);
  Decision acquire(State& s, int64_t now_ns, int64_t max_wait_ns, uint32_t hits = 1) const;
  bool isFresh(const State& s, int64_t now_ns) const;

 private:
  // acquire() for `need` tokens; `consume` = false leaves the tokens (a peek, on a copy).
  Decision take(State& s, int64_t now_ns, int64_t max_wait_ns, double need, bool consume) const;
  // Tokens refilled over [t0, t1] for a ramp that started at ramp_ns.
  double fill(int64_t t0, int64_t t1, int64_t ramp_ns) const;
  // Nanoseconds from t0 until `need` tokens have been refilled.
  int64_t timeFor(int64_t t0, double need, int64_t ramp_ns) const;
  double rateAt(int64_t t, int64_t ramp_ns) const;  // tokens per ns at t

  double rate_per_ns_;
  double burst_;
  int64_t warmup_ns_;
};

// Leaky bucket as a virtual scheduler (GCRA): admitted requests leave one every
// interval = per/rate; a request is scheduled at max(now, next_free). If that is now, it is
// admitted (kAllow). Otherwise `ahead` = the admitted requests still waiting, counting this one
// (ceil(wait / interval)), and the request is admitted only if ahead <= queue:
//   - max_wait > 0 (on_limit = queue): kDelay(wait) if wait <= max_wait — the request really
//     waits for its departure slot (nginx limit_req burst=queue);
//   - max_wait = 0: kAllow at once, its slot still reserved (nginx limit_req burst=queue nodelay).
// Anything else is kReject (nothing consumed). queue = 0 with max_wait = 0 is a strict spacer.
// A request of n hits takes n consecutive slots and is decided by its last one (as the last of
// n requests arriving at once would be).
// The interval is rounded to the nanosecond: a relative rate error of at most 0.5 ns/interval
// (< 1e-9 at 1/s, 1.5e-4 at 300k/s).
class LeakyBucketPolicy {
 public:
  struct State {
    int64_t next_free_ns = std::numeric_limits<int64_t>::min();
  };

  explicit LeakyBucketPolicy(const RuleSpec& rule);
  Decision acquire(State& s, int64_t now_ns, int64_t max_wait_ns, uint32_t hits = 1) const;
  bool isFresh(const State& s, int64_t now_ns) const { return s.next_free_ns <= now_ns; }

 private:
  int64_t interval_ns_;
  int64_t queue_;
};

// Sliding window, two counters: counts in the current fixed window (aligned to multiples of
// `per` since the epoch) and the previous one; the estimate at elapsed time e into the current
// window is prev * (per - e) / per + cur, and a request is admitted iff estimate + hits <= rate.
// Exact integer arithmetic; never delays.
class SlidingWindowPolicy {
 public:
  struct State {
    int64_t window_start_ns = 0;
    uint32_t prev = 0;
    uint32_t cur = 0;
  };

  explicit SlidingWindowPolicy(const RuleSpec& rule);
  Decision acquire(State& s, int64_t now_ns, int64_t max_wait_ns, uint32_t hits = 1) const;
  bool isFresh(const State& s, int64_t now_ns) const;

 private:
  int64_t per_ns_;
  int64_t rate_;
};

// Sliding log: the admission times of the last window, per key; a request is admitted iff fewer
// than `rate` admissions happened in (now - per, now] (at most rate - hits; it logs `hits`
// entries). Exact; the ring grows on demand up to
// `rate` entries and is freed when the window empties. Never delays.
class SlidingLogPolicy {
 public:
  struct State {
    std::unique_ptr<int64_t[]> ring;
    uint32_t cap = 0;
    uint32_t head = 0;
    uint32_t size = 0;
  };

  explicit SlidingLogPolicy(const RuleSpec& rule);
  Decision acquire(State& s, int64_t now_ns, int64_t max_wait_ns, uint32_t hits = 1) const;
  bool isFresh(const State& s, int64_t now_ns) const;

 private:
  void expire(State& s, int64_t now_ns) const;
  int64_t per_ns_;
  int64_t rate_;
};

}  // namespace seckill::ratelimit
