// The shopper API without sockets: a fake Exchange in front of a whole
// embedded core (memory stores, manual clock).
#include "engine/http/shopper_api.h"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/http/api_deps.h"
#include "tests/support/sale_fixture.h"

namespace seckill::http {
namespace {

using seckill::testing::apiDepsOf;
using seckill::testing::SaleWorld;

class FakeExchange final : public Exchange {
 public:
  Request& request() override { return req; }
  Response& response() override { return res; }
  void finish() override {
    ++finishes;
    done.set_value();
  }
  void defer(absl::Duration, absl::AnyInvocable<void() &&> fn) override { std::move(fn)(); }

  Request req;
  Response res;
  int finishes = 0;
  std::promise<void> done;
};

struct Call {
  Method method = Method::kGet;
  std::string target;
  std::optional<std::string> user;
  std::string body;
  std::optional<std::string> idempotency_key;
};

class ShopperApiTest : public ::testing::Test {
 protected:
  explicit ShopperApiTest(std::vector<SaleSpec> specs = defaultSales())
      : world_(std::move(specs)),
        api_(
            [this] {
              return apiDepsOf(world_);
            }(),
            metrics_) {}

  static std::vector<SaleSpec> defaultSales() {
    SaleSpec open = SaleWorld::spec("s1", 2);
    open.name = "Phone \"drop\" \xE2\x9C\x93";
    SaleSpec tokened = SaleWorld::spec("tok", 5);
    tokened.require_token = true;
    SaleSpec later = SaleWorld::spec("later", 5);
    later.opens_at = absl::FromUnixSeconds(1'800'000'000) + absl::Hours(1);
    SaleSpec fifo = SaleWorld::spec("fifo", 3, StockStrategy::kFifo);
    return {open, tokened, later, fifo};
  }

  Response call(const Call& c) {
    auto ex = std::make_shared<FakeExchange>();
    ex->req.method = c.method;
    ex->req.target = c.target;
    if (c.user) {
      ex->req.user_id = *c.user;
      ex->req.user_id_count = 1;
    }
    ex->req.body = c.body;
    if (c.idempotency_key) {
      ex->req.idempotency_key = *c.idempotency_key;
      ex->req.has_idempotency_key = true;
    }
    std::future<void> done = ex->done.get_future();
    api_.handle(ex);
    EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(ex->finishes, 1);
    return ex->res;
  }

  Response order(std::string sale, std::string user, std::string body = {},
                 std::optional<std::string> key = std::nullopt) {
    return call({Method::kPost, "/api/v1/sales/" + sale + "/orders", user, body, key});
  }
  std::string token(std::string sale, std::string user) {
    Response r = call({Method::kPost, "/api/v1/sales/" + sale + "/tokens", user});
    EXPECT_EQ(r.status, 200) << r.body;
    return json(r)["token"].get<std::string>();
  }
  static nlohmann::json json(const Response& r) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  static std::string error(const Response& r) {
    nlohmann::json j = json(r);
    return j.contains("error") ? j["error"].get<std::string>() : "";
  }

  SaleWorld world_;
  HttpMetrics metrics_;
  ShopperApi api_;
};

TEST_F(ShopperApiTest, Healthz) {
  Response r = call({Method::kGet, "/healthz"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(r.route, Route::kHealthz);
}

TEST_F(ShopperApiTest, DescribeSale) {
  Response r = call({Method::kGet, "/api/v1/sales/s1"});
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = json(r);
  EXPECT_EQ(j["id"], "s1");
  EXPECT_EQ(j["name"], "Phone \"drop\" \xE2\x9C\x93");
  EXPECT_EQ(j["stock_total"], 2);
  EXPECT_EQ(j["stock_left"], 2);
  EXPECT_EQ(j["state"], "open");
  EXPECT_TRUE(j["opens_at"].is_null());
  EXPECT_TRUE(j["closes_at"].is_null());

  j = json(call({Method::kGet, "/api/v1/sales/later"}));
  EXPECT_EQ(j["state"], "scheduled");
  EXPECT_EQ(j["opens_at"], "2027-01-15T09:00:00Z");
}

TEST_F(ShopperApiTest, UnknownOrMalformedSaleIs404) {
  Response r = call({Method::kGet, "/api/v1/sales/nope"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error(r), "unknown_sale");
  r = call({Method::kGet, "/api/v1/sales/bad!id"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error(r), "unknown_sale");
  r = order("nope", "u1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error(r), "unknown_sale");
}

TEST_F(ShopperApiTest, TokenNeedsAUser) {
  Response r = call({Method::kPost, "/api/v1/sales/s1/tokens"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error(r), "invalid_user_id");
  r = call({Method::kPost, "/api/v1/sales/s1/tokens", "u1"});
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = json(r);
  EXPECT_FALSE(j["token"].get<std::string>().empty());
  EXPECT_EQ(j["expires_in_s"], 300);
}

TEST_F(ShopperApiTest, OrderCreatedDuplicateSoldOut) {
  Response r = order("s1", "alice");
  ASSERT_EQ(r.status, 201) << r.body;
  nlohmann::json j = json(r);
  EXPECT_FALSE(j["order_id"].get<std::string>().empty());
  EXPECT_EQ(j["sale_id"], "s1");
  EXPECT_EQ(j["user_id"], "alice");
  EXPECT_EQ(j["state"], "pending_payment");
  EXPECT_EQ(j["pay_before"], "2027-01-15T08:15:00Z");
  EXPECT_FALSE(r.replayed);

  r = order("s1", "alice");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "duplicate");
  EXPECT_EQ(order("s1", "bob").status, 201);
  r = order("s1", "carol");
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(error(r), "sold_out");
  EXPECT_EQ(json(call({Method::kGet, "/api/v1/sales/s1"}))["state"], "sold_out");
}

TEST_F(ShopperApiTest, InvalidUserIds) {
  for (std::optional<std::string> user :
       {std::optional<std::string>(), std::optional<std::string>(""),
        std::optional<std::string>("has space"), std::optional<std::string>(std::string(65, 'a')),
        std::optional<std::string>("semi;colon")}) {
    Response r = order("s1", user.value_or(""));
    if (!user) r = call({Method::kPost, "/api/v1/sales/s1/orders"});
    EXPECT_EQ(r.status, 400) << user.value_or("<none>");
    EXPECT_EQ(error(r), "invalid_user_id");
  }
  EXPECT_EQ(order("s1", std::string(64, 'a')).status, 201);

  // Two X-User-Id headers are ambiguous: rejected.
  auto ex = std::make_shared<FakeExchange>();
  ex->req.method = Method::kPost;
  ex->req.target = "/api/v1/sales/s1/orders";
  ex->req.user_id = "u2";
  ex->req.user_id_count = 2;
  api_.handle(ex);
  EXPECT_EQ(ex->res.status, 400);
  // Nothing changed.
  EXPECT_EQ(world_.stockLeft("s1"), 1);
}

TEST_F(ShopperApiTest, EveryUserRouteChecksTheUser) {
  for (const Call& c : std::vector<Call>{{Method::kPost, "/api/v1/sales/s1/tokens"},
                                         {Method::kPost, "/api/v1/sales/s1/orders"},
                                         {Method::kPost, "/api/v1/orders/o1/pay"},
                                         {Method::kPost, "/api/v1/orders/o1/cancel"},
                                         {Method::kGet, "/api/v1/orders/o1"}}) {
    Response r = call(c);
    EXPECT_EQ(r.status, 400) << c.target;
    EXPECT_EQ(error(r), "invalid_user_id") << c.target;
  }
}

TEST_F(ShopperApiTest, RequireTokenRejectsMissingOrForeignToken) {
  Response r = order("tok", "u1");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error(r), "invalid_token");
  std::string t = token("tok", "u2");
  r = order("tok", "u1", {}, t);  // someone else's token
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(world_.stockLeft("tok"), 5);
}

TEST_F(ShopperApiTest, TokenInHeaderOrBodyHeaderWins) {
  std::string t1 = token("tok", "u1");
  EXPECT_EQ(order("tok", "u1", {}, t1).status, 201);

  std::string t2 = token("tok", "u2");
  EXPECT_EQ(order("tok", "u2", nlohmann::json{{"token", t2}}.dump()).status, 201);

  std::string t3 = token("tok", "u3");
  Response r = order("tok", "u3", nlohmann::json{{"token", t3}}.dump(), "not-the-token");
  EXPECT_EQ(r.status, 403) << "the header wins over the body";
  r = order("tok", "u3", nlohmann::json{{"token", "garbage"}}.dump(), t3);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ShopperApiTest, ReplayedTokenRepeatsTheAnswer) {
  std::string t = token("tok", "u1");
  Response first = order("tok", "u1", {}, t);
  ASSERT_EQ(first.status, 201);
  Response again = order("tok", "u1", {}, t);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_TRUE(again.replayed);
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(world_.stockLeft("tok"), 4);
  EXPECT_EQ(world_.orders.counts().pending_payment, 1);
}

TEST_F(ShopperApiTest, MalformedBodies) {
  for (std::string body : {"not json", "[1,2]", "\"str\"", "{\"token\":", "42"}) {
    Response r = order("s1", "u1", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(error(r), "malformed_json") << body;
  }
  Response r = order("s1", "u1", R"({"token": 5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error(r), "malformed_json");
  EXPECT_EQ(json(r)["message"], "\"token\" must be a string");
  EXPECT_EQ(world_.stockLeft("s1"), 2) << "bad input changes nothing";

  EXPECT_EQ(order("s1", "u1", "  \r\n").status, 201) << "a blank body is no body";
  EXPECT_EQ(order("s1", "u2", R"({"other": 1, "token": null})").status, 201);
  EXPECT_EQ(order("s1", "u3", "{}").status, 410) << "sold out, but the body was fine";
  EXPECT_EQ(order("s1", "u4", " { \n } ").status, 410);
  EXPECT_EQ(order("s1", "u5", "{} x").status, 400);
  EXPECT_EQ(order("s1", "u6", "{}}").status, 400);
}

TEST_F(ShopperApiTest, SaleNotOpen) {
  Response r = order("later", "u1");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "sale_not_open");
}

TEST_F(ShopperApiTest, PayCancelGet) {
  Response created = order("s1", "alice");
  ASSERT_EQ(created.status, 201);
  const std::string id = json(created)["order_id"];
  const std::string base = "/api/v1/orders/" + id;

  Response r = call({Method::kGet, base, "alice"});
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = json(r);
  EXPECT_EQ(j["order_id"], id);
  EXPECT_EQ(j["state"], "pending_payment");
  EXPECT_EQ(j["created_at"], "2027-01-15T08:00:00Z");
  EXPECT_FALSE(j.contains("cancel_reason"));

  r = call({Method::kGet, base, "mallory"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error(r), "forbidden");
  r = call({Method::kPost, base + "/pay", "mallory"});
  EXPECT_EQ(r.status, 403);

  r = call({Method::kPost, base + "/pay", "alice"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["state"], "paid");
  EXPECT_EQ(json(r)["order_id"], id);
  r = call({Method::kPost, base + "/pay", "alice"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "already_paid");
  r = call({Method::kPost, base + "/cancel", "alice"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "already_paid");
}

TEST_F(ShopperApiTest, CancelReturnsTheUnit) {
  Response created = order("s1", "alice");
  const std::string id = json(created)["order_id"];
  EXPECT_EQ(world_.stockLeft("s1"), 1);
  Response r = call({Method::kPost, "/api/v1/orders/" + id + "/cancel", "alice"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["state"], "cancelled");
  EXPECT_EQ(json(r)["cancel_reason"], "shopper");
  EXPECT_EQ(world_.stockLeft("s1"), 2);
  r = call({Method::kPost, "/api/v1/orders/" + id + "/pay", "alice"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "order_cancelled");
}

TEST_F(ShopperApiTest, ExpiredOrder) {
  const std::string id = json(order("s1", "alice"))["order_id"];
  world_.clock.advance(absl::Minutes(16));
  world_.consumer->runOnce(world_.clock.now());
  Response r = call({Method::kPost, "/api/v1/orders/" + id + "/pay", "alice"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error(r), "order_expired");
  r = call({Method::kGet, "/api/v1/orders/" + id, "alice"});
  EXPECT_EQ(json(r)["state"], "cancelled");
  EXPECT_EQ(json(r)["cancel_reason"], "expired");
  EXPECT_EQ(world_.stockLeft("s1"), 2);
}

TEST_F(ShopperApiTest, UnknownOrMalformedOrderIs404) {
  Response r = call({Method::kGet, "/api/v1/orders/nope-1", "alice"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error(r), "unknown_order");
  for (const std::string& bad :
       std::vector<std::string>{"bad!id", "", std::string(65, 'x'), "a%2Fb"}) {
    r = call({Method::kPost, "/api/v1/orders/" + bad + "/pay", "alice"});
    EXPECT_EQ(r.status, 404) << bad;
    EXPECT_EQ(error(r), "unknown_order") << bad;
  }
}

TEST_F(ShopperApiTest, NotFoundAndMethodNotAllowed) {
  Response r = call({Method::kGet, "/nope"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error(r), "not_found");
  EXPECT_EQ(r.route, Route::kOther);
  r = call({Method::kGet, "/api/v1/sales/s1/orders", "u1"});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(error(r), "method_not_allowed");
  EXPECT_EQ(r.allow, "POST");
  r = call({Method::kOther, "/api/v1/orders/o1"});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(world_.stockLeft("s1"), 2);
}

TEST_F(ShopperApiTest, FifoSaleCompletesOnTheConsumerThread) {
  EXPECT_EQ(order("fifo", "a").status, 201);
  EXPECT_EQ(order("fifo", "a").status, 409);
  EXPECT_EQ(order("fifo", "b").status, 201);
  EXPECT_EQ(order("fifo", "c").status, 201);
  EXPECT_EQ(order("fifo", "d").status, 410);
}

TEST_F(ShopperApiTest, Metrics) {
  order("s1", "alice");
  metrics_.recordRequest(Route::kOrder, 201, 10);
  Response r = call({Method::kGet, "/metrics"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, ContentType::kPrometheus);
  EXPECT_NE(r.body.find("seckill_http_requests_total{route=\"order\",code=\"201\"} 1\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("seckill_orders{state=\"pending_payment\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("seckill_stock_left{sale=\"s1\"} 1\n"), std::string::npos);
  EXPECT_NE(r.body.find("seckill_stock_left{sale=\"fifo\"} 3\n"), std::string::npos);
  EXPECT_NE(r.body.find("seckill_http_connections 0\n"), std::string::npos);
}

TEST(ShopperApiOutcomeTest, ServiceUnavailableAsksToRetry) {
  Response res;
  answerOutcome(res, Outcome::kBusy);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.retry_after_s, 1);
  EXPECT_EQ(res.body, R"({"error":"busy"})");
  res.clear();
  answerOutcome(res, Outcome::kRateLimited);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.retry_after_s, 0);
}

TEST(ShopperApiOutcomeTest, ParseErrors) {
  Response res;
  ShopperApi::answerParseError(res, 431);
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(res.body, R"({"error":"headers_too_large"})");
  EXPECT_TRUE(res.close);
  ShopperApi::answerParseError(res, 413);
  EXPECT_EQ(res.body, R"({"error":"body_too_large"})");
  ShopperApi::answerParseError(res, 400);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
}

}  // namespace
}  // namespace seckill::http
