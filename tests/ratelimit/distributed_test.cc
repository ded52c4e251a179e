// Distributed rules through the RateLimiter with a fake backend: local rules first, then the
// distributed ones layer by layer, the first limit decides; the failure policy; counting.
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "gtest/gtest.h"
#include "tests/ratelimit/fake_remote_backend.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Seconds;
using testing::FakeRemoteBackend;

RuleSpec rule(std::string path, ScopeKind scope, int64_t rate, int64_t burst, bool distributed) {
  RuleSpec r;
  r.path = std::move(path);
  r.scope = scope;
  r.rate = rate;
  r.burst = burst;
  r.distributed = distributed;
  return r;
}

class DistributedTest : public ::testing::Test {
 protected:
  void load(std::vector<RuleSpec> rules) {
    auto v = registry_.replace(std::move(rules));
    ASSERT_TRUE(v.ok()) << v.status();
  }
  void makeLimiter(FailurePolicy policy) {
    DistributedOptions o;
    o.failure = policy;
    o.on_backend_error = [this](const BackendErrorEvent& e) { reports_.push_back(e); };
    limiter_ = std::make_unique<RateLimiter>(registry_, &backend_, std::move(o));
  }
  // Evaluates and completes one request; the fake answers inline.
  Verdict order(std::string_view user, RateLimiter* limiter = nullptr) {
    if (limiter == nullptr) limiter = limiter_.get();
    const std::string path = "/api/v1/sales/s1/orders";
    Evaluation e = limiter->evaluate(
        RequestInfo{.method = "POST", .path = path, .user_id = user, .ip = "10.0.0.1"},
        clock_.now());
    if (e.remote == nullptr) return e.verdict;
    std::optional<Verdict> out;
    limiter->complete(std::move(e.remote), [&out](Verdict v) { out = std::move(v); });
    EXPECT_TRUE(out.has_value()) << "the fake answers inline";
    return out.value_or(Verdict{});
  }
  const RuleCounters& counters(size_t rule) {
    return registry_.snapshot().rules()[rule].state->counters();
  }

  ManualClock clock_;
  RuleRegistry registry_;
  FakeRemoteBackend backend_;
  std::vector<BackendErrorEvent> reports_;
  std::unique_ptr<RateLimiter> limiter_;
};

TEST_F(DistributedTest, LocalRulesFirstThenDistributedRootDown) {
  // Set order: deep distributed (0), shallow distributed (1), deep local (2).
  RuleSpec deep_remote = rule("/api/v1/sales/*/orders", ScopeKind::kUser, 2, 2, true);
  RuleSpec shallow_remote = rule("/api/**", ScopeKind::kGlobal, 100, 100, true);
  RuleSpec deep_local = rule("/api/v1/sales/*/orders", ScopeKind::kIp, 1, 3, false);
  load({deep_remote, shallow_remote, deep_local});
  makeLimiter(FailurePolicy::kOpen);

  Verdict v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kAllow);
  // The backend was asked for the distributed rules only, the shallow one first.
  std::vector<FakeRemoteBackend::Call> calls = backend_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].rule, "/api/** global token_bucket 100/s");
  EXPECT_EQ(calls[0].key, "");
  EXPECT_EQ(calls[1].rule, "/api/v1/sales/*/orders user token_bucket 2/s");
  EXPECT_EQ(calls[1].key, "alice");
  EXPECT_EQ(counters(2).passed(), 1u);  // the local rule counted as before

  // The distributed user rule limits alice's third request: 429 with its quota.
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "/api/v1/sales/*/orders user token_bucket 2/s");
  EXPECT_TRUE(v.has_quota);
  EXPECT_EQ(v.limit, 2);
  EXPECT_EQ(v.remaining, 0);
  EXPECT_EQ(v.wait, Milliseconds(500));
  EXPECT_EQ(v.window, Seconds(1));
  EXPECT_EQ(counters(0).limited(), 1u);
  EXPECT_EQ(counters(0).passed(), 2u);
  EXPECT_EQ(counters(1).passed(), 3u);

  // The local ip rule (burst 3) is now spent: it rejects before any backend call.
  const size_t before = backend_.calls().size();
  v = order("bob");
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "/api/v1/sales/*/orders ip token_bucket 1/s");
  EXPECT_EQ(backend_.calls().size(), before);
}

