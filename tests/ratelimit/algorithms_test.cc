// Scripted fake-clock timelines for each algorithm, with exact admitted counts.
#include "engine/core/ratelimit/algorithms.h"

#include <memory>
#include <vector>

#include "engine/core/clock.h"
#include "engine/core/ratelimit/limiter.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Seconds;

RuleSpec spec(Algorithm a, int64_t rate, absl::Duration per = Seconds(1)) {
  RuleSpec r;
  r.path = "/x";
  r.algorithm = a;
  r.rate = rate;
  r.per = per;
  return r;
}

class LimiterTest : public ::testing::Test {
 protected:
  // Offers n requests at the current time; returns how many were admitted (kAllow).
  int offer(Limiter& l, int n, absl::Duration max_wait = absl::ZeroDuration()) {
    int admitted = 0;
    for (int i = 0; i < n; ++i) admitted += l.acquire(clock_.now(), max_wait).kind == Decision::kAllow;
    return admitted;
  }
  void advance(absl::Duration d) { clock_.advance(d); }

  ManualClock clock_;  // starts on a whole hour
};

// ------------------------------------------------------------------------------ token bucket

TEST_F(LimiterTest, TokenBucketBurstThenRate) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 10);
  r.burst = 5;
  auto l = makeLimiter(r);
  EXPECT_EQ(offer(*l, 20), 5);  // the full bucket
  advance(Milliseconds(100));
  EXPECT_EQ(offer(*l, 20), 1);  // 10/s: one token per 100 ms
  advance(Milliseconds(50));
  EXPECT_EQ(offer(*l, 20), 0);
  advance(Milliseconds(50));
  EXPECT_EQ(offer(*l, 20), 1);
  advance(Seconds(1));
  EXPECT_EQ(offer(*l, 20), 5);  // refilled 10, capped at the burst
  advance(Seconds(60));
  EXPECT_EQ(offer(*l, 20), 5);
  // A request every 10 ms for 1 s after an empty bucket: exactly the rate.
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    advance(Milliseconds(10));
    admitted += offer(*l, 1);
  }
  EXPECT_EQ(admitted, 10);
}

TEST_F(LimiterTest, TokenBucketHeadersAndRetryAfter) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 10);
  r.burst = 5;
  auto l = makeLimiter(r);
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kAllow);
  EXPECT_EQ(d.limit, 5);
  EXPECT_EQ(d.remaining, 4);
  EXPECT_EQ(d.reset, Milliseconds(100));  // one token short of full
  offer(*l, 4);
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reset, Milliseconds(500));
  advance(Milliseconds(30));
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.wait, Milliseconds(70));
}

TEST_F(LimiterTest, TokenBucketDelaysByReservingFutureTokens) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 10);
  r.burst = 5;
  auto l = makeLimiter(r);
  const absl::Duration max_wait = Milliseconds(250);
  EXPECT_EQ(offer(*l, 5, max_wait), 5);
  Decision d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(100));
  d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(200));
  d = l->acquire(clock_.now(), max_wait);  // would wait 300 ms > 250 ms
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(300));
  // 100 ms later one reserved token is paid; the next request waits 200 ms.
  advance(Milliseconds(100));
  d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(200));
  // Without max_wait the debt still counts: reject, retry after it is paid plus one token.
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(300));
  advance(Milliseconds(300));
  EXPECT_EQ(offer(*l, 5), 1);
}

TEST_F(LimiterTest, TokenBucketPerMinuteAndHour) {
  RuleSpec m = spec(Algorithm::kTokenBucket, 6, absl::Minutes(1));
  auto lm = makeLimiter(m);
  EXPECT_EQ(offer(*lm, 3), 1);
  advance(Seconds(9));
  EXPECT_EQ(offer(*lm, 3), 0);
  advance(Seconds(1));
  EXPECT_EQ(offer(*lm, 3), 1);
  RuleSpec h = spec(Algorithm::kTokenBucket, 3600, absl::Hours(1));
  h.burst = 2;
  auto lh = makeLimiter(h);
  EXPECT_EQ(offer(*lh, 3), 2);
  advance(Seconds(1));
  EXPECT_EQ(offer(*lh, 3), 1);
}

