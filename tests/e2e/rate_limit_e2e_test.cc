// End-to-end traffic control: the real binary with [[rule]] tables answers
// 429 with the RateLimit headers, queues and shadows as configured, picks up
// a rule change in its file (and on SIGHUP) without a restart, keeps the
// running set when the file turns invalid, and sheds under an override.
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/http/http_test_client.h"

namespace seckill::e2e {
namespace {

using http::testing::Reply;
using http::testing::TestClient;

constexpr char kSale[] = R"(
[limits]
watch_interval = "100ms"

[[sale]]
id = "drop"
stock = 1000
)";

std::string rules(int rate, int burst, const std::string& on_limit = "reject",
                  const std::string& extra = {}) {
  return std::string(kSale) + R"(
[[rule]]
path = "/api/v1/sales/*/orders"
method = "POST"
scope = "user"
rate = )" + std::to_string(rate) +
         "\nburst = " + std::to_string(burst) + "\non_limit = \"" + on_limit + "\"\n" + extra;
}

std::string ordersPath() { return "/api/v1/sales/drop/orders"; }

// Polls `probe` until it returns true or 10 s pass.
template <typename F>
bool eventually(F probe) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(RateLimitE2eTest, RejectsWith429AndTheHeaders) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(rules(1, 1)));
  TestClient c(engine.port());
  EXPECT_EQ(c.post(ordersPath(), "alice").status, 201);
  Reply limited = c.post(ordersPath(), "alice");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body, R"({"error":"rate_limited"})");
  EXPECT_EQ(limited.header("Retry-After"), "1");
  EXPECT_NE(limited.header("RateLimit-Policy").find(";q=1;w=1"), std::string::npos)
      << limited.header("RateLimit-Policy");
  EXPECT_NE(limited.header("RateLimit").find(";r=0;t="), std::string::npos)
      << limited.header("RateLimit");
  // Another shopper has a bucket of their own.
  EXPECT_EQ(c.post(ordersPath(), "bob").status, 201);
  Reply metrics = c.get("/metrics");
  EXPECT_NE(metrics.body.find("decision=\"limited\"} 1"), std::string::npos) << metrics.body;
  EXPECT_TRUE(engine.stop());
}

TEST(RateLimitE2eTest, QueueModeWaitsForASlotInsteadOfRejecting) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(rules(5, 1, "queue", "max_wait = \"1s\"\n")));
  TestClient c(engine.port());
  EXPECT_EQ(c.post(ordersPath(), "alice").status, 201);
  const auto start = std::chrono::steady_clock::now();
  Reply queued = c.post(ordersPath(), "alice");  // next token 200ms away: waits, then dedup
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(queued.status, 409) << queued.body;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_TRUE(engine.stop());
}

TEST(RateLimitE2eTest, LogModeAdmitsAndCountsTheShadow) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(rules(1, 1, "log")));
  TestClient c(engine.port());
  EXPECT_EQ(c.post(ordersPath(), "alice").status, 201);
  EXPECT_EQ(c.post(ordersPath(), "alice").status, 409);  // shadow-limited, reached the core
  Reply metrics = c.get("/metrics");
  EXPECT_NE(metrics.body.find("seckill_shadow_limited_total 1"), std::string::npos)
      << metrics.body;
  EXPECT_TRUE(engine.stop());
  EXPECT_NE(engine.stderrText().find("log mode"), std::string::npos);
}

TEST(RateLimitE2eTest, FileChangeTakesEffectWithoutRestartAndBadFileChangesNothing) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(rules(1, 1)));
  TestClient c(engine.port());
  EXPECT_EQ(c.post(ordersPath(), "u0").status, 201);
  EXPECT_EQ(c.post(ordersPath(), "u0").status, 429);

  // Loosen the rule in the file: the same shopper gets through at once.
  engine.rewriteConfig(rules(1000, 1000));
  ASSERT_TRUE(eventually([&] { return c.post(ordersPath(), "u0").status == 409; }))
      << engine.stderrText();
  EXPECT_NE(c.get("/metrics").body.find("seckill_rules_version 2"), std::string::npos);

  // An invalid set is rejected whole: version 2 keeps running.
  engine.rewriteConfig(rules(0, 1));
  ASSERT_TRUE(eventually([&] {
    return engine.stderrText().find("rule reload rejected") != std::string::npos;
  }));
  EXPECT_NE(c.get("/metrics").body.find("seckill_rules_version 2"), std::string::npos);
  EXPECT_EQ(c.post(ordersPath(), "u0").status, 409);

  // SIGHUP reloads too (here: a shed override for the sale paths).
  engine.rewriteConfig(rules(1000, 1000) + "\n[[override]]\nprefix = \"/api/v1/sales\"\nmode = \"shed\"\n");
  engine.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return c.post(ordersPath(), "u1").status == 503; }));
  Reply shed = c.post(ordersPath(), "u2");
  EXPECT_EQ(shed.status, 503);
  EXPECT_EQ(shed.body, R"({"error":"shed"})");
  EXPECT_FALSE(shed.header("Retry-After").empty());
  EXPECT_EQ(c.get("/healthz").status, 200);  // outside the shed prefix
  EXPECT_TRUE(engine.stop());
}

TEST(RateLimitE2eTest, ForcedOpenBreakerAnswersCircuitOpen) {
  EngineProcess engine;
  ASSERT_TRUE(engine.start(std::string(kSale) + "\n[breaker]\nmode = \"forced_open\"\nopen_for = \"3s\"\n"));
  TestClient c(engine.port());
  Reply r = c.post(ordersPath(), "alice");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":"circuit_open"})");
  EXPECT_EQ(r.header("Retry-After"), "3");
  EXPECT_NE(c.get("/metrics").body.find(
                "seckill_breaker_state{breaker=\"stock_store\",state=\"forced_open\"} 1"),
            std::string::npos);
  EXPECT_TRUE(engine.stop());
}

}  // namespace
}  // namespace seckill::e2e
