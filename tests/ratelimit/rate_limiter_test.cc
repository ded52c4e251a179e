#include "engine/core/ratelimit/rate_limiter.h"

#include <string>
#include <vector>

#include "engine/core/clock.h"
#include "engine/core/ratelimit/http_fields.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Seconds;

RuleSpec rule(std::string path, ScopeKind scope, int64_t rate, int64_t burst = 1) {
  RuleSpec r;
  r.path = std::move(path);
  r.scope = scope;
  r.rate = rate;
  r.burst = burst;
  return r;
}

class RateLimiterTest : public ::testing::Test {
 protected:
  void load(std::vector<RuleSpec> rules) {
    auto v = registry_.replace(std::move(rules));
    ASSERT_TRUE(v.ok()) << v.status();
  }
  Verdict order(std::string_view user, std::string_view sale = "s1") {
    path_ = std::string("/api/v1/sales/") + std::string(sale) + "/orders";
    return limiter_.check(
        RequestInfo{.method = "POST", .path = path_, .user_id = user, .ip = "10.0.0.1"},
        clock_.now());
  }
  Verdict get(std::string_view path) {
    return limiter_.check(RequestInfo{.method = "GET", .path = path, .ip = "10.0.0.1"},
                          clock_.now());
  }
  RuleCounters& counters(size_t rule) { return registry_.snapshot().rules()[rule].state->counters(); }

  ManualClock clock_;
  RuleRegistry registry_;
  RateLimiter limiter_{registry_};
  std::string path_;
};

TEST_F(RateLimiterTest, NoRulesAllowsEverything) {
  Verdict v = get("/anything");
  EXPECT_EQ(v.kind, Verdict::kAllow);
  EXPECT_FALSE(v.has_quota);
}

TEST_F(RateLimiterTest, LayersFromTheRootDownFirstLimitDecides) {
  RuleSpec api = rule("/api/**", ScopeKind::kGlobal, 5, 5);
  RuleSpec per_user = rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1);
  per_user.method = "POST";
  load({per_user, api});

  Verdict v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kAllow);
  EXPECT_EQ(v.remaining, 0);  // the tightest evaluated rule: alice's bucket
  v = order("alice");
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "POST /api/v1/sales/*/orders user token_bucket 1/s");
  EXPECT_EQ(v.wait, Seconds(1));
  EXPECT_EQ(v.limit, 1);
  EXPECT_EQ(v.remaining, 0);
  EXPECT_EQ(v.reset, Seconds(1));
  EXPECT_EQ(v.window, Seconds(1));
  EXPECT_EQ(v.version, 1u);
  // alice's rejected attempt still took a token of the shallower global rule (as nginx does):
  // the global bucket of 5 is spent after bob, carol and dave.
  EXPECT_EQ(order("bob").kind, Verdict::kAllow);
  EXPECT_EQ(order("carol").kind, Verdict::kAllow);
  EXPECT_EQ(order("dave").kind, Verdict::kAllow);
  v = order("erin");
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "/api/** global token_bucket 5/s");
  EXPECT_EQ(v.wait, Milliseconds(200));

  // Rule order in the set: per_user = 0, api = 1. erin never reached her own rule.
  EXPECT_EQ(counters(1).passed(), 5u);
  EXPECT_EQ(counters(1).limited(), 1u);
  EXPECT_EQ(counters(0).passed(), 4u);
  EXPECT_EQ(counters(0).limited(), 1u);
  // Other paths only meet the global rule.
  clock_.advance(Seconds(1));
  EXPECT_EQ(get("/api/v1/sales/s1").kind, Verdict::kAllow);
}

TEST_F(RateLimiterTest, ScopesPickTheirKey) {
  RuleSpec by_ip = rule("/ip", ScopeKind::kIp, 1);
  RuleSpec by_key = rule("/key", ScopeKind::kHeader, 1);
  by_key.header = "x-api-key";
  RuleSpec by_user = rule("/user", ScopeKind::kUser, 1);
  load({by_ip, by_key, by_user});
  auto check = [&](std::string_view path, std::string_view ip, std::string_view user,
                   std::vector<RequestInfo::Header> headers) {
    return limiter_.check(RequestInfo{.method = "GET", .path = path, .user_id = user, .ip = ip,
                                      .headers = headers},
                          clock_.now())
        .kind;
  };
  EXPECT_EQ(check("/ip", "1.1.1.1", "", {}), Verdict::kAllow);
  EXPECT_EQ(check("/ip", "1.1.1.1", "", {}), Verdict::kReject);
  EXPECT_EQ(check("/ip", "2.2.2.2", "", {}), Verdict::kAllow);

  EXPECT_EQ(check("/key", "1.1.1.1", "", {{"X-Api-Key", "k1"}}), Verdict::kAllow);
  EXPECT_EQ(check("/key", "2.2.2.2", "", {{"x-api-key", "k1"}}), Verdict::kReject);
  EXPECT_EQ(check("/key", "1.1.1.1", "", {{"accept", "*/*"}, {"X-API-KEY", "k2"}}),
            Verdict::kAllow);
  // Requests without the header share one state: omitting it is no way around the limit.
  EXPECT_EQ(check("/key", "1.1.1.1", "", {}), Verdict::kAllow);
  EXPECT_EQ(check("/key", "3.3.3.3", "", {}), Verdict::kReject);

  EXPECT_EQ(check("/user", "1.1.1.1", "u1", {}), Verdict::kAllow);
  EXPECT_EQ(check("/user", "2.2.2.2", "u1", {}), Verdict::kReject);
  EXPECT_EQ(check("/user", "1.1.1.1", "", {}), Verdict::kAllow);
  EXPECT_EQ(check("/user", "1.1.1.1", "", {}), Verdict::kReject);
}