// Counts admissions of one request per millisecond over `seconds`, per second.
std::vector<int> perSecond(Limiter& l, ManualClock& clock, int seconds) {
  std::vector<int> counts;
  for (int s = 0; s < seconds; ++s) {
    int n = 0;
    for (int ms = 0; ms < 1000; ++ms) {
      n += l.acquire(clock.now(), absl::ZeroDuration()).kind == Decision::kAllow;
      clock.advance(Milliseconds(1));
    }
    counts.push_back(n);
  }
  return counts;
}

TEST_F(LimiterTest, TokenBucketWarmUpClimbsFromAThirdToFullRate) {
  // 30/s with a 2 s warm-up: the refill rate is 10/s at the first request, climbing linearly
  // to 30/s at 2 s: 15 tokens in the first second, 25 in the second, then 30 a second.
  // The bucket (burst 2) starts full, so a second's count is 2 + floor(tokens refilled) at
  // first, and the refill alone once the bucket stays below full.
  RuleSpec r = spec(Algorithm::kTokenBucket, 30);
  r.burst = 2;
  r.warmup = Seconds(2);
  auto l = makeLimiter(r);
  EXPECT_EQ(perSecond(*l, clock_, 4), (std::vector<int>{16, 25, 30, 30}));

  // Idle for less than the warm-up period: still warm (full bucket + 30/s).
  advance(Seconds(1) - Milliseconds(1));
  EXPECT_EQ(perSecond(*l, clock_, 1), (std::vector<int>{31}));

  // Idle for a whole warm-up period: cold again.
  advance(Seconds(2) - Milliseconds(1));
  EXPECT_EQ(perSecond(*l, clock_, 3), (std::vector<int>{16, 25, 30}));
}

TEST_F(LimiterTest, TokenBucketWarmUpWaitFollowsTheRamp) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 30);
  r.warmup = Seconds(2);
  auto l = makeLimiter(r);
  EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration()).kind, Decision::kAllow);
  // One token at a rate of 10/s climbing by 10/s per second: 10x + 5x^2 = 1.
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_NEAR(absl::ToDoubleSeconds(d.wait), (-10 + std::sqrt(120.0)) / 10, 1e-9);
  // Once warm (requests less than a warm-up period apart), a token takes 1/30 s.
  for (int i = 0; i < 3; ++i) {
    advance(Seconds(1));
    EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration()).kind, Decision::kAllow);
  }
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_NEAR(absl::ToDoubleSeconds(d.wait), 1.0 / 30, 1e-9);
}

TEST_F(LimiterTest, TokenBucketFreshness) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 10);
  r.burst = 5;
  TokenBucketPolicy p(r);
  TokenBucketPolicy::State s;
  const int64_t t0 = absl::ToUnixNanos(clock_.now());
  EXPECT_TRUE(p.isFresh(s, t0));
  p.acquire(s, t0, 0);
  p.acquire(s, t0, 0);
  EXPECT_FALSE(p.isFresh(s, t0));
  EXPECT_FALSE(p.isFresh(s, t0 + 199'999'999));
  EXPECT_TRUE(p.isFresh(s, t0 + 200'000'000));  // refilled to the burst
  r.warmup = Seconds(10);
  TokenBucketPolicy warm(r);
  TokenBucketPolicy::State w;
  warm.acquire(w, t0, 0);
  EXPECT_FALSE(warm.isFresh(w, t0 + 5'000'000'000));  // full, but still warm
  EXPECT_TRUE(warm.isFresh(w, t0 + 10'000'000'000));
  EXPECT_LE(sizeof(TokenBucketPolicy::State), 24u);
}

// ------------------------------------------------------------------------------ leaky bucket

TEST_F(LimiterTest, LeakyBucketStrictSpacer) {
  auto l = makeLimiter(spec(Algorithm::kLeakyBucket, 10));  // one per 100 ms, queue 0
  EXPECT_EQ(offer(*l, 5), 1);
  advance(Milliseconds(50));
  EXPECT_EQ(offer(*l, 5), 0);
  advance(Milliseconds(50));
  EXPECT_EQ(offer(*l, 5), 1);
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {  // every 10 ms for a second
    advance(Milliseconds(10));
    admitted += offer(*l, 3);
  }
  EXPECT_EQ(admitted, 10);
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));
}

TEST_F(LimiterTest, LeakyBucketQueueWithoutWaitingIsBurstNodelay) {
  RuleSpec r = spec(Algorithm::kLeakyBucket, 10);
  r.queue = 2;
  auto l = makeLimiter(r);
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.limit, 3);
  EXPECT_EQ(d.remaining, 2);
  EXPECT_EQ(offer(*l, 10), 2);  // 3 at once: the one leaving now and 2 queued slots
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));  // when one queued slot has left
  EXPECT_EQ(d.reset, Milliseconds(300));
  advance(Milliseconds(100));
  EXPECT_EQ(offer(*l, 10), 1);
  advance(Milliseconds(250));
  EXPECT_EQ(offer(*l, 10), 2);
}

