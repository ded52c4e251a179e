#include "engine/core/ratelimit/rule.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

RuleSpec rule(std::string path, int64_t rate, absl::Duration per = absl::Seconds(1)) {
  RuleSpec r;
  r.path = std::move(path);
  r.rate = rate;
  r.per = per;
  return r;
}

// The message of validating `rules`, "" if valid.
std::string problem(const std::vector<RuleSpec>& rules) {
  absl::Status s = validateRules(rules);
  return s.ok() ? "" : std::string(s.message());
}

bool mentions(const std::string& message, const std::string& what) {
  return message.find(what) != std::string::npos;
}

TEST(RuleTest, ParsesNames) {
  for (auto a : {Algorithm::kTokenBucket, Algorithm::kLeakyBucket, Algorithm::kSlidingWindow,
                 Algorithm::kSlidingLog}) {
    auto parsed = parseAlgorithm(algorithmName(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_FALSE(parseAlgorithm("fixed_window").ok());
  EXPECT_TRUE(mentions(std::string(parseAlgorithm("fixed_window").status().message()),
                       "fixed_window"));

  for (auto o : {OnLimit::kReject, OnLimit::kQueue, OnLimit::kLog}) {
    EXPECT_EQ(*parseOnLimit(onLimitName(o)), o);
  }
  EXPECT_FALSE(parseOnLimit("drop").ok());

  EXPECT_EQ(*parsePer("s"), absl::Seconds(1));
  EXPECT_EQ(*parsePer("min"), absl::Minutes(1));
  EXPECT_EQ(*parsePer("h"), absl::Hours(1));
  EXPECT_FALSE(parsePer("d").ok());
  EXPECT_FALSE(parsePer("1s").ok());
}

TEST(RuleTest, ParsesScopes) {
  EXPECT_EQ(parseScope("global")->kind, ScopeKind::kGlobal);
  EXPECT_EQ(parseScope("user")->kind, ScopeKind::kUser);
  EXPECT_EQ(parseScope("ip")->kind, ScopeKind::kIp);
  auto h = parseScope("header:X-Api-Key");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->kind, ScopeKind::kHeader);
  EXPECT_EQ(h->header, "x-api-key");
  EXPECT_EQ(scopeName(h->kind, h->header), "header:x-api-key");
  EXPECT_FALSE(parseScope("header:").ok());
  EXPECT_FALSE(parseScope("header:a b").ok());
  EXPECT_FALSE(parseScope("session").ok());
}

TEST(RuleTest, NameAndIdentity) {
  RuleSpec r = rule("/api/v1/sales/*/orders", 1);
  r.method = "POST";
  r.scope = ScopeKind::kUser;
  EXPECT_EQ(r.name(), "POST /api/v1/sales/*/orders user token_bucket 1/s");
  RuleSpec g = rule("/api/**", 100000);
  g.algorithm = Algorithm::kSlidingWindow;
  g.per = absl::Minutes(1);
  EXPECT_EQ(g.name(), "/api/** global sliding_window 100000/min");

  // The identity ignores how limits are acted on, not what they are.
  RuleSpec same = r;
  same.on_limit = OnLimit::kLog;
  same.line = 42;
  EXPECT_EQ(same.identity(), r.identity());
  for (auto change : std::vector<void (*)(RuleSpec&)>{
           [](RuleSpec& x) { x.rate = 2; },
           [](RuleSpec& x) { x.burst = 2; },
           [](RuleSpec& x) { x.per = absl::Minutes(1); },
           [](RuleSpec& x) { x.method.reset(); },
           [](RuleSpec& x) { x.scope = ScopeKind::kIp; },
           [](RuleSpec& x) { x.algorithm = Algorithm::kLeakyBucket; },
           [](RuleSpec& x) { x.queue = 3; },
           [](RuleSpec& x) { x.warmup = absl::Seconds(10); },
           [](RuleSpec& x) { x.distributed = true; },
           [](RuleSpec& x) { x.path = "/api/v1/sales/*"; },
       }) {
    RuleSpec other = r;
    change(other);
    EXPECT_NE(other.identity(), r.identity()) << other.name();
  }
}

TEST(RuleTest, ParsesPatterns) {
  auto p = parsePathPattern("/api/v1/sales/*/orders");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->segments, (std::vector<std::string>{"api", "v1", "sales", "*", "orders"}));
  EXPECT_FALSE(p->rest);
  auto r = parsePathPattern("/static/**");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments, (std::vector<std::string>{"static"}));
  EXPECT_TRUE(r->rest);
  EXPECT_TRUE(parsePathPattern("/").ok());
  EXPECT_TRUE(parsePathPattern("/**").ok());
  EXPECT_TRUE(parsePathPattern("/a-b_c.d~e/%20/x:y@z").ok());

  for (const char* bad : {"", "api", "/a//b", "/a/", "/**/a", "/a/**/**", "/a*", "/a/b c",
                          "/a?b", "/a#b", "/{id}"}) {
    EXPECT_FALSE(parsePathPattern(bad).ok()) << bad;
  }
}

