#include "engine/embed/embedded_limiter.h"

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Minutes;
using absl::Seconds;

RuleSpec rule(std::string path, int64_t rate, int64_t burst = 1) {
  RuleSpec r;
  r.path = std::move(path);
  r.rate = rate;
  r.burst = burst;
  return r;
}

std::unique_ptr<EmbeddedLimiter> fromToml(std::string_view toml) {
  absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> l = EmbeddedLimiter::fromToml(toml);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *std::move(l) : std::make_unique<EmbeddedLimiter>();
}

class EmbeddedLimiterTest : public ::testing::Test {
 protected:
  Verdict::Kind decide(const EmbeddedLimiter& l, std::string_view key = "alice",
                       std::string_view path = "/api/x", std::string_view method = "GET") {
    return l.decide(method, path, key, clock_.now()).kind;
  }
  ManualClock clock_;
};

TEST_F(EmbeddedLimiterTest, WithoutRulesEverythingPasses) {
  EmbeddedLimiter l;
  EXPECT_EQ(l.version(), 0u);
  Verdict v = l.decide("GET", "/anything", "k", clock_.now());
  EXPECT_EQ(v.kind, Verdict::kAllow);
  EXPECT_FALSE(v.has_quota);
  EXPECT_TRUE(l.counters().empty());
}

TEST_F(EmbeddedLimiterTest, TokenBucketBurstThenRefill) {
  auto l = fromToml(R"([[rule]]
path = "/api/**"
scope = "user"
algorithm = "token_bucket"
rate = 2
burst = 3
)");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(decide(*l), Verdict::kAllow) << i;
  Verdict v = l->decide("GET", "/api/x", "alice", clock_.now());
  EXPECT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(v.rule, "/api/** user token_bucket 2/s");
  EXPECT_EQ(v.wait, Milliseconds(500));  // the next token
  EXPECT_TRUE(v.has_quota);
  EXPECT_EQ(v.limit, 3);
  EXPECT_EQ(v.remaining, 0);
  EXPECT_EQ(decide(*l, "bob"), Verdict::kAllow);  // another key, its own bucket
  clock_.advance(Milliseconds(500));
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kReject);
  EXPECT_EQ(decide(*l, "alice", "/other"), Verdict::kAllow);  // no rule matches
}

TEST_F(EmbeddedLimiterTest, LeakyBucketSpacesRequests) {
  auto l = fromToml(R"([[rule]]
path = "/api/**"
algorithm = "leaky_bucket"
rate = 4
)");
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Milliseconds(249));
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Milliseconds(1));
  EXPECT_EQ(decide(*l), Verdict::kAllow);
}

TEST_F(EmbeddedLimiterTest, SlidingWindowCountsPerWindow) {
  auto l = fromToml(R"([[rule]]
path = "/api/**"
algorithm = "sliding_window"
rate = 3
per = "min"
)");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(decide(*l), Verdict::kAllow) << i;
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Seconds(30));
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Minutes(2));  // the previous window is empty again
  for (int i = 0; i < 3; ++i) EXPECT_EQ(decide(*l), Verdict::kAllow) << i;
  EXPECT_EQ(decide(*l), Verdict::kReject);
}

TEST_F(EmbeddedLimiterTest, SlidingLogIsExact) {
  auto l = fromToml(R"([[rule]]
path = "/api/**"
algorithm = "sliding_log"
rate = 3
)");
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  clock_.advance(Milliseconds(400));
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Milliseconds(599));
  EXPECT_EQ(decide(*l), Verdict::kReject);
  clock_.advance(Milliseconds(1));  // the first request left the window
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kReject);
}

