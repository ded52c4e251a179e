#include "engine/core/ratelimit/circuit_breaker.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/strings.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Seconds;
using State = CircuitBreaker::State;
using Mode = CircuitBreaker::Mode;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CircuitBreaker> make(BreakerOptions o) {
    auto b = CircuitBreaker::create("stock", o, [this](const CircuitBreaker::Transition& t) {
      log_.push_back(absl::StrCat(av(breakerStateName(t.from)), "->", av(breakerStateName(t.to)),
                                  " ", av(t.reason), t.metrics_only ? " (metrics_only)" : ""));
    });
    EXPECT_TRUE(b.ok()) << b.status();
    return std::move(*b);
  }
  static BreakerOptions small() {
    BreakerOptions o;
    o.window_calls = 10;
    o.min_calls = 4;
    o.failure_ratio = 0.5;
    o.slow_ratio = 0.75;
    o.slow_call = Milliseconds(500);
    o.open_for = Seconds(5);
    o.probe_calls = 2;
    return o;
  }
  // allow() then record(); returns whether it was allowed.
  bool call(CircuitBreaker& b, bool ok, absl::Duration latency = Milliseconds(1)) {
    if (!b.allow(clock_.now())) return false;
    b.record(clock_.now(), ok, latency);
    return true;
  }

  ManualClock clock_;
  std::vector<std::string> log_;
};

TEST_F(CircuitBreakerTest, StaysClosedBelowMinimumCalls) {
  auto b = make(small());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(call(*b, false));
  EXPECT_EQ(b->state(), State::kClosed);
  EXPECT_EQ(b->windowStats().calls, 3);
  EXPECT_EQ(b->windowStats().failures, 3);
}

TEST_F(CircuitBreakerTest, OpensOnFailureRatioThenHalfOpensAndCloses) {
  auto b = make(small());
  EXPECT_TRUE(call(*b, true));
  EXPECT_TRUE(call(*b, true));
  EXPECT_TRUE(call(*b, false));
  EXPECT_EQ(b->state(), State::kClosed);  // 3 calls < min_calls
  EXPECT_TRUE(call(*b, false));           // 2 of 4 failed: ratio 0.5 >= 0.5
  EXPECT_EQ(b->state(), State::kOpen);
  EXPECT_EQ(log_, (std::vector<std::string>{"closed->open failure_ratio"}));

  EXPECT_FALSE(b->allow(clock_.now()));
  EXPECT_EQ(b->retryAfter(clock_.now()), Seconds(5));
  clock_.advance(Seconds(2));
  EXPECT_FALSE(b->allow(clock_.now()));
  EXPECT_EQ(b->retryAfter(clock_.now()), Seconds(3));
  b->record(clock_.now(), false, Milliseconds(1));  // a late result while open: ignored

  clock_.advance(Seconds(3));
  EXPECT_TRUE(b->allow(clock_.now()));  // probe 1
  EXPECT_EQ(b->state(), State::kHalfOpen);
  EXPECT_TRUE(b->allow(clock_.now()));   // probe 2
  EXPECT_FALSE(b->allow(clock_.now()));  // no more probes
  b->record(clock_.now(), true, Milliseconds(1));
  EXPECT_EQ(b->state(), State::kHalfOpen);
  b->record(clock_.now(), true, Milliseconds(1));
  EXPECT_EQ(b->state(), State::kClosed);
  EXPECT_EQ(b->windowStats().calls, 0);  // a fresh window
  EXPECT_EQ(log_, (std::vector<std::string>{"closed->open failure_ratio",
                                            "open->half_open open_elapsed",
                                            "half_open->closed probes_ok"}));
  EXPECT_EQ(b->transitionsInto(State::kOpen), 1u);
  EXPECT_EQ(b->transitionsInto(State::kHalfOpen), 1u);
  EXPECT_EQ(b->transitionsInto(State::kClosed), 1u);
  EXPECT_EQ(b->transitions(), 3u);
}

TEST_F(CircuitBreakerTest, FailedProbeReopens) {
  auto b = make(small());
  for (int i = 0; i < 4; ++i) call(*b, false);
  ASSERT_EQ(b->state(), State::kOpen);
  clock_.advance(Seconds(5));
  EXPECT_TRUE(call(*b, true));
  EXPECT_TRUE(call(*b, false));  // 1 of 2 probes failed: 0.5 >= 0.5
  EXPECT_EQ(b->state(), State::kOpen);
  EXPECT_EQ(log_.back(), "half_open->open probes_failed");
  EXPECT_EQ(b->retryAfter(clock_.now()), Seconds(5));  // open_for starts again
  clock_.advance(Seconds(4));
  EXPECT_FALSE(b->allow(clock_.now()));
  clock_.advance(Seconds(1));
  EXPECT_TRUE(b->allow(clock_.now()));
}