TEST(RuleTest, ValidSetPasses) {
  RuleSpec api = rule("/api/**", 100000);
  RuleSpec sale = rule("/api/v1/sales/*/**", 50000);
  RuleSpec orders = rule("/api/v1/sales/*/orders", 1);
  orders.method = "POST";
  orders.scope = ScopeKind::kUser;
  orders.on_limit = OnLimit::kQueue;
  orders.max_wait = absl::Milliseconds(200);
  RuleSpec leaky = rule("/api/v1/pay", 100);
  leaky.algorithm = Algorithm::kLeakyBucket;
  leaky.queue = 10;
  RuleSpec warm = rule("/api/v1/sales/*", 300);
  warm.warmup = absl::Seconds(10);
  RuleSpec hdr = rule("/api/v1/sales/*", 10);
  hdr.scope = ScopeKind::kHeader;
  hdr.header = "x-api-key";
  EXPECT_EQ(problem({api, sale, orders, leaky, warm, hdr}), "");
  EXPECT_EQ(problem({}), "");
}

TEST(RuleTest, RejectsFieldsNamingTheRule) {
  struct Case {
    void (*edit)(RuleSpec&);
    const char* what;
  };
  const Case cases[] = {
      {[](RuleSpec& r) { r.rate = 0; }, "rate must be > 0"},
      {[](RuleSpec& r) { r.rate = -5; }, "rate must be > 0"},
      {[](RuleSpec& r) { r.rate = kMaxRate + 1; }, "rate must be <="},
      {[](RuleSpec& r) { r.burst = 0; }, "burst must be >= 1"},
      {[](RuleSpec& r) { r.queue = -1; }, "queue must be >= 0"},
      {[](RuleSpec& r) { r.per = absl::Seconds(2); }, "per must be"},
      {[](RuleSpec& r) { r.path = "api"; }, "must start with '/'"},
      {[](RuleSpec& r) { r.path = ""; }, "path is empty"},
      {[](RuleSpec& r) { r.path = "/a/**/b"; }, "\"**\" must be the last"},
      {[](RuleSpec& r) { r.path = "/a//b"; }, "empty segment"},
      {[](RuleSpec& r) { r.path = "/a/b c"; }, "bad character"},
      {[](RuleSpec& r) { r.method = "post"; }, "upper-case"},
      {[](RuleSpec& r) { r.algorithm = static_cast<Algorithm>(9); }, "unknown algorithm"},
      {[](RuleSpec& r) { r.scope = static_cast<ScopeKind>(9); }, "unknown scope"},
      {[](RuleSpec& r) { r.scope = ScopeKind::kHeader; }, "header scope needs a header name"},
      {[](RuleSpec& r) { r.scope = ScopeKind::kHeader, r.header = "X-Key"; }, "lower-case"},
      {[](RuleSpec& r) { r.header = "x-key"; }, "only for header scope"},
      {[](RuleSpec& r) { r.on_limit = OnLimit::kQueue; }, "max_wait > 0"},
      {[](RuleSpec& r) {
         r.on_limit = OnLimit::kQueue, r.max_wait = absl::Seconds(1),
         r.algorithm = Algorithm::kSlidingWindow;
       },
       "needs token_bucket or leaky_bucket"},
      {[](RuleSpec& r) { r.warmup = absl::Seconds(5), r.algorithm = Algorithm::kLeakyBucket; },
       "warmup is only supported by token_bucket"},
      {[](RuleSpec& r) { r.warmup = absl::Seconds(-1); }, "warmup must be >= 0"},
      {[](RuleSpec& r) { r.algorithm = Algorithm::kSlidingLog, r.rate = kMaxSlidingLogRate + 1; },
       "sliding_log rate"},
  };
  for (const Case& c : cases) {
    RuleSpec ok = rule("/ok", 5);
    RuleSpec bad = rule("/api/x", 5);
    bad.line = 12;
    c.edit(bad);
    std::string msg = problem({ok, bad});
    EXPECT_TRUE(mentions(msg, c.what)) << msg << " / wanted: " << c.what;
    EXPECT_TRUE(mentions(msg, "rule 2 (line 12)")) << msg;
  }
  // Without a line (from the API) the rule is named by position and name.
  RuleSpec bad = rule("/api/x", 0);
  std::string msg = problem({bad});
  EXPECT_TRUE(mentions(msg, "rule 1 \"/api/x global token_bucket 0/s\"")) << msg;
}

