// End-to-end: the real seckill-engine binary, driven over HTTP.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/http/http_test_client.h"

namespace seckill::e2e {
namespace {

using http::testing::Reply;
using http::testing::TestClient;

constexpr char kSales[] = R"(
[orders]
cancel_poll = "50ms"

[[sale]]
id = "phone-drop"
name = "Phone \"drop\" ✓"
stock = 2
pay_timeout = "15m"
dedup_ttl = "5m"
strategy = "atomic"

[[sale]]
id = "tokened"
name = "Tokened"
stock = 5
require_token = true

[[sale]]
id = "quick"
name = "Quick expiry"
stock = 3
pay_timeout = "300ms"

[[sale]]
id = "storm"
name = "Storm"
stock = 500
strategy = "counter_gate"

[[sale]]
id = "later"
name = "Later"
stock = 5
opens_at = "2099-01-01T00:00:00Z"
)";

class EngineE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(engine_.start(kSales)); }
  void TearDown() override { EXPECT_TRUE(engine_.stop()); }

  int64_t stockLeft(const std::string& sale) {
    TestClient c(engine_.port());
    Reply r = c.get("/api/v1/sales/" + sale);
    EXPECT_EQ(r.status, 200) << r.body;
    nlohmann::json j = r.json();
    return j.is_object() && j.contains("stock_left") ? j["stock_left"].get<int64_t>() : -1;
  }

  std::string metrics() {
    TestClient c(engine_.port());
    return c.get("/metrics").body;
  }

  EngineProcess engine_;
};

TEST_F(EngineE2eTest, DescribesASale) {
  TestClient c(engine_.port());
  Reply r = c.get("/api/v1/sales/phone-drop");
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = r.json();
  EXPECT_EQ(j["id"], "phone-drop");
  EXPECT_EQ(j["name"], "Phone \"drop\" ✓");
  EXPECT_EQ(j["stock_total"], 2);
  EXPECT_EQ(j["stock_left"], 2);
  EXPECT_EQ(j["state"], "open");
  EXPECT_TRUE(j["opens_at"].is_null());
  EXPECT_TRUE(j["closes_at"].is_null());

  j = c.get("/api/v1/sales/later").json();
  EXPECT_EQ(j["state"], "scheduled");
  EXPECT_EQ(j["opens_at"], "2099-01-01T00:00:00Z");
}

TEST_F(EngineE2eTest, TokenOrderDuplicateSoldOut) {
  TestClient c(engine_.port());
  Reply t = c.post("/api/v1/sales/phone-drop/tokens", "alice");
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_FALSE(t.str("token").empty());
  EXPECT_GT(t.json()["expires_in_s"].get<int>(), 0);

  Reply r = c.post("/api/v1/sales/phone-drop/orders", "alice");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(r.str("order_id").empty());
  EXPECT_EQ(r.str("sale_id"), "phone-drop");
  EXPECT_EQ(r.str("user_id"), "alice");
  EXPECT_EQ(r.str("state"), "pending_payment");
  EXPECT_FALSE(r.str("pay_before").empty());

  r = c.post("/api/v1/sales/phone-drop/orders", "alice");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "duplicate");
  EXPECT_EQ(c.post("/api/v1/sales/phone-drop/orders", "bob").status, 201);
  r = c.post("/api/v1/sales/phone-drop/orders", "carol");
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(r.str("error"), "sold_out");
  EXPECT_EQ(c.get("/api/v1/sales/phone-drop").str("state"), "sold_out");

  r = c.post("/api/v1/sales/later/orders", "dave");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "sale_not_open");
}