TEST_F(LimiterTest, LeakyBucketQueueDelaysUpToMaxWait) {
  RuleSpec r = spec(Algorithm::kLeakyBucket, 10);
  r.queue = 2;
  auto l = makeLimiter(r);
  const absl::Duration max_wait = Seconds(1);
  EXPECT_EQ(l->acquire(clock_.now(), max_wait).kind, Decision::kAllow);
  Decision d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(100));
  d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(200));
  d = l->acquire(clock_.now(), max_wait);  // 3 would be waiting > queue 2
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));
  // Departures are spaced at the rate: 10 requests a second get through, in order.
  advance(Milliseconds(50));
  d = l->acquire(clock_.now(), max_wait);
  EXPECT_EQ(d.kind, Decision::kReject);  // still 2 waiting (at 100 and 200 ms)
  EXPECT_EQ(d.wait, Milliseconds(50));

  // A short max_wait bounds the queue before `queue` does.
  RuleSpec q = spec(Algorithm::kLeakyBucket, 10);
  q.queue = 5;
  auto l2 = makeLimiter(q);
  EXPECT_EQ(l2->acquire(clock_.now(), Milliseconds(150)).kind, Decision::kAllow);
  EXPECT_EQ(l2->acquire(clock_.now(), Milliseconds(150)).kind, Decision::kDelay);
  d = l2->acquire(clock_.now(), Milliseconds(150));
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(50));  // then the wait is 150 ms
}

TEST_F(LimiterTest, LeakyBucketKeepsItsScheduleWithoutDrift) {
  // 3/s = one per 333,333,333 ns; polled once per ms. With a queue of one the schedule is
  // kept (no rounding to the poll tick accumulates): 2 at once, then one per interval.
  RuleSpec r = spec(Algorithm::kLeakyBucket, 3);
  r.queue = 1;
  auto l = makeLimiter(r);
  int admitted = 0;
  for (int i = 0; i < 60'000; ++i) {  // one request per ms for a minute
    admitted += offer(*l, 1);
    advance(Milliseconds(1));
  }
  EXPECT_EQ(admitted, 2 + 179);
}

// ---------------------------------------------------------------------------- sliding window

TEST_F(LimiterTest, SlidingWindowWeighsThePreviousWindow) {
  auto l = makeLimiter(spec(Algorithm::kSlidingWindow, 10));
  EXPECT_EQ(offer(*l, 15), 10);  // t0 = start of a window
  advance(Milliseconds(500));
  EXPECT_EQ(offer(*l, 15), 0);
  advance(Milliseconds(500));  // next window: estimate = 10 * 1.0 + 0
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));  // when 10 * 0.9 + 1 <= 10
  EXPECT_EQ(d.limit, 10);
  advance(Milliseconds(100));  // 9 + 0
  EXPECT_EQ(offer(*l, 15), 1);
  advance(Milliseconds(400));  // 5 + 1
  EXPECT_EQ(offer(*l, 15), 4);
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.wait, Milliseconds(100));  // when 10 * 0.4 + 5 + 1 <= 10
  advance(Seconds(1));  // prev = 5 at half weight, cur = 0
  EXPECT_EQ(offer(*l, 15), 7);
  advance(Seconds(10));
  EXPECT_EQ(offer(*l, 15), 10);
}