TEST_F(EmbeddedLimiterTest, QueueRuleDelaysAndLogRuleShadows) {
  auto l = fromToml(R"([[rule]]
path = "/api/orders"
method = "POST"
rate = 10
on_limit = "queue"
max_wait = "250ms"

[[rule]]
path = "/api/search"
rate = 1
on_limit = "log"
)");
  EXPECT_EQ(decide(*l, "a", "/api/orders", "POST"), Verdict::kAllow);
  Verdict v = l->decide("POST", "/api/orders", "a", clock_.now());
  EXPECT_EQ(v.kind, Verdict::kDelay);
  EXPECT_EQ(v.wait, Milliseconds(100));
  EXPECT_EQ(decide(*l, "a", "/api/orders", "GET"), Verdict::kAllow);  // POST only

  EXPECT_EQ(decide(*l, "a", "/api/search"), Verdict::kAllow);
  EXPECT_EQ(decide(*l, "a", "/api/search"), Verdict::kShadow);
  std::vector<RuleCounts> c = l->counters();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].queued, 1u);
  EXPECT_EQ(c[1].shadow_limited, 1u);
}

TEST_F(EmbeddedLimiterTest, TheKeyIsEveryScopesValue) {
  auto l = fromToml(R"([[rule]]
path = "/u"
scope = "user"
rate = 1

[[rule]]
path = "/ip"
scope = "ip"
rate = 1

[[rule]]
path = "/h"
scope = "header:X-Api-Key"
rate = 1
)");
  for (std::string_view path : {"/u", "/ip", "/h"}) {
    EXPECT_EQ(decide(*l, "k1", path), Verdict::kAllow) << path;
    EXPECT_EQ(decide(*l, "k1", path), Verdict::kReject) << path;
    EXPECT_EQ(decide(*l, "k2", path), Verdict::kAllow) << path;
  }
  // Each scope's value apart: the header from the request's headers.
  const RequestInfo::Header h[] = {{"x-api-key", "k3"}};
  RequestInfo req{.method = "GET", .path = "/h", .headers = h};
  EXPECT_EQ(l->decide(req, clock_.now()).kind, Verdict::kAllow);
  EXPECT_EQ(l->decide(req, clock_.now()).kind, Verdict::kReject);
  EXPECT_EQ(l->counters()[2].keys, 3u);
}

TEST_F(EmbeddedLimiterTest, SwapKeepsTheStateOfUnchangedRules) {
  RuleSpec api = rule("/api/**", 1, 2);
  api.scope = ScopeKind::kUser;
  auto created = EmbeddedLimiter::create({.rules = {api}});
  ASSERT_TRUE(created.ok()) << created.status();
  EmbeddedLimiter& l = **created;
  EXPECT_EQ(l.version(), 1u);
  EXPECT_EQ(decide(l), Verdict::kAllow);
  EXPECT_EQ(decide(l), Verdict::kAllow);
  EXPECT_EQ(decide(l), Verdict::kReject);

  // The same rule (another on_limit does not change its identity) beside a new one.
  RuleSpec api_log = api;
  api_log.id = "api";
  RuleSpec header = rule("/h", 1);
  header.scope = ScopeKind::kHeader;
  header.header = "x-key";
  absl::StatusOr<uint64_t> v = l.replaceRules({.rules = {api_log, header}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 2u);
  EXPECT_EQ(decide(l), Verdict::kReject);  // alice's bucket is still empty
  EXPECT_EQ(decide(l, "alice", "/h"), Verdict::kAllow);
  EXPECT_EQ(decide(l, "alice", "/h"), Verdict::kReject);  // the new header rule has the key
  EXPECT_EQ(decide(l, "bob", "/h"), Verdict::kAllow);
  std::vector<RuleCounts> c = l.counters();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].id, "api");
  EXPECT_EQ(c[0].passed, 2u);  // counters kept with the state
  EXPECT_EQ(c[0].limited, 2u);

  // A changed rate is a new identity: fresh state.
  ASSERT_TRUE(
      l.replaceRulesFromToml("[[rule]]\npath = \"/api/**\"\nscope = \"user\"\nrate = 2\n").ok());
  EXPECT_EQ(l.version(), 3u);
  EXPECT_EQ(decide(l), Verdict::kAllow);
  EXPECT_EQ(l.rules().rules.size(), 1u);
  EXPECT_EQ(l.rules().rules[0].id, "ANY /api/** user /s");
}