TEST_F(RateLimiterTest, QueueRuleDelaysThenRejects) {
  RuleSpec q = rule("/api/v1/sales/*/orders", ScopeKind::kGlobal, 10, 1);
  q.on_limit = OnLimit::kQueue;
  q.max_wait = Milliseconds(250);
  load({q});
  EXPECT_EQ(order("a").kind, Verdict::kAllow);
  Verdict v = order("b");
  EXPECT_EQ(v.kind, Verdict::kDelay);
  EXPECT_EQ(v.wait, Milliseconds(100));
  EXPECT_EQ(order("c").wait, Milliseconds(200));
  v = order("d");
  EXPECT_EQ(v.kind, Verdict::kReject);  // no room within max_wait
  EXPECT_EQ(v.wait, Milliseconds(300));
  EXPECT_EQ(counters(0).passed(), 1u);
  EXPECT_EQ(counters(0).queued(), 2u);
  EXPECT_EQ(counters(0).limited(), 1u);
}

TEST_F(RateLimiterTest, TwoQueueRulesWaitForTheLongerDelay) {
  RuleSpec outer = rule("/api/**", ScopeKind::kGlobal, 10, 1);
  outer.on_limit = OnLimit::kQueue;
  outer.max_wait = Seconds(1);
  RuleSpec inner = rule("/api/v1/sales/*/orders", ScopeKind::kGlobal, 4, 1);
  inner.on_limit = OnLimit::kQueue;
  inner.max_wait = Seconds(1);
  load({outer, inner});
  EXPECT_EQ(order("a").kind, Verdict::kAllow);
  Verdict v = order("b");
  EXPECT_EQ(v.kind, Verdict::kDelay);
  EXPECT_EQ(v.wait, Milliseconds(250));  // max(100 ms, 250 ms)
}

TEST_F(RateLimiterTest, LogRuleShadowsAndDeeperRejectStillWins) {
  RuleSpec shadow = rule("/api/**", ScopeKind::kGlobal, 1, 1);
  shadow.on_limit = OnLimit::kLog;
  RuleSpec per_user = rule("/api/v1/sales/*/orders", ScopeKind::kUser, 1, 1);
  load({shadow, per_user});
  EXPECT_EQ(order("alice").kind, Verdict::kAllow);
  Verdict v = order("bob");
  EXPECT_EQ(v.kind, Verdict::kShadow);
  EXPECT_TRUE(v.shadowed);
  EXPECT_EQ(v.rule, "/api/** global token_bucket 1/s");
  EXPECT_EQ(v.limit, 1);
  v = order("alice");  // the shadow rule would limit, and alice's own rule does
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "/api/v1/sales/*/orders user token_bucket 1/s");
  EXPECT_EQ(counters(0).passed(), 1u);
  EXPECT_EQ(counters(0).shadowLimited(), 2u);
  EXPECT_EQ(counters(0).limited(), 0u);
}

TEST_F(RateLimiterTest, DryRunOverrideTurnsLimitsIntoShadowsUnderItsPrefix) {
  RuleSpec api = rule("/api/**", ScopeKind::kGlobal, 1, 1);
  RuleSpec q = rule("/api/v1/sales/*/orders", ScopeKind::kGlobal, 1, 1);
  q.on_limit = OnLimit::kQueue;
  q.max_wait = Seconds(5);
  load({api, q});
  ASSERT_TRUE(limiter_.setOverride("/api/v1/", OverrideMode::kDryRun).ok());
  EXPECT_EQ(order("a").kind, Verdict::kAllow);
  Verdict v = order("b");
  EXPECT_EQ(v.kind, Verdict::kShadow);  // neither rejects nor queues in a dry run
  EXPECT_EQ(counters(0).shadowLimited(), 1u);
  EXPECT_EQ(counters(1).shadowLimited(), 1u);
  EXPECT_EQ(get("/api/other").kind, Verdict::kReject);  // outside the prefix
  EXPECT_EQ(get("/api/v12").kind, Verdict::kReject);    // segment-wise prefix

  EXPECT_EQ(limiter_.overrides().size(), 1u);
  EXPECT_EQ(limiter_.overrides()[0].prefix, "/api/v1");
  limiter_.clearOverride("/api/v1");
  EXPECT_TRUE(limiter_.overrides().empty());
  EXPECT_EQ(order("c").kind, Verdict::kReject);
}