TEST_F(LimiterTest, SlidingWindowHeadersAndFreshness) {
  RuleSpec r = spec(Algorithm::kSlidingWindow, 10);
  SlidingWindowPolicy p(r);
  SlidingWindowPolicy::State s;
  const int64_t t0 = absl::ToUnixNanos(clock_.now());
  Decision d = p.acquire(s, t0 + 250'000'000, 0);
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(d.reset, Milliseconds(1750));  // until the count has left both windows
  EXPECT_FALSE(p.isFresh(s, t0 + 1'999'999'999));
  EXPECT_TRUE(p.isFresh(s, t0 + 2'000'000'000));
  EXPECT_EQ(sizeof(SlidingWindowPolicy::State), 16u);
}

// ------------------------------------------------------------------------------ sliding log

TEST_F(LimiterTest, SlidingLogIsExact) {
  auto l = makeLimiter(spec(Algorithm::kSlidingLog, 5));
  EXPECT_EQ(offer(*l, 10), 5);
  advance(Milliseconds(500));
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(500));
  advance(Milliseconds(500));  // all five expire together
  EXPECT_EQ(offer(*l, 10), 5);

  // Spread: one every 200 ms, then each slot frees exactly a window after it was taken.
  advance(Seconds(5));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(offer(*l, 1), 1);
    advance(Milliseconds(200));
  }
  EXPECT_EQ(offer(*l, 3), 1);  // t+1000: the first expired
  advance(Milliseconds(100));
  d = l->acquire(clock_.now(), absl::ZeroDuration());
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));
  EXPECT_EQ(d.remaining, 0);
  advance(Milliseconds(100));
  EXPECT_EQ(offer(*l, 3), 1);
}

