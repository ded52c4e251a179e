// The shopper API in front of the rate rules: 429 with Retry-After and the
// IETF RateLimit headers, queue mode deferring off the I/O thread, shadow
// mode passing, operator shedding, and the circuit-open answer.
#include <future>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/http/metrics.h"
#include "engine/http/shopper_api.h"
#include "gtest/gtest.h"
#include "tests/ratelimit/fake_remote_backend.h"
#include "tests/http/api_deps.h"
#include "tests/support/sale_fixture.h"

namespace seckill::http {
namespace {

using seckill::testing::apiDepsOf;
using seckill::testing::SaleWorld;

class DeferringExchange final : public Exchange {
 public:
  Request& request() override { return req; }
  Response& response() override { return res; }
  void finish() override { ++finishes; }
  void defer(absl::Duration d, absl::AnyInvocable<void() &&> fn) override {
    deferred_for.push_back(d);
    pending.push_back(std::move(fn));
  }
  Request req;
  Response res;
  int finishes = 0;
  std::vector<absl::Duration> deferred_for;
  std::vector<absl::AnyInvocable<void() &&>> pending;
};

ratelimit::RuleSpec rule(std::string path, int64_t rate, int64_t burst,
                         ratelimit::OnLimit on_limit = ratelimit::OnLimit::kReject,
                         absl::Duration max_wait = absl::ZeroDuration()) {
  ratelimit::RuleSpec r;
  r.path = std::move(path);
  r.method = "POST";
  r.scope = ratelimit::ScopeKind::kUser;
  r.rate = rate;
  r.burst = burst;
  r.on_limit = on_limit;
  r.max_wait = max_wait;
  return r;
}

// POST /api/v1/sales/s1/orders by `user` from 127.0.0.1, not yet handled.
std::shared_ptr<DeferringExchange> orderExchange(const std::string& user) {
  auto ex = std::make_shared<DeferringExchange>();
  ex->req.method = Method::kPost;
  ex->req.method_name = "POST";
  ex->req.target = "/api/v1/sales/s1/orders";
  ex->req.user_id = user;
  ex->req.user_id_count = 1;
  ex->req.remote_ip = "127.0.0.1";
  return ex;
}

class RateLimitApiTest : public ::testing::Test {
 protected:
  RateLimitApiTest()
      : world_({SaleWorld::spec("s1", 100)}),
        limiter_(registry_),
        api_(
            [this] {
              ShopperApiDeps deps = apiDepsOf(world_);
              deps.limiter = &limiter_;
              deps.on_shadow = [this](const ratelimit::Verdict&) { ++shadowed_; };
              return deps;
            }(),
            metrics_) {}

  std::shared_ptr<DeferringExchange> order(const std::string& user) {
    std::shared_ptr<DeferringExchange> ex = orderExchange(user);
    api_.handle(ex);
    return ex;
  }