TEST_F(DistributedTest, TwoLimitersOnOneBackendShareTheBudget) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kGlobal, 1, 3, true)});
  makeLimiter(FailurePolicy::kOpen);
  RateLimiter other(registry_, &backend_);
  EXPECT_EQ(order("a").kind, Verdict::kAllow);
  EXPECT_EQ(order("b", &other).kind, Verdict::kAllow);
  EXPECT_EQ(order("c").kind, Verdict::kAllow);
  EXPECT_EQ(order("d", &other).kind, Verdict::kReject);
  EXPECT_EQ(order("e").kind, Verdict::kReject);
}

TEST_F(DistributedTest, WithoutBackendDistributedRulesAreLocal) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1, true)});
  RateLimiter local(registry_);
  Evaluation e = local.evaluate(
      RequestInfo{.method = "POST", .path = "/api/v1/sales/s1/orders", .user_id = "u"},
      clock_.now());
  EXPECT_EQ(e.remote, nullptr);
  EXPECT_EQ(e.verdict.kind, Verdict::kAllow);
  // check() never asks a backend, even when one is set.
  makeLimiter(FailurePolicy::kClosed);
  EXPECT_EQ(limiter_->check(RequestInfo{.method = "POST", .path = "/api/v1/sales/s1/orders",
                                        .user_id = "u"},
                            clock_.now())
                .kind,
            Verdict::kReject);  // the same in-process state as `local` used
  EXPECT_TRUE(backend_.calls().empty());
}

TEST_F(DistributedTest, FailOpenAdmitsCountsAndReportsOncePerSecond) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1, true)});
  makeLimiter(FailurePolicy::kOpen);
  backend_.setFailing(true);
  for (int i = 0; i < 5; ++i) {
    Verdict v = order("alice");
    EXPECT_EQ(v.kind, Verdict::kAllow);
    EXPECT_FALSE(v.has_quota);
  }
  EXPECT_EQ(limiter_->backendErrors(), 5u);
  EXPECT_EQ(counters(0).passed(), 5u);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].rule, "/api/v1/sales/*/orders user token_bucket 1/s");
  EXPECT_EQ(reports_[0].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(reports_[0].applied, FailurePolicy::kOpen);
  clock_.advance(Seconds(1));
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[1].suppressed, 4u);
  // The backend is back: the limit holds again.
  backend_.setFailing(false);
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  EXPECT_EQ(order("alice").kind, Verdict::kReject);
  EXPECT_EQ(limiter_->backendErrors(), 6u);
}

TEST_F(DistributedTest, FailClosedAnswersUnavailableAndStops) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kUser, 5, 5, true),
        rule("/api/**", ScopeKind::kGlobal, 100, 100, true)});
  makeLimiter(FailurePolicy::kClosed);
  backend_.setFailing(true);
  Verdict v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kUnavailable);
  EXPECT_EQ(v.wait, kUnavailableRetryAfter);
  EXPECT_EQ(v.rule, "/api/** global token_bucket 100/s");
  EXPECT_EQ(backend_.calls().size(), 1u);  // the deeper rule was not asked
  EXPECT_EQ(limiter_->backendErrors(), 1u);
  EXPECT_EQ(counters(1).limited(), 1u);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].applied, FailurePolicy::kClosed);
}

TEST_F(DistributedTest, LogModeRuleNeverLimitsEvenFailClosed) {
  RuleSpec shadow = rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1, true);
  shadow.on_limit = OnLimit::kLog;
  load({shadow});
  makeLimiter(FailurePolicy::kClosed);
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  Verdict v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kShadow);
  EXPECT_TRUE(v.shadowed);
  EXPECT_EQ(counters(0).shadowLimited(), 1u);
  backend_.setFailing(true);
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  EXPECT_EQ(limiter_->backendErrors(), 1u);
}

TEST_F(DistributedTest, ShedOverrideAnswersWithoutTheBackend) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1, true)});
  makeLimiter(FailurePolicy::kOpen);
  ASSERT_TRUE(limiter_->setOverride("/api", OverrideMode::kShed).ok());
  EXPECT_EQ(order("alice").kind, Verdict::kShed);
  EXPECT_TRUE(backend_.calls().empty());
}

