#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

RuleSpec rule(std::string path, int64_t rate, int64_t burst = 1) {
  RuleSpec r;
  r.path = std::move(path);
  r.rate = rate;
  r.burst = burst;
  return r;
}

TEST(RuleRegistryTest, StartsEmptyAndVersionsEachReplace) {
  RuleRegistry reg;
  EXPECT_EQ(reg.snapshot().version(), 0u);
  EXPECT_TRUE(reg.snapshot().rules().empty());
  auto v1 = reg.replace({rule("/a", 1)});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, 1u);
  EXPECT_EQ(reg.snapshot().version(), 1u);
  EXPECT_EQ(reg.current()->version(), 1u);
  auto v2 = reg.replace({rule("/a", 1), rule("/b", 2)});
  EXPECT_EQ(*v2, 2u);
  EXPECT_EQ(reg.snapshot().rules().size(), 2u);
  EXPECT_EQ(reg.versions(), (std::vector<uint64_t>{0, 1, 2}));
}

TEST(RuleRegistryTest, InvalidSetIsRejectedWholeAndTheRunningSetStays) {
  RuleRegistry reg;
  ASSERT_TRUE(reg.replace({rule("/a", 1)}).ok());
  RuleSpec bad = rule("/b", 0);
  bad.line = 17;
  auto r = reg.replace({rule("/a", 1), rule("/c", 5), bad});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("rule 3 (line 17)"), std::string::npos) << r.status();
  EXPECT_EQ(reg.snapshot().version(), 1u);
  EXPECT_EQ(reg.snapshot().rules().size(), 1u);
  // The failed attempt used no version number.
  EXPECT_EQ(*reg.replace({rule("/a", 2)}), 2u);
}

TEST(RuleRegistryTest, StateSurvivesReloadOfUnchangedRules) {
  ManualClock clock;
  RuleRegistry reg;
  RateLimiter limiter(reg);
  RuleSpec a = rule("/a", 1, 2);
  ASSERT_TRUE(reg.replace({a}).ok());
  RequestInfo req{.method = "GET", .path = "/a"};
  EXPECT_EQ(limiter.check(req, clock.now()).kind, Verdict::kAllow);
  EXPECT_EQ(limiter.check(req, clock.now()).kind, Verdict::kAllow);
  EXPECT_EQ(limiter.check(req, clock.now()).kind, Verdict::kReject);
  auto* state_before = reg.snapshot().rules()[0].state.get();

  // Same identity (on_limit and line do not count), plus a new rule: still limited.
  RuleSpec a_log = a;
  a_log.line = 40;
  ASSERT_TRUE(reg.replace({rule("/b", 5), a_log}).ok());
  EXPECT_EQ(reg.snapshot().rules()[1].state.get(), state_before);
  EXPECT_EQ(limiter.check(req, clock.now()).kind, Verdict::kReject);
  EXPECT_EQ(reg.snapshot().rules()[1].state->counters().limited(), 2u);  // counters kept too

  // A changed identity starts fresh.
  ASSERT_TRUE(reg.replace({rule("/a", 1, 3)}).ok());
  EXPECT_EQ(limiter.check(req, clock.now()).kind, Verdict::kAllow);
}