TEST_F(RateLimiterTest, ShedOverrideRejectsEverythingUnderItsPrefix) {
  load({rule("/api/**", ScopeKind::kGlobal, 1000, 1000)});
  ASSERT_TRUE(limiter_.setOverride("/api/v1/sales", OverrideMode::kShed).ok());
  Verdict v = order("a");
  EXPECT_EQ(v.kind, Verdict::kShed);
  EXPECT_EQ(v.wait, kShedRetryAfter);
  EXPECT_EQ(v.rule, "override /api/v1/sales");
  EXPECT_EQ(counters(0).passed(), 0u);  // no rule evaluated, no token taken
  EXPECT_EQ(get("/api/v1/health").kind, Verdict::kAllow);

  // The longest prefix wins: exempt one sale, dry-run the whole API, shed all.
  ASSERT_TRUE(limiter_.setOverride("/api/v1/sales/vip", OverrideMode::kNone).ok());
  EXPECT_EQ(order("a", "vip").kind, Verdict::kAllow);
  EXPECT_EQ(order("a", "s2").kind, Verdict::kShed);
  ASSERT_TRUE(limiter_.setOverride("/", OverrideMode::kShed).ok());
  EXPECT_EQ(get("/health").kind, Verdict::kShed);
  EXPECT_EQ(order("a", "vip").kind, Verdict::kAllow);
  ASSERT_TRUE(limiter_.setOverride("/", OverrideMode::kDryRun).ok());  // replaces "/"
  EXPECT_EQ(limiter_.overrides().size(), 3u);
  EXPECT_EQ(get("/health").kind, Verdict::kAllow);

  EXPECT_FALSE(limiter_.setOverride("api", OverrideMode::kShed).ok());
  EXPECT_FALSE(limiter_.setOverride("", OverrideMode::kShed).ok());
}

TEST_F(RateLimiterTest, AllowCarriesTheTightestQuotaForHeaders) {
  RuleSpec wide = rule("/api/**", ScopeKind::kGlobal, 100, 100);
  RuleSpec narrow = rule("/api/v1/sales/*/**", ScopeKind::kGlobal, 10, 10);
  narrow.per = absl::Minutes(1);
  load({wide, narrow});
  Verdict v = order("a");
  EXPECT_EQ(v.kind, Verdict::kAllow);
  EXPECT_TRUE(v.has_quota);
  EXPECT_EQ(v.limit, 10);
  EXPECT_EQ(v.remaining, 9);
  EXPECT_EQ(v.window, absl::Minutes(1));
  EXPECT_EQ(v.reset, Seconds(6));  // one token at 10/min
}

TEST_F(RateLimiterTest, ReloadTakesEffectForTheNextCheck) {
  load({rule("/api/**", ScopeKind::kGlobal, 1, 1)});
  EXPECT_EQ(get("/api/x").kind, Verdict::kAllow);
  EXPECT_EQ(get("/api/x").kind, Verdict::kReject);
  load({rule("/api/**", ScopeKind::kGlobal, 1, 5)});
  Verdict v = get("/api/x");
  EXPECT_EQ(v.kind, Verdict::kAllow);
  EXPECT_EQ(v.version, 2u);
  load({});
  EXPECT_EQ(get("/api/x").kind, Verdict::kAllow);
}

// RateLimit-Policy names the rule as a Structured Field string (RFC 8941 3.3.3): quotes and
// backslashes escaped, bytes beyond printable ASCII replaced.
TEST(HttpFieldsTest, ThePolicyNamesTheRuleAsAStructuredFieldString) {
  Verdict v;
  v.has_quota = true;
  v.limit = 5;
  v.window = Seconds(1);
  v.rule = "POST /api/** global \"x\" a\\b\x01\xc3\xa9 end";
  EXPECT_EQ(rateLimitPolicyField(v), "\"POST /api/** global \\\"x\\\" a\\\\b??? end\";q=5;w=1");
  v.rule = "plain";
  EXPECT_EQ(rateLimitPolicyField(v), "\"plain\";q=5;w=1");
  v.rule.clear();
  EXPECT_EQ(rateLimitPolicyField(v), "\"default\";q=5;w=1");
}

}  // namespace
}  // namespace seckill::ratelimit
