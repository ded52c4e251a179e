// The shopper API behind [identity]: a verified user or a 401 that touches nothing (no limiter
// key, no token, no stock), and client addresses that a client cannot forge.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/http/metrics.h"
#include "engine/http/shopper_api.h"
#include "engine/identity/identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/http/api_deps.h"
#include "tests/support/jwt_mint.h"
#include "tests/support/sale_fixture.h"

namespace seckill::http {
namespace {

using seckill::testing::apiDepsOf;
using seckill::testing::mintHs256;
using seckill::testing::SaleWorld;
using ::testing::HasSubstr;

const std::string kSecret = "0123456789abcdef0123456789abcdef-api-secret";

class InlineExchange final : public Exchange {
 public:
  Request& request() override { return req; }
  Response& response() override { return res; }
  void finish() override { ++finishes; }
  void defer(absl::Duration, absl::AnyInvocable<void() &&> fn) override { std::move(fn)(); }
  Request req;
  Response res;
  int finishes = 0;
};

ratelimit::RuleSpec rule(ratelimit::ScopeKind scope, int64_t burst) {
  ratelimit::RuleSpec r;
  r.path = "/api/v1/**";
  r.scope = scope;
  r.rate = 1;
  r.per = absl::Hours(1);
  r.burst = burst;
  return r;
}

class IdentityApiTest : public ::testing::Test {
 protected:
  void start(identity::IdentitySettings settings, std::vector<ratelimit::RuleSpec> rules = {}) {
    auto id = identity::ShopperIdentity::make(settings);
    ASSERT_TRUE(id.ok()) << id.status();
    identity_ = std::move(*id);
    ASSERT_TRUE(registry_.replace(std::move(rules)).ok());
    ShopperApiDeps deps = apiDepsOf(world_);
    deps.identity = identity_.get();
    deps.limiter = &limiter_;
    api_ = std::make_unique<ShopperApi>(std::move(deps), metrics_);
  }
  static identity::IdentitySettings jwt() {
    identity::IdentitySettings s;
    s.kind = identity::IdentityKind::kJwt;
    s.secret = kSecret;
    return s;
  }
  std::string token(std::string_view user, absl::Duration valid = absl::Minutes(10)) {
    return mintHs256(kSecret, absl::StrCat(R"({"sub":")", absl::string_view(user.data(), user.size()),
                                           R"(","exp":)",
                                           absl::ToUnixSeconds(world_.clock.now() + valid), "}"));
  }

  struct Call {
    Method method = Method::kPost;
    std::string target = "/api/v1/sales/s1/orders";
    std::string peer = "203.0.113.10";
    std::string authorization;
    std::string user;  // the user header
    std::string forwarded_for;
  };
  std::shared_ptr<InlineExchange> send(const Call& c) {
    auto ex = std::make_shared<InlineExchange>();
    Request& r = ex->req;
    r.method = c.method;
    r.method_name = c.method == Method::kGet ? "GET" : "POST";
    r.target = c.target;
    r.remote_ip = c.peer;
    r.user_header = api_->userHeader();
    if (!c.authorization.empty()) {
      r.authorization = c.authorization;
      r.authorization_count = 1;
    }
    if (!c.user.empty()) {
      r.user_id = c.user;
      r.user_id_count = 1;
    }
    r.forwarded_for = c.forwarded_for;
    api_->handle(ex);
    EXPECT_EQ(ex->finishes, 1);
    return ex;
  }
  size_t limiterKeys() const {
    size_t n = 0;
    for (const auto& r : registry_.current()->rules()) n += r.state->size();
    return n;
  }
  std::string metrics() {
    auto ex = send({.method = Method::kGet, .target = "/metrics"});
    return ex->res.body;
  }

  SaleWorld world_{{SaleWorld::spec("s1", 100)}};
  ratelimit::RuleRegistry registry_;
  ratelimit::RateLimiter limiter_{registry_};
  HttpMetrics metrics_;
  std::unique_ptr<identity::ShopperIdentity> identity_;
  std::unique_ptr<ShopperApi> api_;
};

TEST_F(IdentityApiTest, TheOrderBelongsToTheTokensSubjectNotToXUserId) {
  start(jwt());
  auto ex = send({.authorization = "Bearer " + token("alice"), .user = "mallory"});
  ASSERT_EQ(ex->res.status, 201) << ex->res.body;
  EXPECT_THAT(ex->res.body, HasSubstr(R"("user_id":"alice")"));
  EXPECT_EQ(world_.stockLeft("s1"), 99);
}