TEST_F(LimiterTest, SlidingLogNeverExceedsTheLimitInAnyWindow) {
  RuleSpec r = spec(Algorithm::kSlidingLog, 7);
  auto l = makeLimiter(r);
  std::vector<int64_t> admitted;
  uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    advance(absl::Microseconds(static_cast<int64_t>((x >> 33) % 300'000)));
    int n = static_cast<int>((x >> 20) % 4);
    for (int k = 0; k < n; ++k) {
      if (l->acquire(clock_.now(), absl::ZeroDuration()).kind == Decision::kAllow) {
        admitted.push_back(absl::ToUnixNanos(clock_.now()));
      }
    }
  }
  for (size_t i = 7; i < admitted.size(); ++i) {
    ASSERT_GE(admitted[i] - admitted[i - 7], 1'000'000'000) << i;
  }
}

TEST_F(LimiterTest, SlidingLogFreesItsMemoryWhenEmpty) {
  SlidingLogPolicy p(spec(Algorithm::kSlidingLog, 1000));
  SlidingLogPolicy::State s;
  const int64_t t0 = absl::ToUnixNanos(clock_.now());
  for (int i = 0; i < 100; ++i) p.acquire(s, t0, 0);
  EXPECT_EQ(s.size, 100u);
  EXPECT_GE(s.cap, 100u);
  EXPECT_LE(s.cap, 128u);  // grows by doubling, not to `rate`
  EXPECT_FALSE(p.isFresh(s, t0 + 999'999'999));
  EXPECT_TRUE(p.isFresh(s, t0 + 1'000'000'000));
  p.acquire(s, t0 + 1'000'000'000, 0);
  EXPECT_EQ(s.size, 1u);
  EXPECT_EQ(s.cap, 2u);  // freed when it emptied, then one small ring
}

// Time stepping back (threads racing on `now`) never admits more than the limit.
TEST_F(LimiterTest, ToleratesTimeSteppingBack) {
  for (Algorithm a : {Algorithm::kTokenBucket, Algorithm::kLeakyBucket, Algorithm::kSlidingWindow,
                      Algorithm::kSlidingLog}) {
    auto l = makeLimiter(spec(a, 5));
    int admitted = 0;
    for (int i = 0; i < 100; ++i) {
      absl::Time t = clock_.now() + (i % 2 == 0 ? Milliseconds(3) : -Milliseconds(3));
      admitted += l->acquire(t, absl::ZeroDuration()).kind == Decision::kAllow;
    }
    EXPECT_LE(admitted, 5) << algorithmName(a);
    EXPECT_GE(admitted, 1) << algorithmName(a);
  }
}


// ------------------------------------------------------------------------------------- hits

// n hits at one instant are decided as n one-unit requests arriving together would be: all
// admitted (and the same state left behind) or the request rejected with nothing consumed. A
// random timeline per algorithm with a state that can be copied, checked step by step.
template <class Policy>
void expectHitsAreNSingles(const RuleSpec& r, uint32_t seed) {
  SCOPED_TRACE(r.name());
  const Policy p(r);
  typename Policy::State s;
  int64_t t = absl::ToUnixNanos(absl::FromUnixSeconds(1'800'000'000));
  uint32_t x = seed;
  int whole = 0, refused = 0;
  for (int i = 0; i < 400; ++i) {
    x = x * 1664525u + 1013904223u;
    t += int64_t{(x >> 8) % 120} * 1'000'000;  // 0..119 ms
    const uint32_t n = 1 + (x >> 20) % 4;
    typename Policy::State singles = s;
    uint32_t admitted = 0;
    while (admitted < n && p.acquire(singles, t, 0).kind == Decision::kAllow) ++admitted;
    typename Policy::State before = s;
    const Decision peek = p.acquire(before, t, 0, 0);
    const Decision d = p.acquire(s, t, 0, n);
    if (admitted == n) {
      ASSERT_EQ(d.kind, Decision::kAllow) << "step " << i << ", " << n << " hits";
      ASSERT_EQ(p.acquire(singles, t, 0, 0).remaining, d.remaining) << "step " << i;
      ++whole;
    } else {
      ASSERT_EQ(d.kind, Decision::kReject) << "step " << i << ", " << n << " hits";
      ASSERT_EQ(d.remaining, peek.remaining) << "nothing consumed, step " << i;
      ASSERT_GT(d.wait, absl::ZeroDuration());
      ++refused;
    }
  }
  EXPECT_GT(whole, 20);
  EXPECT_GT(refused, 20);
}

TEST(HitsTest, NHitsAreNRequestsArrivingTogether) {
  RuleSpec tb = spec(Algorithm::kTokenBucket, 20);
  tb.burst = 6;
  expectHitsAreNSingles<TokenBucketPolicy>(tb, 3);
  RuleSpec lb = spec(Algorithm::kLeakyBucket, 25);
  lb.queue = 4;
  expectHitsAreNSingles<LeakyBucketPolicy>(lb, 5);
  expectHitsAreNSingles<SlidingWindowPolicy>(spec(Algorithm::kSlidingWindow, 30), 7);
}

TEST_F(LimiterTest, SlidingLogLogsEveryHit) {
  auto l = makeLimiter(spec(Algorithm::kSlidingLog, 5));
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration(), 3);
  EXPECT_EQ(d.kind, Decision::kAllow);
  EXPECT_EQ(d.remaining, 2);
  advance(Milliseconds(400));
  d = l->acquire(clock_.now(), absl::ZeroDuration(), 3);  // 3 + 3 > 5: all or nothing
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.remaining, 2);
  EXPECT_EQ(d.wait, Milliseconds(600));  // when the first three leave the window
  d = l->acquire(clock_.now(), absl::ZeroDuration(), 2);
  EXPECT_EQ(d.kind, Decision::kAllow);
  EXPECT_EQ(d.remaining, 0);
  advance(Milliseconds(600));  // the first three left
  EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration(), 3).kind, Decision::kAllow);
  EXPECT_EQ(offer(*l, 1), 0);
}

// More hits than a rule can ever hold at once: rejected, whatever the state.
TEST_F(LimiterTest, MoreHitsThanTheLimitAreNeverAdmitted) {
  RuleSpec tb = spec(Algorithm::kTokenBucket, 10);
  tb.burst = 4;
  RuleSpec lb = spec(Algorithm::kLeakyBucket, 10);
  lb.queue = 3;
  for (const RuleSpec& r : {tb, lb, spec(Algorithm::kSlidingWindow, 4), spec(Algorithm::kSlidingLog, 4)}) {
    auto l = makeLimiter(r);
    Decision d = l->acquire(clock_.now(), absl::ZeroDuration(), 5);
    EXPECT_EQ(d.kind, Decision::kReject) << r.name();
    EXPECT_EQ(d.limit, 4) << r.name();
    EXPECT_EQ(d.remaining, 4) << r.name() << ": nothing consumed";
    EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration(), 4).kind, Decision::kAllow) << r.name();
  }
}

// hits = 0 peeks: the answer one unit would get, nothing consumed, never a delay, and a cold
// warm-up bucket stays cold.
TEST_F(LimiterTest, ZeroHitsPeekWithoutConsuming) {
  RuleSpec tb = spec(Algorithm::kTokenBucket, 10);
  tb.burst = 2;
  RuleSpec lb = spec(Algorithm::kLeakyBucket, 10);
  lb.queue = 1;
  for (const RuleSpec& r : {tb, lb, spec(Algorithm::kSlidingWindow, 2), spec(Algorithm::kSlidingLog, 2)}) {
    auto l = makeLimiter(r);
    for (int i = 0; i < 5; ++i) {
      Decision d = l->acquire(clock_.now(), Seconds(10), 0);
      EXPECT_EQ(d.kind, Decision::kAllow) << r.name();
      EXPECT_EQ(d.remaining, 2) << r.name();
    }
    EXPECT_EQ(offer(*l, 5), 2) << r.name();
    Decision d = l->acquire(clock_.now(), Seconds(10), 0);
    EXPECT_EQ(d.kind, Decision::kReject) << r.name() << ": a peek never queues";
    EXPECT_EQ(d.remaining, 0) << r.name();
  }
  RuleSpec warm = spec(Algorithm::kTokenBucket, 30);
  warm.burst = 1;
  warm.warmup = Seconds(3);
  const TokenBucketPolicy p(warm);
  TokenBucketPolicy::State s;
  const int64_t t0 = absl::ToUnixNanos(clock_.now());
  p.acquire(s, t0, 0, 0);
  EXPECT_TRUE(p.isFresh(s, t0)) << "a peek leaves a fresh bucket fresh";
}

TEST_F(LimiterTest, TokenBucketQueuesHitsAsOneReservation) {
  RuleSpec r = spec(Algorithm::kTokenBucket, 10);
  r.burst = 4;
  auto l = makeLimiter(r);
  EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration(), 4).kind, Decision::kAllow);
  Decision d = l->acquire(clock_.now(), Milliseconds(300), 3);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(300));  // three tokens at 10/s
  d = l->acquire(clock_.now(), Milliseconds(300), 1);  // behind the three: 400 ms
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(400));
}

