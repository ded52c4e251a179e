// The distributed rate limits against a real redis-server: each algorithm's Lua form decides
// as its in-process form does; two nodes share one budget; one round trip per rule; idle keys
// expire; a killed Redis fails open (counted) or closed.
#include "engine/store/redis/redis_rate_limiter.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/ratelimit/rate_limiter.h"
#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"

namespace seckill {
namespace {

using ratelimit::Algorithm;
using ratelimit::CompiledRule;
using ratelimit::Decision;
using ratelimit::RuleSpec;
using ratelimit::ScopeKind;
using ratelimit::Verdict;
using testing::RedisTest;

RedisClientOptions rateLimitClientOptions(const testing::RedisServer& server) {
  RedisClientOptions o;
  o.port = server.port();
  o.connections = 2;
  o.scripts = rateLimitScripts();
  o.command_timeout = absl::Milliseconds(300);
  return o;
}

CompiledRule compiled(const RuleSpec& spec) {
  return CompiledRule{spec, spec.name(), nullptr, ratelimit::stableIdentityHash(spec)};
}

RuleSpec spec(Algorithm a, int64_t rate, absl::Duration per = absl::Seconds(1)) {
  RuleSpec r;
  r.path = "/api/**";
  r.scope = ScopeKind::kUser;
  r.algorithm = a;
  r.rate = rate;
  r.per = per;
  r.distributed = true;
  return r;
}

absl::StatusOr<Decision> remoteAcquire(RedisRateLimiter& backend, const CompiledRule& rule,
                                       std::string_view key, absl::Time now, uint32_t hits = 1) {
  return testing::await<absl::StatusOr<Decision>>(
      [&](Callback<absl::StatusOr<Decision>> done) {
        backend.acquire(rule, key, now, hits, std::move(done));
      });
}

// Runs one evaluation through a RateLimiter to the end (the backend completes on a Redis
// thread; the test thread waits for it).
Verdict decide(const ratelimit::RateLimiter& limiter, std::string_view user, absl::Time now) {
  const std::string path = "/api/v1/sales/s1/orders";
  ratelimit::Evaluation e = limiter.evaluate(
      ratelimit::RequestInfo{.method = "POST", .path = path, .user_id = user, .ip = "10.0.0.1"},
      now);
  if (e.remote == nullptr) return e.verdict;
  return testing::await<Verdict>([&](Callback<Verdict> done) {
    limiter.complete(std::move(e.remote), std::move(done));
  });
}

class RedisRateLimiterTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client_ = std::make_unique<RedisClient>(rateLimitClientOptions(server));
  }
  void TearDown() override {
    if (client_) client_->shutdown();
  }
  std::unique_ptr<RedisClient> client_;
};

// The same arrival sequence through the in-process limiter and the Lua script (engine clock
// passed in): the same admissions, the same remaining quota. With `hits`, each request counts
// for 0 (a peek) to 3 units.
void expectParity(RedisRateLimiter& backend, const RuleSpec& s, std::string_view key,
                  uint32_t seed, bool hits = false) {
  SCOPED_TRACE(s.name());
  const CompiledRule rule = compiled(s);
  std::unique_ptr<ratelimit::Limiter> local = ratelimit::makeLimiter(s);
  absl::Time t = absl::FromUnixSeconds(1'764'000'000) + absl::Microseconds(seed);
  uint32_t x = seed;
  int admitted = 0, rejected = 0;
  for (int i = 0; i < 300; ++i) {
    x = x * 1664525u + 1013904223u;  // LCG: gaps of 0..59 ms, bursts and lulls
    const int gap_ms = (x >> 16) % 60;
    t += absl::Milliseconds(i % 50 < 40 ? gap_ms / 4 : gap_ms * 3);
    const uint32_t n = hits ? (x >> 24) % 4 : 1;
    const Decision want = local->acquire(t, absl::ZeroDuration(), n);
    absl::StatusOr<Decision> got = remoteAcquire(backend, rule, key, t, n);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->kind, want.kind) << "arrival " << i;
    EXPECT_EQ(got->remaining, want.remaining) << "arrival " << i;
    EXPECT_EQ(got->limit, want.limit);
    if (want.kind == Decision::kReject) {
      EXPECT_LE(absl::AbsDuration(got->wait - want.wait), absl::Microseconds(2)) << "arrival " << i;
    }
    (want.kind == Decision::kAllow ? admitted : rejected)++;
  }
  EXPECT_GT(admitted, 10);
  EXPECT_GT(rejected, 10);  // the sequence exercises both answers
}

