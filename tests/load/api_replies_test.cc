#include "bench/load/api_replies.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

TEST(SaleJsonTest, ReadsTheEngineSale) {
  absl::StatusOr<SaleSnapshot> s =
      parseSaleJson(R"({"id":"demo","name":"Demo drop","stock_total":10000,"stock_left":9500,)"
                    R"("state":"open","opens_at":null,"closes_at":"2030-01-01T00:00:00Z"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id, "demo");
  EXPECT_EQ(s->stock_total, 10000);
  EXPECT_EQ(s->stock_left, 9500);
  EXPECT_EQ(s->sold(), 500);
  EXPECT_EQ(s->state, "open");
}

TEST(SaleJsonTest, RejectsWhatIsNotASale) {
  EXPECT_FALSE(parseSaleJson("not json").ok());
  EXPECT_FALSE(parseSaleJson("[1,2]").ok());
  EXPECT_FALSE(parseSaleJson(R"({"id":"d","stock_total":10})").ok());
  EXPECT_FALSE(parseSaleJson(R"({"id":"d","stock_total":"10","stock_left":1})").ok());
}

TEST(AnswerJsonTest, TokenOrderIdAndState) {
  EXPECT_EQ(*parseTokenJson(R"({"token":"t-1","expires_in_s":300})"), "t-1");
  EXPECT_FALSE(parseTokenJson(R"({"token":""})").ok());
  EXPECT_FALSE(parseTokenJson(R"({"error":"sale_not_open"})").ok());
  EXPECT_EQ(*parseOrderIdJson(R"({"order_id":"o-9","sale_id":"demo","user_id":"u",)"
                              R"("state":"pending_payment","pay_before":"x"})"),
            "o-9");
  EXPECT_FALSE(parseOrderIdJson(R"({"order_id":5})").ok());
  EXPECT_EQ(*parseOrderStateJson(R"({"order_id":"o","state":"cancelled"})"), "cancelled");
}

constexpr std::string_view kMetrics =
    "# HELP seckill_http_requests_total HTTP requests answered, by route and status code.\n"
    "seckill_http_requests_total{route=\"order\",code=\"201\"} 500\n"
    "# HELP seckill_orders Orders by state.\n"
    "# TYPE seckill_orders gauge\n"
    "seckill_orders{state=\"pending_payment\"} 300\n"
    "seckill_orders{state=\"paid\"} 150\n"
    "seckill_orders{state=\"cancelled\"} 50\n"
    "seckill_stock_left{sale=\"demo\"} 9550\n"
    "seckill_stock_left{sale=\"demo2\"} 7\n";

TEST(MetricsTextTest, ReadsOrderCountsAndStock) {
  absl::StatusOr<OrderCounts> c = parseOrderCounts(kMetrics);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pending_payment, 300);
  EXPECT_EQ(c->paid, 150);
  EXPECT_EQ(c->cancelled, 50);
  EXPECT_EQ(c->all(), 500);
  EXPECT_EQ(parseStockLeft(kMetrics, "demo"), 9550);
  EXPECT_EQ(parseStockLeft(kMetrics, "demo2"), 7);
  EXPECT_EQ(parseStockLeft(kMetrics, "dem"), std::nullopt);
}

TEST(MetricsTextTest, NoOrderSamplesIsNotFound) {
  EXPECT_EQ(parseOrderCounts("seckill_http_connections 3\n").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(parseOrderCounts("").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace seckill::load