TEST_F(EmbeddedLimiterTest, AnInvalidSetIsRefusedWholeNamingRuleAndField) {
  auto created = EmbeddedLimiter::create({.rules = {rule("/a", 1)}});
  ASSERT_TRUE(created.ok());
  EmbeddedLimiter& l = **created;
  RuleSpec bad = rule("/b", 0);
  absl::StatusOr<uint64_t> v = l.replaceRules({.rules = {rule("/c", 5), bad}});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("rule 2"), std::string::npos) << v.status();
  EXPECT_NE(v.status().message().find("rate must be"), std::string::npos) << v.status();
  EXPECT_EQ(l.version(), 1u);
  EXPECT_EQ(l.rules().rules.size(), 1u);

  Override o{.prefix = "api", .mode = OverrideMode::kShed};
  v = l.replaceRules({.rules = {rule("/c", 5)}, .overrides = {o}});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("prefix"), std::string::npos) << v.status();
  EXPECT_EQ(l.version(), 1u);

  EXPECT_FALSE(EmbeddedLimiter::create({.rules = {bad}}).ok());
}

TEST_F(EmbeddedLimiterTest, TomlErrorsNameTheLine) {
  absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> l = EmbeddedLimiter::fromToml(
      "[[rule]]\npath = \"/a\"\nrate = 1\n\n[[rule]]\npath = \"/b\"\nrate = \"many\"\n",
      "limits.toml");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message(),
            "limits.toml:7: rule #2 \"/b\": rate must be an integer, not a string");

  l = EmbeddedLimiter::fromToml("[[rule]]\npath = \"/a\"\nrate = 0\n", "limits.toml");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message().substr(0, 14), "limits.toml:1:") << l.status();

  l = EmbeddedLimiter::fromToml("[[rule]\n", "limits.toml");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message().substr(0, 34), "limits.toml:1: TOML syntax error: ") << l.status();

  l = EmbeddedLimiter::fromToml("[http]\nlisten = \"127.0.0.1:1\"\n", "limits.toml");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message(),
            "limits.toml:1: \"http\": a rule file holds only [[rule]] and [[override]] tables");

  // A refused swap keeps the running set.
  auto ok = fromToml("[[rule]]\npath = \"/a\"\nrate = 1\n");
  absl::StatusOr<uint64_t> v = ok->replaceRulesFromToml("[[rule]]\npath = \"/a\"\n", "next.toml");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "next.toml:1: rule #1 \"/a\": missing required key \"rate\"");
  EXPECT_EQ(ok->version(), 1u);
}