TEST_F(CircuitBreakerTest, OpensOnSlowCallRatio) {
  auto b = make(small());
  EXPECT_TRUE(call(*b, true, Milliseconds(500)));  // exactly slow_call counts as slow
  EXPECT_TRUE(call(*b, true, Milliseconds(900)));
  EXPECT_TRUE(call(*b, true, Milliseconds(10)));
  EXPECT_TRUE(call(*b, true, Milliseconds(499)));
  EXPECT_EQ(b->state(), State::kClosed);  // 2 of 4 slow < 0.75
  EXPECT_TRUE(call(*b, true, Seconds(2)));
  EXPECT_TRUE(call(*b, true, Seconds(2)));
  EXPECT_TRUE(call(*b, true, Seconds(2)));
  EXPECT_TRUE(call(*b, true, Seconds(2)));  // 6 of 8 slow: 0.75
  EXPECT_EQ(b->state(), State::kOpen);
  EXPECT_EQ(log_.back(), "closed->open slow_ratio");
  // Slow probes reopen it too.
  clock_.advance(Seconds(5));
  EXPECT_TRUE(call(*b, true, Seconds(1)));
  EXPECT_TRUE(call(*b, true, Seconds(1)));
  EXPECT_EQ(b->state(), State::kOpen);
}

TEST_F(CircuitBreakerTest, CountWindowForgetsOldCalls) {
  auto b = make(small());
  for (int i = 0; i < 6; ++i) call(*b, true);
  for (int i = 0; i < 3; ++i) call(*b, false);  // 3 of 9
  EXPECT_EQ(b->state(), State::kClosed);
  for (int i = 0; i < 10; ++i) call(*b, true);  // pushes the failures out of the 10-call window
  EXPECT_EQ(b->windowStats().calls, 10);
  EXPECT_EQ(b->windowStats().failures, 0);
  for (int i = 0; i < 4; ++i) call(*b, false);
  EXPECT_EQ(b->state(), State::kClosed);  // 4 of 10
  call(*b, false);
  EXPECT_EQ(b->state(), State::kOpen);  // 5 of 10
}

TEST_F(CircuitBreakerTest, TimeWindowForgetsOldCalls) {
  BreakerOptions o = small();
  o.window = BreakerOptions::Window::kTime;
  o.window_length = Seconds(10);  // 10 buckets of 1 s
  auto b = make(o);
  for (int i = 0; i < 3; ++i) call(*b, false);
  clock_.advance(Seconds(10));  // the failures' bucket has left the window
  call(*b, false);
  for (int i = 0; i < 3; ++i) call(*b, true);
  EXPECT_EQ(b->state(), State::kClosed);  // 1 of 4
  EXPECT_EQ(b->windowStats().calls, 4);
  clock_.advance(Seconds(9));  // still inside: 10 buckets back from here
  call(*b, false);
  call(*b, false);
  EXPECT_EQ(b->state(), State::kOpen);  // 3 of 6
}

TEST_F(CircuitBreakerTest, LostProbesAreReissuedAfterOpenFor) {
  auto b = make(small());
  for (int i = 0; i < 4; ++i) call(*b, false);
  clock_.advance(Seconds(5));
  EXPECT_TRUE(b->allow(clock_.now()));
  EXPECT_TRUE(b->allow(clock_.now()));  // both probes out, results never recorded
  EXPECT_FALSE(b->allow(clock_.now()));
  EXPECT_EQ(b->retryAfter(clock_.now()), Seconds(5));
  clock_.advance(Seconds(5));
  EXPECT_TRUE(b->allow(clock_.now()));
  b->record(clock_.now(), true, Milliseconds(1));
  EXPECT_TRUE(b->allow(clock_.now()));
  b->record(clock_.now(), true, Milliseconds(1));
  EXPECT_EQ(b->state(), State::kClosed);
}