TEST_F(RedisRateLimiterTest, EachAlgorithmAdmitsWhatTheInProcessFormAdmits) {
  RedisRateLimiter backend(*client_, {.redis_time = false});
  RuleSpec tb = spec(Algorithm::kTokenBucket, 20);
  tb.burst = 5;
  RuleSpec warm = spec(Algorithm::kTokenBucket, 40);
  warm.burst = 3;
  warm.warmup = absl::Seconds(2);
  RuleSpec lb = spec(Algorithm::kLeakyBucket, 25);
  lb.queue = 3;
  RuleSpec strict = spec(Algorithm::kLeakyBucket, 20);
  RuleSpec sw = spec(Algorithm::kSlidingWindow, 30);
  RuleSpec sl = spec(Algorithm::kSlidingLog, 15);
  RuleSpec per_min = spec(Algorithm::kSlidingWindow, 120, absl::Minutes(1));
  uint32_t seed = 7;
  for (const RuleSpec& s : {tb, warm, lb, strict, sw, sl, per_min}) {
    expectParity(backend, s, "alice", seed++);
  }
}

TEST_F(RedisRateLimiterTest, HitsAndPeeksDecideAsInProcess) {
  RedisRateLimiter backend(*client_, {.redis_time = false});
  RuleSpec tb = spec(Algorithm::kTokenBucket, 40);
  tb.burst = 6;
  RuleSpec warm = spec(Algorithm::kTokenBucket, 60);
  warm.burst = 4;
  warm.warmup = absl::Seconds(2);
  RuleSpec lb = spec(Algorithm::kLeakyBucket, 50);
  lb.queue = 4;
  RuleSpec sw = spec(Algorithm::kSlidingWindow, 60);
  RuleSpec sl = spec(Algorithm::kSlidingLog, 30);
  uint32_t seed = 31;
  for (const RuleSpec& s : {tb, warm, lb, sw, sl}) {
    expectParity(backend, s, "bob", seed++, /*hits=*/true);
  }
}

TEST_F(RedisRateLimiterTest, KeysCarryTheRuleHashTagAndExpireWhenIdle) {
  RedisRateLimiter backend(*client_, {.redis_time = false});
  RuleSpec s = spec(Algorithm::kTokenBucket, 10);
  s.burst = 2;
  const CompiledRule rule = compiled(s);
  const absl::Time now = absl::Now();
  ASSERT_TRUE(remoteAcquire(backend, rule, "alice", now).ok());
  const std::string route = redis_keys::rateLimitRoute(rule.identity_hash, "alice");
  EXPECT_EQ(route.substr(16), ":=alice");
  const std::string key = redis_keys::rateLimitKey(route);
  EXPECT_EQ(key, "sk:rl:{" + route + "}");
  absl::StatusOr<std::string> pttl = server.query({"PTTL", key});
  ASSERT_TRUE(pttl.ok());
  // One token short of a burst of 2 at 10/s: full again after 100 ms.
  EXPECT_GT(std::stol(*pttl), 0);
  EXPECT_LE(std::stol(*pttl), 102);
  // Awkward scope values are hashed, so they cannot break the hash tag.
  const std::string odd = redis_keys::rateLimitRoute(rule.identity_hash, "a}b{c");
  EXPECT_EQ(odd.find_first_of("{}"), std::string::npos);
  EXPECT_EQ(odd.substr(16, 2), ":#");
  ASSERT_TRUE(remoteAcquire(backend, rule, "a}b{c", now).ok());
  EXPECT_EQ(*server.query({"EXISTS", redis_keys::rateLimitKey(odd)}), "1");
}