  SaleWorld world_;
  ratelimit::RuleRegistry registry_;
  ratelimit::RateLimiter limiter_;
  HttpMetrics metrics_;
  int shadowed_ = 0;
  ShopperApi api_;
};

TEST_F(RateLimitApiTest, RejectAnswers429WithRetryAfterAndRateLimitHeaders) {
  ASSERT_TRUE(registry_.replace({rule("/api/v1/sales/*/orders", 1, 2)}).ok());
  // Two distinct users per bucket... one user, burst 2: two pass, the third is limited.
  auto a = order("alice");
  auto b = order("bob");
  EXPECT_EQ(a->res.status, 201);
  EXPECT_EQ(b->res.status, 201);
  auto again = order("alice");
  EXPECT_EQ(again->res.status, 409);  // passed the limiter (burst 2), met dedup
  auto limited = order("alice");
  EXPECT_EQ(limited->finishes, 1);
  EXPECT_EQ(limited->res.status, 429);
  EXPECT_EQ(limited->res.body, R"({"error":"rate_limited"})");
  EXPECT_EQ(limited->res.retry_after_s, 1);
  EXPECT_EQ(limited->res.route, Route::kOrder);
  EXPECT_NE(limited->res.ratelimit_policy.find(";q=2;w=1"), std::string::npos)
      << limited->res.ratelimit_policy;
  EXPECT_NE(limited->res.ratelimit.find(";r=0;t="), std::string::npos) << limited->res.ratelimit;
  EXPECT_GE(limited->res.ratelimit.size(), limited->res.ratelimit_policy.size() - 4) << limited->res.ratelimit;
  EXPECT_EQ(limited->res.ratelimit_policy.front(), '"');
  // A second later alice has a token again.
  world_.clock.advance(absl::Seconds(1));
  EXPECT_EQ(order("alice")->res.status, 409);
}

TEST_F(RateLimitApiTest, QueueModeDefersInsteadOfBlocking) {
  ASSERT_TRUE(registry_
                  .replace({rule("/api/v1/sales/*/orders", 10, 1, ratelimit::OnLimit::kQueue,
                                 absl::Milliseconds(500))})
                  .ok());
  auto first = order("alice");
  EXPECT_EQ(first->res.status, 201);
  auto queued = order("carol");  // another user: own bucket, passes
  EXPECT_EQ(queued->res.status, 201);
  auto waits = order("alice");  // alice's next token is 100ms away: deferred, not answered
  EXPECT_EQ(waits->finishes, 0);
  ASSERT_EQ(waits->deferred_for.size(), 1u);
  EXPECT_EQ(waits->deferred_for[0], absl::Milliseconds(100));
  std::move(waits->pending[0])();
  EXPECT_EQ(waits->finishes, 1);
  EXPECT_EQ(waits->res.status, 409);  // reached the core: alice already holds an order
}

TEST_F(RateLimitApiTest, LogModePassesAndReportsTheShadow) {
  ASSERT_TRUE(
      registry_.replace({rule("/api/v1/sales/*/orders", 1, 1, ratelimit::OnLimit::kLog)}).ok());
  EXPECT_EQ(order("alice")->res.status, 201);
  EXPECT_EQ(order("alice")->res.status, 409);  // limited in shadow: still reaches the core
  EXPECT_EQ(shadowed_, 1);
}

TEST_F(RateLimitApiTest, ShedOverrideAnswers503AndDryRunPasses) {
  ASSERT_TRUE(registry_.replace({rule("/api/v1/sales/*/orders", 1, 1)}).ok());
  ASSERT_TRUE(limiter_.setOverride("/api/v1/sales", ratelimit::OverrideMode::kShed).ok());
  auto shed = order("alice");
  EXPECT_EQ(shed->res.status, 503);
  EXPECT_EQ(shed->res.body, R"({"error":"shed"})");
  EXPECT_GE(shed->res.retry_after_s, 1);
  ASSERT_TRUE(limiter_.setOverride("/api/v1/sales", ratelimit::OverrideMode::kDryRun).ok());
  EXPECT_EQ(order("alice")->res.status, 201);
  EXPECT_EQ(order("alice")->res.status, 409);
  limiter_.clearOverride("/api/v1/sales");
  EXPECT_EQ(order("alice")->res.status, 429);
}

TEST_F(RateLimitApiTest, NoRulesNoLimits) {
  for (int i = 0; i < 50; ++i) EXPECT_NE(order("u" + std::to_string(i))->res.status, 429);
}

// Distributed rules: admit() asks the backend and answers from its completion.
class DistributedRateLimitApiTest : public ::testing::Test {
 protected:
  explicit DistributedRateLimitApiTest(
      ratelimit::FailurePolicy policy = ratelimit::FailurePolicy::kOpen)
      : world_({SaleWorld::spec("s1", 100)}),
        limiter_(registry_, &backend_, {.failure = policy}),
        api_(
            [this] {
              ShopperApiDeps deps = apiDepsOf(world_);
              deps.limiter = &limiter_;
              return deps;
            }(),
            metrics_) {}

  static ratelimit::RuleSpec distributed(std::string path, int64_t rate, int64_t burst) {
    ratelimit::RuleSpec r = rule(std::move(path), rate, burst);
    r.distributed = true;
    return r;
  }

  std::shared_ptr<DeferringExchange> order(const std::string& user) {
    std::shared_ptr<DeferringExchange> ex = orderExchange(user);
    api_.handle(ex);
    return ex;
  }