TEST_F(CircuitBreakerTest, ForcedOpenAndDisabled) {
  auto b = make(small());
  b->setMode(Mode::kForcedOpen, clock_.now());
  EXPECT_EQ(b->state(), State::kForcedOpen);
  EXPECT_FALSE(b->allow(clock_.now()));
  EXPECT_EQ(b->retryAfter(clock_.now()), Seconds(5));
  b->setMode(Mode::kDisabled, clock_.now());
  EXPECT_EQ(b->state(), State::kDisabled);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(call(*b, false));  // nothing recorded
  EXPECT_EQ(b->windowStats().calls, 0);
  EXPECT_EQ(b->machineState(), State::kClosed);
  b->setMode(Mode::kNormal, clock_.now());
  EXPECT_EQ(b->state(), State::kClosed);
  EXPECT_EQ(log_, (std::vector<std::string>{"closed->forced_open operator",
                                            "forced_open->disabled operator",
                                            "disabled->closed operator"}));
  EXPECT_EQ(b->mode(), Mode::kNormal);
  b->setMode(Mode::kNormal, clock_.now());  // no change, no transition
  EXPECT_EQ(log_.size(), 3u);
}

TEST_F(CircuitBreakerTest, ForcedOpenFromOpenRestartsClosed) {
  auto b = make(small());
  for (int i = 0; i < 4; ++i) call(*b, false);
  ASSERT_EQ(b->state(), State::kOpen);
  b->setMode(Mode::kForcedOpen, clock_.now());
  b->setMode(Mode::kNormal, clock_.now());
  EXPECT_EQ(b->state(), State::kClosed);
  EXPECT_TRUE(b->allow(clock_.now()));
}

TEST_F(CircuitBreakerTest, MetricsOnlyRunsTheMachineButAllowsEverything) {
  auto b = make(small());
  b->setMode(Mode::kMetricsOnly, clock_.now());
  EXPECT_EQ(b->state(), State::kMetricsOnly);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(call(*b, false));
  EXPECT_EQ(b->machineState(), State::kOpen);
  EXPECT_TRUE(b->allow(clock_.now()));  // would be denied
  clock_.advance(Seconds(5));
  EXPECT_TRUE(call(*b, true));
  EXPECT_EQ(b->machineState(), State::kHalfOpen);
  EXPECT_TRUE(call(*b, true));
  EXPECT_EQ(b->machineState(), State::kClosed);
  EXPECT_EQ(log_, (std::vector<std::string>{
                      "closed->metrics_only operator",
                      "closed->open failure_ratio (metrics_only)",
                      "open->half_open open_elapsed (metrics_only)",
                      "half_open->closed probes_ok (metrics_only)",
                  }));
  // Back to normal keeps the computed state.
  for (int i = 0; i < 4; ++i) call(*b, false);
  b->setMode(Mode::kNormal, clock_.now());
  EXPECT_EQ(b->state(), State::kOpen);
  EXPECT_FALSE(b->allow(clock_.now()));
}

TEST_F(CircuitBreakerTest, ListenerMayCallBackIntoTheBreaker) {
  CircuitBreaker* self = nullptr;
  std::vector<State> seen;
  auto b = CircuitBreaker::create("orders", small(), [&](const CircuitBreaker::Transition& t) {
    EXPECT_EQ(t.breaker, "orders");
    seen.push_back(self->state());  // would deadlock if called under the lock
  });
  ASSERT_TRUE(b.ok());
  self = b->get();
  for (int i = 0; i < 4; ++i) call(**b, false);
  EXPECT_EQ(seen, (std::vector<State>{State::kOpen}));
}

TEST_F(CircuitBreakerTest, RejectsBadOptions) {
  auto bad = [](void (*edit)(BreakerOptions&)) {
    BreakerOptions o;
    edit(o);
    return !CircuitBreaker::create("x", o).ok();
  };
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.window_calls = 0; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.min_calls = 0; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.min_calls = o.window_calls + 1; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.failure_ratio = 0; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.slow_ratio = -1; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.open_for = absl::ZeroDuration(); }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.probe_calls = 0; }));
  EXPECT_TRUE(bad([](BreakerOptions& o) { o.slow_call = absl::ZeroDuration(); }));
  EXPECT_FALSE(bad([](BreakerOptions&) {}));
  EXPECT_EQ(*parseBreakerMode("metrics_only"), Mode::kMetricsOnly);
  EXPECT_FALSE(parseBreakerMode("half").ok());
}

TEST_F(CircuitBreakerTest, ConcurrentCallersKeepCountsConsistent) {
  BreakerOptions o = small();
  o.window_calls = 1000;
  o.min_calls = 1000;
  o.failure_ratio = 2;  // never opens
  auto b = make(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        if (b->allow(clock_.now())) b->record(clock_.now(), (i + t) % 4 != 0, Milliseconds(1));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b->windowStats().calls, 1000);
  EXPECT_EQ(b->windowStats().failures, 250);
  EXPECT_EQ(b->state(), State::kClosed);
}

}  // namespace
}  // namespace seckill::ratelimit