TEST_F(DistributedTest, CompletesOnTheBackendsThreadAndSurvivesAReload) {
  load({rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1, true)});
  makeLimiter(FailurePolicy::kOpen);
  backend_.setHolding(true);
  Evaluation e = limiter_->evaluate(
      RequestInfo{.method = "POST", .path = "/api/v1/sales/s1/orders", .user_id = "alice"},
      clock_.now());
  ASSERT_NE(e.remote, nullptr);
  std::optional<Verdict> out;
  std::thread::id completed_on;
  limiter_->complete(std::move(e.remote), [&](Verdict v) {
    out = std::move(v);
    completed_on = std::this_thread::get_id();
  });
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(backend_.heldCount(), 1u);
  // A reload meanwhile: the pending check keeps its own set alive.
  load({rule("/other", ScopeKind::kGlobal, 1, 1, false)});
  std::thread t([this] { backend_.releaseHeld(); });
  const std::thread::id backend_thread = t.get_id();
  t.join();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->kind, Verdict::kAllow);
  EXPECT_EQ(out->version, 1u);
  EXPECT_EQ(completed_on, backend_thread);
}

TEST_F(DistributedTest, ALocalQueueWaitIsReportedBeforeTheBackendIsAsked) {
  RuleSpec queue = rule("/api/v1/sales/*/orders", ScopeKind::kGlobal, 10, 1, false);
  queue.on_limit = OnLimit::kQueue;
  queue.max_wait = Milliseconds(500);
  load({queue, rule("/api/**", ScopeKind::kGlobal, 100, 100, true)});
  makeLimiter(FailurePolicy::kOpen);
  EXPECT_EQ(order("a").kind, Verdict::kAllow);
  Evaluation e = limiter_->evaluate(
      RequestInfo{.method = "POST", .path = "/api/v1/sales/s1/orders", .user_id = "b"},
      clock_.now());
  ASSERT_NE(e.remote, nullptr);
  EXPECT_EQ(e.verdict.kind, Verdict::kDelay);  // provisional: serve the wait, then complete()
  EXPECT_EQ(e.verdict.wait, Milliseconds(100));
  EXPECT_EQ(backend_.calls().size(), 1u);  // only a's request asked so far
  std::optional<Verdict> out;
  limiter_->complete(std::move(e.remote), [&out](Verdict v) { out = std::move(v); });
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->kind, Verdict::kDelay);
  EXPECT_EQ(backend_.calls().size(), 2u);
}

TEST(DistributedRules, QueueIsRefusedForDistributedRules) {
  RuleSpec r = rule("/api/**", ScopeKind::kGlobal, 10, 1, true);
  r.on_limit = OnLimit::kQueue;
  r.max_wait = Milliseconds(100);
  absl::Status s = validateRules({r});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("distributed"), absl::string_view::npos) << s;
  r.distributed = false;
  EXPECT_TRUE(validateRules({r}).ok());
}

TEST(DistributedRules, IdentityHashIsStableAndIgnoresBehaviourFields) {
  RuleSpec a = rule("/api/**", ScopeKind::kUser, 10, 5, true);
  RuleSpec b = a;
  b.on_limit = OnLimit::kLog;
  b.line = 42;
  EXPECT_EQ(stableIdentityHash(a), stableIdentityHash(b));
  b.rate = 11;
  EXPECT_NE(stableIdentityHash(a), stableIdentityHash(b));
  // FNV-1a 64 of identity(): pinned, so every node and build names the same Redis keys.
  RuleSpec pinned;
  pinned.path = "/";
  pinned.rate = 1;
  EXPECT_EQ(stableIdentityHash(pinned), stableIdentityHash(pinned));
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : pinned.identity()) h = (h ^ c) * 1099511628211ull;
  EXPECT_EQ(stableIdentityHash(pinned), h);
}

TEST(DistributedRules, ParsesTheFailurePolicy) {
  EXPECT_EQ(*parseFailurePolicy("open"), FailurePolicy::kOpen);
  EXPECT_EQ(*parseFailurePolicy("closed"), FailurePolicy::kClosed);
  EXPECT_FALSE(parseFailurePolicy("maybe").ok());
  EXPECT_EQ(failurePolicyName(FailurePolicy::kClosed), "closed");
}

}  // namespace
}  // namespace seckill::ratelimit