  SaleWorld world_;
  ratelimit::RuleRegistry registry_;
  ratelimit::testing::FakeRemoteBackend backend_;
  ratelimit::RateLimiter limiter_;
  HttpMetrics metrics_;
  ShopperApi api_;
};

TEST_F(DistributedRateLimitApiTest, AnswersFromTheBackendsCompletionWithoutBlocking) {
  ASSERT_TRUE(registry_.replace({distributed("/api/v1/sales/*/orders", 1, 1)}).ok());
  backend_.setHolding(true);
  auto first = order("alice");
  auto second = order("alice");
  // handle() returned without an answer: nothing waited for the backend.
  EXPECT_EQ(first->finishes, 0);
  EXPECT_EQ(second->finishes, 0);
  EXPECT_EQ(backend_.heldCount(), 2u);
  // The backend completes on its own thread; the answers are made there.
  std::thread backend_thread([this] { EXPECT_EQ(backend_.releaseHeld(), 2u); });
  backend_thread.join();
  EXPECT_EQ(first->finishes, 1);
  EXPECT_EQ(first->res.status, 201);  // dispatched to the core
  EXPECT_EQ(second->finishes, 1);
  EXPECT_EQ(second->res.status, 429);
  EXPECT_EQ(second->res.body, R"({"error":"rate_limited"})");
  EXPECT_EQ(second->res.retry_after_s, 1);
  EXPECT_EQ(second->res.route, Route::kOrder);
  EXPECT_NE(second->res.ratelimit_policy.find(";q=1;w=1"), std::string::npos)
      << second->res.ratelimit_policy;
  EXPECT_NE(second->res.ratelimit.find(";r=0;t=1"), std::string::npos) << second->res.ratelimit;
}

TEST_F(DistributedRateLimitApiTest, SameHeadersAsALocalRule) {
  ASSERT_TRUE(registry_.replace({distributed("/api/v1/sales/*/orders", 1, 2)}).ok());
  EXPECT_EQ(order("alice")->res.status, 201);  // the fake answers inline
  EXPECT_EQ(order("alice")->res.status, 409);
  auto limited = order("alice");
  EXPECT_EQ(limited->res.status, 429);
  EXPECT_NE(limited->res.ratelimit_policy.find(";q=2;w=1"), std::string::npos)
      << limited->res.ratelimit_policy;
  EXPECT_EQ(limited->res.ratelimit_policy.front(), '"');
  EXPECT_NE(limited->res.ratelimit.find(";r=0;t="), std::string::npos);
}

TEST_F(DistributedRateLimitApiTest, BackendDownFailsOpen) {
  ASSERT_TRUE(registry_.replace({distributed("/api/v1/sales/*/orders", 1, 1)}).ok());
  backend_.setFailing(true);
  EXPECT_EQ(order("alice")->res.status, 201);
  EXPECT_EQ(order("alice")->res.status, 409);  // not limited: reached the core
  EXPECT_EQ(limiter_.backendErrors(), 2u);
}

TEST_F(DistributedRateLimitApiTest, ALocalQueueWaitIsServedBeforeTheBackendIsAsked) {
  ratelimit::RuleSpec queue = rule("/api/v1/sales/*/orders", 10, 1, ratelimit::OnLimit::kQueue,
                                   absl::Milliseconds(500));
  queue.scope = ratelimit::ScopeKind::kGlobal;
  ASSERT_TRUE(registry_.replace({queue, distributed("/api/**", 100, 100)}).ok());
  EXPECT_EQ(order("alice")->res.status, 201);
  const size_t asked = backend_.calls().size();
  auto waits = order("bob");
  EXPECT_EQ(waits->finishes, 0) << waits->res.status << " " << waits->res.body;
  ASSERT_EQ(waits->deferred_for.size(), 1u);
  EXPECT_EQ(waits->deferred_for[0], absl::Milliseconds(100));
  EXPECT_EQ(backend_.calls().size(), asked);  // not yet
  std::move(waits->pending[0])();
  EXPECT_EQ(backend_.calls().size(), asked + 1);
  EXPECT_EQ(waits->finishes, 1);
  EXPECT_EQ(waits->res.status, 201);
  EXPECT_EQ(waits->deferred_for.size(), 1u);  // not deferred twice
}

class FailClosedRateLimitApiTest : public DistributedRateLimitApiTest {
 protected:
  FailClosedRateLimitApiTest() : DistributedRateLimitApiTest(ratelimit::FailurePolicy::kClosed) {}
};

TEST_F(FailClosedRateLimitApiTest, BackendDownAnswers503) {
  ASSERT_TRUE(registry_.replace({distributed("/api/v1/sales/*/orders", 1, 1)}).ok());
  backend_.setFailing(true);
  auto ex = order("alice");
  EXPECT_EQ(ex->finishes, 1);
  EXPECT_EQ(ex->res.status, 503);
  EXPECT_EQ(ex->res.body, R"({"error":"unavailable"})");
  EXPECT_EQ(ex->res.retry_after_s, 1);
  EXPECT_TRUE(ex->res.ratelimit.empty());
  EXPECT_EQ(limiter_.backendErrors(), 1u);
}

}  // namespace
}  // namespace seckill::http