TEST_F(EngineE2eTest, PayAndCancel) {
  TestClient c(engine_.port());
  const std::string a = c.post("/api/v1/sales/phone-drop/orders", "alice").str("order_id");
  const std::string b = c.post("/api/v1/sales/phone-drop/orders", "bob").str("order_id");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(stockLeft("phone-drop"), 0);

  Reply r = c.post("/api/v1/orders/" + a + "/pay", "mallory");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.str("error"), "forbidden");
  r = c.post("/api/v1/orders/" + a + "/pay", "alice");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("state"), "paid");
  EXPECT_EQ(r.str("order_id"), a);
  r = c.post("/api/v1/orders/" + a + "/pay", "alice");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "already_paid");
  r = c.post("/api/v1/orders/" + a + "/cancel", "alice");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "already_paid");

  r = c.post("/api/v1/orders/" + b + "/cancel", "bob");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.str("state"), "cancelled");
  EXPECT_EQ(stockLeft("phone-drop"), 1) << "the cancelled unit is back";
  r = c.post("/api/v1/orders/" + b + "/pay", "bob");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "order_cancelled");

  r = c.get("/api/v1/orders/" + b, "bob");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.str("state"), "cancelled");
  EXPECT_FALSE(r.str("created_at").empty());
  EXPECT_FALSE(r.str("cancel_reason").empty());
  EXPECT_EQ(c.get("/api/v1/orders/" + b, "alice").status, 403);

  // The unit can be sold again; bob's dedup key was released with it.
  EXPECT_EQ(c.post("/api/v1/sales/phone-drop/orders", "bob").status, 201);
  const std::string m = metrics();
  EXPECT_NE(m.find("seckill_orders{state=\"paid\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("seckill_orders{state=\"cancelled\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("seckill_orders{state=\"pending_payment\"} 1\n"), std::string::npos) << m;
}

TEST_F(EngineE2eTest, UnpaidOrderExpires) {
  TestClient c(engine_.port());
  Reply r = c.post("/api/v1/sales/quick/orders", "slow-payer");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.str("order_id");
  EXPECT_EQ(stockLeft("quick"), 2);

  const auto deadline = Clock::now() + std::chrono::seconds(15);
  std::string state;
  while (Clock::now() < deadline) {
    r = c.get("/api/v1/orders/" + id, "slow-payer");
    state = r.str("state");
    if (state == "cancelled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(state, "cancelled") << r.body;
  EXPECT_EQ(r.str("cancel_reason"), "expired");
  EXPECT_EQ(stockLeft("quick"), 3);
  r = c.post("/api/v1/orders/" + id + "/pay", "slow-payer");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.str("error"), "order_expired");
}

TEST_F(EngineE2eTest, ReplayedTokenGivesTheSameOrder) {
  TestClient c(engine_.port());
  const std::string token = c.post("/api/v1/sales/tokened/tokens", "u1").str("token");
  ASSERT_FALSE(token.empty());
  Reply first = c.post("/api/v1/sales/tokened/orders", "u1", {}, {{"Idempotency-Key", token}});
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = c.post("/api/v1/sales/tokened/orders", "u1", {}, {{"Idempotency-Key", token}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.str("order_id"), first.str("order_id"));
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  // The token in the body works as well.
  Reply body = c.post("/api/v1/sales/tokened/orders", "u1", "{\"token\":\"" + token + "\"}");
  EXPECT_EQ(body.str("order_id"), first.str("order_id"));
  EXPECT_EQ(stockLeft("tokened"), 4) << "one unit, however often replayed";
  EXPECT_NE(metrics().find("seckill_orders{state=\"pending_payment\"} 1\n"), std::string::npos);
}

TEST_F(EngineE2eTest, RequireTokenRejectsMissingToken) {
  TestClient c(engine_.port());
  Reply r = c.post("/api/v1/sales/tokened/orders", "u1");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.str("error"), "invalid_token");
  r = c.post("/api/v1/sales/tokened/orders", "u1", {}, {{"Idempotency-Key", "made-up"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(stockLeft("tokened"), 5);
}

TEST_F(EngineE2eTest, BadInputIsRejectedAndChangesNothing) {
  TestClient c(engine_.port());
  struct Case {
    std::string method, target;
    http::testing::Headers headers;
    std::string body;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/sales/phone-drop/orders", {}, "", 400, "invalid_user_id"},
      {"POST",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", "bad user"}},
       "",
       400,
       "invalid_user_id"},
      {"POST",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", std::string(65, 'u')}},
       "",
       400,
       "invalid_user_id"},
      {"POST", "/api/v1/sales/phone-drop/tokens", {}, "", 400, "invalid_user_id"},
      {"POST", "/api/v1/orders/x-1/pay", {}, "", 400, "invalid_user_id"},
      {"POST", "/api/v1/orders/x-1/cancel", {}, "", 400, "invalid_user_id"},
      {"GET", "/api/v1/orders/x-1", {}, "", 400, "invalid_user_id"},
      {"GET", "/nowhere", {}, "", 404, "not_found"},
      {"GET", "/api/v1/sales/no-such-sale", {}, "", 404, "unknown_sale"},
      {"POST", "/api/v1/sales/no-such-sale/orders", {{"X-User-Id", "u"}}, "", 404, "unknown_sale"},
      {"GET", "/api/v1/orders/no-such-order", {{"X-User-Id", "u"}}, "", 404, "unknown_order"},
      {"POST", "/api/v1/orders/bad!order/pay", {{"X-User-Id", "u"}}, "", 404, "unknown_order"},
      {"GET",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", "u"}},
       "",
       405,
       "method_not_allowed"},
      {"PUT", "/healthz", {}, "", 405, "method_not_allowed"},
      {"POST",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", "u"}},
       "{not json",
       400,
       "malformed_json"},
      {"POST",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", "u"}},
       "[]",
       400,
       "malformed_json"},
      {"POST",
       "/api/v1/sales/phone-drop/orders",
       {{"X-User-Id", "u"}},
       R"({"token":1})",
       400,
       "malformed_json"},
  };
  for (const Case& k : cases) {
    Reply r = c.request(k.method, k.target, k.headers, k.body);
    EXPECT_EQ(r.status, k.status) << k.method << " " << k.target << ": " << r.body;
    EXPECT_EQ(r.str("error"), k.error) << k.method << " " << k.target;
    if (k.status == 405) {
      EXPECT_FALSE(r.header("Allow").empty());
    }
  }
  EXPECT_EQ(c.get("/healthz").status, 200) << "4xx on a well-formed request keeps the connection";

  {
    TestClient big(engine_.port());
    Reply r = big.post("/api/v1/sales/phone-drop/orders", "u", std::string(64 * 1024, ' '));
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.str("error"), "body_too_large");
    EXPECT_TRUE(big.closedByPeer());
  }
  {
    TestClient big(engine_.port());
    Reply r = big.request("GET", "/healthz", {{"X-Filler", std::string(32 * 1024, 'h')}});
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.str("error"), "headers_too_large");
    EXPECT_TRUE(big.closedByPeer());
  }
  {
    TestClient raw(engine_.port());
    ASSERT_TRUE(raw.sendRaw("THIS IS NOT HTTP\r\n\r\n"));
    Reply r = raw.readReply();
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(raw.closedByPeer());
  }

  EXPECT_EQ(stockLeft("phone-drop"), 2);
  const std::string m = metrics();
  EXPECT_NE(m.find("seckill_orders{state=\"pending_payment\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("seckill_http_requests_total{route=\"order\",code=\"400\"}"), std::string::npos);
}

TEST_F(EngineE2eTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestClient c(engine_.port());
  for (int i = 0; i < 25; ++i) {
    Reply r = i % 2 == 0 ? c.get("/healthz") : c.get("/api/v1/sales/storm");
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << c.error();
    EXPECT_TRUE(r.keep_alive);
  }
  const std::string m = metrics();
  EXPECT_NE(m.find("seckill_http_requests_total{route=\"healthz\",code=\"200\"}"),
            std::string::npos);
  EXPECT_NE(m.find("seckill_http_requests_total{route=\"sale\",code=\"200\"} 12\n"),
            std::string::npos)
      << m;
}

TEST_F(EngineE2eTest, MetricsExposition) {
  TestClient c(engine_.port());
  c.post("/api/v1/sales/storm/orders", "m1");
  Reply r = c.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").rfind("text/plain", 0), 0u);
  for (const char* series :
       {"# TYPE seckill_http_requests_total counter",
        "seckill_http_requests_total{route=\"order\",code=\"201\"} 1",
        "# TYPE seckill_http_request_duration_seconds histogram",
        "seckill_http_request_duration_seconds_bucket{le=\"+Inf\"}", "seckill_http_connections ",
        "seckill_orders{state=\"pending_payment\"} 1", "seckill_stock_left{sale=\"storm\"} 499",
        "seckill_stock_left{sale=\"phone-drop\"} 2"}) {
    EXPECT_NE(r.body.find(series), std::string::npos) << series << "\n" << r.body;
  }
}

TEST_F(EngineE2eTest, StormSellsExactlyTheStockOncePerUser) {
  constexpr int kThreads = 8;
  constexpr int kUsersPerThread = 150;  // 1200 users for 500 units
  std::atomic<int> created{0}, sold_out{0}, duplicate{0}, other{0};
  std::mutex mu;
  std::map<std::string, std::string> order_of_user;  // user -> order id
  std::set<std::string> order_ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TestClient c(engine_.port());
      for (int i = 0; i < kUsersPerThread; ++i) {
        const std::string user = "storm-" + std::to_string(t) + "-" + std::to_string(i);
        // Each user tries twice: the second attempt must never create a second order.
        for (int attempt = 0; attempt < 2; ++attempt) {
          Reply r = c.post("/api/v1/sales/storm/orders", user);
          if (r.status == 201) {
            ++created;
            std::lock_guard<std::mutex> lock(mu);
            EXPECT_TRUE(order_of_user.emplace(user, r.str("order_id")).second) << user;
            EXPECT_TRUE(order_ids.insert(r.str("order_id")).second);
          } else if (r.status == 410) {
            ++sold_out;
          } else if (r.status == 409 && r.str("error") == "duplicate") {
            ++duplicate;
          } else {
            ++other;
            ADD_FAILURE() << r.status << " " << r.body << " " << c.error();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 500);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(created + sold_out + duplicate, kThreads * kUsersPerThread * 2);
  EXPECT_EQ(order_ids.size(), 500u);
  EXPECT_EQ(stockLeft("storm"), 0);
  const std::string m = metrics();
  EXPECT_NE(m.find("seckill_orders{state=\"pending_payment\"} 500\n"), std::string::npos) << m;
  EXPECT_NE(m.find("seckill_http_requests_total{route=\"order\",code=\"201\"} 500\n"),
            std::string::npos);
}

}  // namespace
}  // namespace seckill::e2e