TEST_F(IdentityApiTest, ARefusedIdentityAnswers401AndTouchesNothing) {
  start(jwt(), {rule(ratelimit::ScopeKind::kUser, 5), rule(ratelimit::ScopeKind::kIp, 5)});
  const std::string forged =
      mintHs256("another-secret-another-secret-another-secret",
                absl::StrCat(R"({"sub":"alice","exp":)",
                             absl::ToUnixSeconds(world_.clock.now() + absl::Minutes(1)), "}"));
  struct Case {
    std::string authorization;
    std::string_view message;
  } cases[] = {
      {"Bearer " + forged, "signature does not verify"},
      {"Bearer " + token("alice", -absl::Minutes(5)), "has expired"},
      {"Bearer not.a.jwt", "malformed"},
      {"Basic YWxpY2U6cHc=", "malformed"},
      {"", "needs a verified shopper identity"},
  };
  for (const Case& c : cases) {
    for (const char* target : {"/api/v1/sales/s1/orders", "/api/v1/sales/s1/tokens"}) {
      auto ex = send({.target = target, .authorization = c.authorization, .user = "alice"});
      EXPECT_EQ(ex->res.status, 401) << c.authorization;
      EXPECT_THAT(ex->res.body, HasSubstr(R"({"error":"unauthorized","message":")"));
      EXPECT_THAT(ex->res.body, HasSubstr(c.message)) << c.authorization;
      EXPECT_THAT(std::string(ex->res.www_authenticate), HasSubstr("Bearer realm=\"seckill\""));
      EXPECT_EQ(ex->res.route, std::string_view(target).ends_with("orders") ? Route::kOrder
                                                                             : Route::kToken);
    }
  }
  EXPECT_EQ(world_.stockLeft("s1"), 100);
  EXPECT_EQ(limiterKeys(), 0u) << "no limiter key for a request that was refused";
  // Tokens: none issued; the refusals are counted by reason.
  const std::string m = metrics();
  EXPECT_THAT(m, HasSubstr("seckill_identity_refused_total{reason=\"signature\"} 2"));
  EXPECT_THAT(m, HasSubstr("seckill_identity_refused_total{reason=\"expired\"} 2"));
  EXPECT_THAT(m, HasSubstr("seckill_identity_refused_total{reason=\"malformed\"} 4"));
  EXPECT_THAT(m, HasSubstr("seckill_identity_refused_total{reason=\"missing\"} 2"));
}

TEST_F(IdentityApiTest, RoutesWithoutAUserNeedNoIdentityButABadOneIsStillRefused) {
  start(jwt());
  EXPECT_EQ(send({.method = Method::kGet, .target = "/api/v1/sales/s1"})->res.status, 200);
  EXPECT_EQ(send({.method = Method::kGet, .target = "/healthz"})->res.status, 200);
  auto bad = send({.method = Method::kGet, .target = "/api/v1/sales/s1",
                   .authorization = "Bearer " + token("alice", -absl::Hours(1))});
  EXPECT_EQ(bad->res.status, 401);
  EXPECT_EQ(bad->res.www_authenticate, "Bearer realm=\"seckill\", error=\"invalid_token\"");
}

TEST_F(IdentityApiTest, UserScopedRulesKeyOnTheVerifiedUser) {
  start(jwt(), {rule(ratelimit::ScopeKind::kUser, 1)});
  // Bob cannot spend alice's budget by writing her name in X-User-Id, nor dodge his own.
  EXPECT_EQ(send({.authorization = "Bearer " + token("bob"), .user = "alice"})->res.status, 201);
  EXPECT_EQ(send({.authorization = "Bearer " + token("bob"), .user = "carol"})->res.status, 429);
  EXPECT_EQ(send({.authorization = "Bearer " + token("alice")})->res.status, 201);
}

TEST_F(IdentityApiTest, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  identity::IdentitySettings s;  // kind none: the user as sent, addresses checked
  s.trusted_proxies = {"10.0.0.0/8"};
  start(s, {rule(ratelimit::ScopeKind::kIp, 1)});
  // Through the trusted proxy: each client has its own budget.
  EXPECT_EQ(send({.peer = "10.0.0.2", .user = "u1", .forwarded_for = "198.51.100.1"})->res.status,
            201);
  EXPECT_EQ(send({.peer = "10.0.0.2", .user = "u2", .forwarded_for = "198.51.100.2"})->res.status,
            201);
  EXPECT_EQ(send({.peer = "10.0.0.2", .user = "u3", .forwarded_for = "198.51.100.1"})->res.status,
            429);
  // A client that reaches the engine directly and writes the header itself: its own address.
  EXPECT_EQ(
      send({.peer = "203.0.113.7", .user = "u4", .forwarded_for = "198.51.100.3"})->res.status,
      201);
  EXPECT_EQ(
      send({.peer = "203.0.113.7", .user = "u5", .forwarded_for = "198.51.100.4"})->res.status,
      429);
  // Prepending a fake hop to the trusted proxy's chain changes nothing either.
  EXPECT_EQ(send({.peer = "10.0.0.2", .user = "u6", .forwarded_for = "1.2.3.4, 198.51.100.2"})
                ->res.status,
            429);
}

TEST_F(IdentityApiTest, TheGatewayHeaderCountsOnlyFromTheGateway) {
  identity::IdentitySettings s;
  s.kind = identity::IdentityKind::kHeader;
  s.header = "X-Authenticated-User";
  s.trusted_proxies = {"10.0.0.0/8"};
  start(s);
  EXPECT_EQ(api_->userHeader(), "x-authenticated-user");
  auto ok = send({.peer = "10.0.0.2", .user = "dave"});
  EXPECT_EQ(ok->res.status, 201);
  EXPECT_THAT(ok->res.body, HasSubstr(R"("user_id":"dave")"));
  auto forged = send({.peer = "203.0.113.9", .user = "erin"});
  EXPECT_EQ(forged->res.status, 401);
  EXPECT_THAT(forged->res.body, HasSubstr("untrusted address"));
  EXPECT_EQ(world_.stockLeft("s1"), 99);
}

TEST_F(IdentityApiTest, SignedUserIdsAreVerified) {
  identity::IdentitySettings s;
  s.kind = identity::IdentityKind::kHmac;
  s.secret = kSecret;
  start(s);
  const std::string good =
      identity::signUserId(kSecret, "frank", world_.clock.now() + absl::Minutes(5));
  auto ok = send({.user = good});
  ASSERT_EQ(ok->res.status, 201) << ok->res.body;
  EXPECT_THAT(ok->res.body, HasSubstr(R"("user_id":"frank")"));
  auto unsigned_id = send({.user = "grace"});
  EXPECT_EQ(unsigned_id->res.status, 401);
  EXPECT_EQ(unsigned_id->res.www_authenticate, "SignedUserId realm=\"seckill\"");
  EXPECT_EQ(world_.stockLeft("s1"), 99);
}

}  // namespace
}  // namespace seckill::http