TEST_F(LimiterTest, LeakyBucketHitsTakeConsecutiveSlots) {
  RuleSpec r = spec(Algorithm::kLeakyBucket, 10);  // a slot every 100 ms
  r.queue = 3;
  auto l = makeLimiter(r);
  Decision d = l->acquire(clock_.now(), absl::ZeroDuration(), 3);  // slots 0, 100, 200 ms
  EXPECT_EQ(d.kind, Decision::kAllow);
  EXPECT_EQ(d.remaining, 1);
  d = l->acquire(clock_.now(), absl::ZeroDuration(), 2);  // would need slots 300 and 400 ms
  EXPECT_EQ(d.kind, Decision::kReject);
  EXPECT_EQ(d.wait, Milliseconds(100));  // one slot drained leaves room for two
  advance(Milliseconds(100));
  EXPECT_EQ(l->acquire(clock_.now(), absl::ZeroDuration(), 2).kind, Decision::kAllow);
  // Queued: the request waits for its last slot.
  auto q = makeLimiter(r);
  EXPECT_EQ(q->acquire(clock_.now(), absl::ZeroDuration()).kind, Decision::kAllow);
  d = q->acquire(clock_.now(), Milliseconds(250), 2);
  EXPECT_EQ(d.kind, Decision::kDelay);
  EXPECT_EQ(d.wait, Milliseconds(200));
  d = q->acquire(clock_.now(), Milliseconds(150), 3);  // even an empty queue needs 200 ms
  EXPECT_EQ(d.kind, Decision::kReject);
}

}  // namespace
}  // namespace seckill::ratelimit