TEST(RuleRegistryTest, RollbackReappliesAKeptVersionKeepingState) {
  ManualClock clock;
  RegistryOptions o;
  o.keep_versions = 3;
  RuleRegistry reg(o);
  RateLimiter limiter(reg);
  RequestInfo a{.method = "GET", .path = "/a"};
  RequestInfo b{.method = "GET", .path = "/b"};

  ASSERT_EQ(*reg.replace({rule("/a", 1)}), 1u);
  EXPECT_EQ(limiter.check(a, clock.now()).kind, Verdict::kAllow);
  ASSERT_EQ(*reg.replace({rule("/b", 1)}), 2u);  // /a's rule leaves the set
  EXPECT_EQ(limiter.check(a, clock.now()).kind, Verdict::kAllow);  // no rule now
  EXPECT_EQ(limiter.check(b, clock.now()).kind, Verdict::kAllow);

  auto back = reg.rollback(1);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 3u);  // a new version with version 1's rules
  EXPECT_EQ(reg.snapshot().version(), 3u);
  ASSERT_EQ(reg.snapshot().rules().size(), 1u);
  EXPECT_EQ(reg.snapshot().rules()[0].spec.path, "/a");
  // /a's state came back from version 1: its token is still spent.
  EXPECT_EQ(limiter.check(a, clock.now()).kind, Verdict::kReject);

  EXPECT_EQ(reg.versions(), (std::vector<uint64_t>{1, 2, 3}));
  ASSERT_TRUE(reg.replace({rule("/c", 1)}).ok());
  auto gone = reg.rollback(1);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(reg.rollback(2).ok());
}

TEST(RuleRegistryTest, EvictIdleSweepsEveryRule) {
  ManualClock clock;
  RuleRegistry reg;
  RateLimiter limiter(reg);
  RuleSpec per_user = rule("/a", 1);
  per_user.scope = ScopeKind::kUser;
  ASSERT_TRUE(reg.replace({per_user}).ok());
  for (int i = 0; i < 100; ++i) {
    std::string user = absl::StrCat("u", i);
    limiter.check(RequestInfo{.method = "GET", .path = "/a", .user_id = user}, clock.now());
  }
  EXPECT_EQ(reg.snapshot().rules()[0].state->size(), 100u);
  EXPECT_EQ(reg.evictIdle(clock.now()), 0u);
  EXPECT_EQ(reg.evictIdle(clock.now() + absl::Seconds(1)), 100u);
}

// Readers evaluate while a writer swaps between sets; every set's rules carry its marker, so a
// reader that saw a mix would find two markers in one snapshot.
TEST(RuleRegistryTest, HotReloadUnderConcurrentReaders) {
  ManualClock clock;
  RuleRegistry reg;
  RateLimiter limiter(reg);
  auto makeSet = [](int marker) {
    std::vector<RuleSpec> set;
    for (int i = 0; i < 8; ++i) {
      RuleSpec r = rule(absl::StrCat("/api/r", i, "/**"), 1000 + marker);
      r.on_limit = OnLimit::kLog;
      set.push_back(r);
    }
    RuleSpec all = rule("/**", 1000 + marker);
    all.on_limit = OnLimit::kLog;
    set.push_back(all);
    return set;
  };
  ASSERT_TRUE(reg.replace(makeSet(0)).ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> checks{0};
  std::atomic<int> mixed{0};
  std::atomic<int> unordered{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      uint64_t last_version = 0;
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed) || n < 1000) {
        const RuleSet& set = reg.snapshot();
        if (set.version() < last_version) ++unordered;
        last_version = set.version();
        const int64_t marker = set.rules().front().spec.rate;
        for (const CompiledRule& r : set.rules()) {
          if (r.spec.rate != marker) ++mixed;
        }
        std::string path = absl::StrCat("/api/r", (n + t) % 8, "/x");
        Verdict v = limiter.check(RequestInfo{.method = "GET", .path = path}, clock.now());
        if (v.kind != Verdict::kAllow && v.kind != Verdict::kShadow) ++mixed;
        ++n;
      }
      checks += n;
    });
  }
  uint64_t last = 0;
  for (int i = 1; i <= 300; ++i) {
    auto v = reg.replace(makeSet(i % 5));
    ASSERT_TRUE(v.ok());
    last = *v;
    if (i % 50 == 0) {
      ASSERT_TRUE(reg.rollback(last - 1).ok());
    }
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_EQ(unordered.load(), 0);  // a thread never goes back to an older version
  EXPECT_GE(checks.load(), 3000u);
  // The registry kept only a bounded history.
  EXPECT_LE(reg.versions().size(), RegistryOptions{}.keep_versions);
}

}  // namespace
}  // namespace seckill::ratelimit