TEST(RuleTest, RejectsDuplicates) {
  RuleSpec a = rule("/api/x", 5);
  a.line = 3;
  RuleSpec b = a;
  b.line = 9;
  b.on_limit = OnLimit::kLog;  // acting differently on the same limiter is still a duplicate
  std::string msg = problem({a, b});
  EXPECT_TRUE(mentions(msg, "rule 2 (line 9)")) << msg;
  EXPECT_TRUE(mentions(msg, "duplicates rule 1 (line 3)")) << msg;
}

TEST(RuleTest, RejectsContradictoryUnitsOnOneNodeAndScope) {
  // 100/s with 50/min on the same node and scope: the minute can never let 100 through a second.
  RuleSpec fast = rule("/api/x", 100, absl::Seconds(1));
  RuleSpec slow = rule("/api/x", 50, absl::Minutes(1));
  slow.line = 7;
  std::string msg = problem({fast, slow});
  EXPECT_TRUE(mentions(msg, "rule 2 (line 7)")) << msg;
  EXPECT_TRUE(mentions(msg, "contradicts rule 1")) << msg;
  EXPECT_TRUE(mentions(problem({slow, fast}), "contradicts")) << "order does not matter";

  // Consistent: the longer window allows at least as much.
  EXPECT_EQ(problem({rule("/api/x", 10, absl::Seconds(1)), rule("/api/x", 300, absl::Minutes(1)),
                     rule("/api/x", 5000, absl::Hours(1))}),
            "");
  EXPECT_EQ(problem({rule("/api/x", 100, absl::Seconds(1)), rule("/api/x", 100, absl::Minutes(1))}),
            "");
  // 1/s, 100/min, 60/h: the hour contradicts the minute.
  EXPECT_TRUE(mentions(problem({rule("/api/x", 1, absl::Seconds(1)),
                                rule("/api/x", 100, absl::Minutes(1)),
                                rule("/api/x", 60, absl::Hours(1))}),
                       "contradicts"));

  // Different node or scope: no contradiction.
  RuleSpec other_path = rule("/api/y", 50, absl::Minutes(1));
  RuleSpec other_scope = slow;
  other_scope.scope = ScopeKind::kUser;
  RuleSpec other_method = slow;
  other_method.method = "POST";
  EXPECT_EQ(problem({fast, other_path}), "");
  EXPECT_EQ(problem({fast, other_scope}), "");
  EXPECT_EQ(problem({fast, other_method}), "");
}

}  // namespace
}  // namespace seckill::ratelimit