TEST_F(RedisRateLimiterTest, OneRoundTripPerDistributedRule) {
  RedisRateLimiter backend(*client_);
  ratelimit::RuleRegistry registry;
  RuleSpec user = spec(Algorithm::kTokenBucket, 100);
  user.path = "/api/v1/sales/*/orders";
  RuleSpec global = spec(Algorithm::kSlidingWindow, 1000);
  global.scope = ScopeKind::kGlobal;
  RuleSpec local = spec(Algorithm::kTokenBucket, 1000);
  local.distributed = false;
  local.scope = ScopeKind::kIp;
  local.burst = 1000;
  ASSERT_TRUE(registry.replace({user, global, local}).ok());
  ratelimit::RateLimiter limiter(registry, &backend);
  const uint64_t before = client_->commandsSent();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(decide(limiter, "u" + std::to_string(i), absl::Now()).kind, Verdict::kAllow);
  }
  EXPECT_EQ(client_->commandsSent() - before, 20u);
}

TEST_F(RedisRateLimiterTest, TwoNodesShareOneBudget) {
  // Two engine nodes: each its own client, backend, registry and limiter; Redis's clock.
  auto other_client = std::make_unique<RedisClient>(rateLimitClientOptions(server));
  RedisRateLimiter backend_a(*client_);
  RedisRateLimiter backend_b(*other_client);
  RuleSpec s = spec(Algorithm::kTokenBucket, 1, absl::Minutes(1));
  s.path = "/api/v1/sales/*/orders";
  s.scope = ScopeKind::kGlobal;
  s.burst = 10;
  ratelimit::RuleRegistry registry_a, registry_b;
  ASSERT_TRUE(registry_a.replace({s}).ok());
  ASSERT_TRUE(registry_b.replace({s}).ok());
  ratelimit::RateLimiter node_a(registry_a, &backend_a);
  ratelimit::RateLimiter node_b(registry_b, &backend_b);
  int admitted = 0, limited = 0;
  for (int i = 0; i < 30; ++i) {
    Verdict v = decide(i % 2 == 0 ? node_a : node_b, "u", absl::Now());
    if (v.kind == Verdict::kAllow) ++admitted;
    if (v.kind == Verdict::kReject) {
      ++limited;
      EXPECT_EQ(v.limit, 10);
      EXPECT_GE(v.wait, absl::Seconds(50));
    }
  }
  EXPECT_EQ(admitted, 10);
  EXPECT_EQ(limited, 20);
  other_client->shutdown();
}

TEST_F(RedisRateLimiterTest, RedisKilledFailsOpenAndCountsOrFailsClosed) {
  RedisRateLimiter backend(*client_);
  RuleSpec s = spec(Algorithm::kTokenBucket, 1, absl::Minutes(1));
  s.path = "/api/v1/sales/*/orders";
  s.burst = 1;
  ratelimit::RuleRegistry registry;
  ASSERT_TRUE(registry.replace({s}).ok());
  std::atomic<int> reports{0};
  ratelimit::RateLimiter open(registry, &backend,
                              {.failure = ratelimit::FailurePolicy::kOpen,
                               .on_backend_error = [&](const auto&) { ++reports; }});
  ratelimit::RateLimiter closed(registry, &backend,
                                {.failure = ratelimit::FailurePolicy::kClosed});
  EXPECT_EQ(decide(open, "alice", absl::Now()).kind, Verdict::kAllow);
  EXPECT_EQ(decide(open, "alice", absl::Now()).kind, Verdict::kReject);  // the limit holds

  server.stop();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(decide(open, "alice", absl::Now()).kind, Verdict::kAllow);
  EXPECT_EQ(open.backendErrors(), 5u);
  EXPECT_EQ(reports.load(), 1);  // logged at most once a second
  Verdict v = decide(closed, "alice", absl::Now());
  EXPECT_EQ(v.kind, Verdict::kUnavailable);
  EXPECT_EQ(closed.backendErrors(), 1u);

  // Redis is back (empty: no persistence): the client reconnects and the rule decides again.
  ASSERT_TRUE(server.start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Verdict after;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = decide(closed, "bob", absl::Now());
  } while (after.kind == Verdict::kUnavailable && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.kind, Verdict::kAllow);
  EXPECT_EQ(decide(closed, "bob", absl::Now()).kind, Verdict::kReject);
}

}  // namespace
}  // namespace seckill