TEST_F(EmbeddedLimiterTest, RuleFilesFromDisk) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/embedded_limiter_rules.toml");
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(
      "[[rule]]\npath = \"/a\"\nrate = 1\n\n[[override]]\nprefix = \"/b\"\nmode = \"shed\"\n", f);
  std::fclose(f);
  absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> l = EmbeddedLimiter::fromFile(path);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(decide(**l, "k", "/b/c"), Verdict::kShed);
  EXPECT_EQ((*l)->rules().overrides.size(), 1u);
  std::remove(path.c_str());

  absl::StatusOr<uint64_t> v = (*l)->replaceRulesFromFile(path);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(v.status().message().find(path), std::string::npos);
  EXPECT_EQ(EmbeddedLimiter::fromFile(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EmbeddedLimiterTest, OverridesShedAndDryRun) {
  auto l = fromToml("[[rule]]\npath = \"/api/**\"\nrate = 1\n");
  EXPECT_EQ(decide(*l), Verdict::kAllow);
  EXPECT_EQ(decide(*l), Verdict::kReject);
  ASSERT_TRUE(l->setOverride("/api", OverrideMode::kDryRun).ok());
  EXPECT_EQ(decide(*l), Verdict::kShadow);
  ASSERT_TRUE(l->setOverride("/api/x", OverrideMode::kShed).ok());
  Verdict v = l->decide("GET", "/api/x", "k", clock_.now());
  EXPECT_EQ(v.kind, Verdict::kShed);
  EXPECT_EQ(v.rule, "override /api/x");
  l->clearOverride("/api/x");
  l->clearOverride("/api");
  EXPECT_EQ(decide(*l), Verdict::kReject);
  EXPECT_FALSE(l->setOverride("api", OverrideMode::kShed).ok());
  // A swap sets the document's overrides (none here).
  ASSERT_TRUE(l->setOverride("/api", OverrideMode::kShed).ok());
  ASSERT_TRUE(l->replaceRulesFromToml("[[rule]]\npath = \"/api/**\"\nrate = 1\n").ok());
  EXPECT_TRUE(l->rules().overrides.empty());
}

TEST_F(EmbeddedLimiterTest, CountersPerRule) {
  auto l = fromToml(R"([[rule]]
id = "per-user"
path = "/api/**"
scope = "user"
rate = 1
burst = 2
)");
  for (std::string_view key : {"a", "a", "a", "b"}) decide(*l, key);
  std::vector<RuleCounts> c = l->counters();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, "per-user");
  EXPECT_EQ(c[0].name, "/api/** user token_bucket 1/s");
  EXPECT_EQ(c[0].passed, 3u);
  EXPECT_EQ(c[0].limited, 1u);
  EXPECT_EQ(c[0].queued, 0u);
  EXPECT_EQ(c[0].keys, 2u);
  clock_.advance(absl::Minutes(5));
  EXPECT_EQ(l->evictIdle(clock_.now()), 2u);
  EXPECT_EQ(l->counters()[0].keys, 0u);
  EXPECT_EQ(l->counters()[0].passed, 3u);
}

TEST_F(EmbeddedLimiterTest, HttpFieldsOfAReject) {
  auto l = fromToml("[[rule]]\npath = \"/api/**\"\nrate = 10\nper = \"min\"\nburst = 2\n");
  decide(*l);
  decide(*l);
  Verdict v = l->decide("GET", "/api/x", "k", clock_.now());
  ASSERT_EQ(v.kind, Verdict::kReject);
  EXPECT_EQ(ceilSeconds(v.wait), 6);
  EXPECT_EQ(rateLimitPolicyField(v), "\"/api/** global token_bucket 10/min\";q=2;w=60");
  EXPECT_EQ(rateLimitField(v), "\"/api/** global token_bucket 10/min\";r=0;t=12");
  EXPECT_EQ(ceilSeconds(Milliseconds(1)), 1);
  EXPECT_EQ(rateLimitField(Verdict{}), "");
}

// Swaps of other rules while threads decide: the unchanged rule's budget is spent exactly once.
TEST_F(EmbeddedLimiterTest, ConcurrentSwapsNeverResetAnUnchangedRule) {
  constexpr int kBurst = 500;
  RuleSpec global = rule("/api/**", 1, kBurst);
  auto created = EmbeddedLimiter::create({.rules = {global}});
  ASSERT_TRUE(created.ok());
  EmbeddedLimiter& l = **created;
  const absl::Time now = clock_.now();  // frozen: no refill
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    for (int i = 1; !stop.load(); ++i) {
      RuleSpec other = rule(absl::StrCat("/other/", i % 7), 1 + i % 5);
      ASSERT_TRUE(l.replaceRules({.rules = {other, global}}).ok());
    }
  });
  std::atomic<int> admitted{0};
  std::vector<std::thread> deciders;
  for (int t = 0; t < 3; ++t) {
    deciders.emplace_back([&] {
      for (int i = 0; i < 400; ++i) {
        if (l.decide("GET", "/api/x", "", now).kind == Verdict::kAllow) admitted.fetch_add(1);
      }
    });
  }
  for (std::thread& d : deciders) d.join();
  stop = true;
  swapper.join();
  EXPECT_EQ(admitted.load(), kBurst);
  EXPECT_GT(l.version(), 1u);
}

}  // namespace
}  // namespace seckill::ratelimit
