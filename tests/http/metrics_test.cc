#include "engine/http/metrics.h"

#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace seckill::http {
namespace {

// True iff `line` is `name{label="value",...} number` or `name number`.
bool isSample(std::string_view line) {
  size_t i = 0;
  auto nameChar = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  while (i < line.size() && nameChar(line[i])) ++i;
  if (i == 0) return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    for (;;) {
      size_t start = i;
      while (i < line.size() && nameChar(line[i])) ++i;
      if (i == start || line.substr(i, 2) != "=\"") return false;
      i += 2;
      while (i < line.size() && line[i] != '"' && line[i] != '\\') ++i;
      if (i >= line.size()) return false;
      ++i;  // closing quote
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i >= line.size() || line[i] != '}') return false;
      ++i;
      break;
    }
  }
  if (i >= line.size() || line[i] != ' ') return false;
  std::string_view value = line.substr(i + 1);
  if (value.starts_with("-")) value.remove_prefix(1);
  if (value.empty() || value.front() == '.' || value.back() == '.') return false;
  return value.find_first_not_of("0123456789.") == std::string_view::npos;
}

// Every line is a HELP or TYPE comment or a sample; the text ends with a newline.
void expectPrometheusShape(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(isSample(line)) << "bad line: " << line;
  }
  EXPECT_TRUE(text.ends_with("\n"));
}

// The whole /metrics text of an engine with just these edge counters.
std::string render(HttpMetrics& m) {
  EngineStats s;
  m.fill(s);
  std::string text;
  renderPrometheus(s, text);
  return text;
}

TEST(MetricsTest, CountsRequestsByRouteAndCode) {
  HttpMetrics m;
  m.recordRequest(Route::kOrder, 201, 40);
  m.recordRequest(Route::kOrder, 201, 120);
  m.recordRequest(Route::kOrder, 410, 3000);
  m.recordRequest(Route::kOther, 418, 1);  // unknown codes count as 500
  EXPECT_EQ(m.requests(Route::kOrder, 201), 2u);
  EXPECT_EQ(m.requests(Route::kOrder, 410), 1u);
  EXPECT_EQ(m.requests(Route::kOther, 500), 1u);

  std::string text = render(m);
  expectPrometheusShape(text);
  EXPECT_NE(text.find("# TYPE seckill_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_http_requests_total{route=\"order\",code=\"201\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_requests_total{route=\"order\",code=\"410\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("code=\"200\""), std::string::npos) << "zero series are left out";
}

TEST(MetricsTest, HistogramIsCumulative) {
  HttpMetrics m;
  m.recordRequest(Route::kSale, 200, 40);         // <= 50us
  m.recordRequest(Route::kSale, 200, 120);        // <= 250us
  m.recordRequest(Route::kSale, 200, 5'000'000);  // +Inf
  std::string text = render(m);
  EXPECT_NE(text.find("# TYPE seckill_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_bucket{le=\"0.00005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_bucket{le=\"0.0001\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_bucket{le=\"0.00025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_bucket{le=\"1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_http_request_duration_seconds_sum 5.00016\n"), std::string::npos);
}

TEST(MetricsTest, ConnectionGauge) {
  HttpMetrics m;
  m.connectionOpened();
  m.connectionOpened();
  m.connectionClosed();
  std::string text = render(m);
  EXPECT_NE(text.find("# TYPE seckill_http_connections gauge\nseckill_http_connections 1\n"),
            std::string::npos);
}

TEST(MetricsTest, OrdersAndStock) {
  EngineStats s;
  s.orders.pending_now = 3;
  s.orders.paid_now = 2;
  s.orders.cancelled_now = 1;
  s.orders.created = 6;
  s.sales = {{.id = "phone-drop", .total = 1000, .left = 997, .state = "open"},
             {.id = "we\"ird\\", .total = 5, .left = 0, .state = "sold_out", .sold_out_local = true},
             {.id = "down", .total = 5, .left = -1, .state = "open"}};
  std::string text;
  renderPrometheus(s, text);
  std::string plain;  // the lines without the escaped label (isSample reads no escapes)
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at + 1);
    if (line.find("we\\\"") == std::string::npos) plain += line;
    at = nl + 1;
  }
  expectPrometheusShape(plain);
  EXPECT_NE(text.find("seckill_order_events_total{event=\"created\"} 6\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_stock_total{sale=\"phone-drop\"} 1000\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_sale_sold_out_local{sale=\"we\\\"ird\\\\\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("seckill_stock_left{sale=\"down\"}"), std::string::npos)
      << "a sale whose store did not answer has no stock sample";
  EXPECT_NE(text.find("seckill_orders{state=\"pending_payment\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_orders{state=\"paid\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_orders{state=\"cancelled\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE seckill_stock_left gauge\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_stock_left{sale=\"phone-drop\"} 997\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_stock_left{sale=\"we\\\"ird\\\\\"} 0\n"), std::string::npos);
}

TEST(MetricsTest, AdmissionAndRulesAndBreakers) {
  HttpMetrics m;
  m.recordAdmission(ratelimit::Verdict::kAllow);
  m.recordAdmission(ratelimit::Verdict::kReject);
  m.recordAdmission(ratelimit::Verdict::kReject);
  EngineStats s;
  m.fill(s);
  EXPECT_EQ(s.admission.allowed, 1u);
  EXPECT_EQ(s.admission.rejected, 2u);
  s.rules = {{.key = 1, .id = "orders per user", .name = "POST /x user token_bucket 5/s",
              .passed = 4, .limited = 2}};
  s.breakers = {{.name = "stock_store", .state = "open", .mode = "normal",
                 .transitions_into = {{"closed", 0}, {"open", 3}}}};
  s.extra = {{"seckill_thing", "A thing.", MetricFamily::Type::kGauge, {{"a=\"b\"", 7}}}};
  std::string text;
  renderPrometheus(s, text);
  expectPrometheusShape(text);
  EXPECT_NE(text.find("seckill_admission_total{decision=\"rejected\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("seckill_rule_requests_total{rule=\"orders per user\",decision=\"limited\"} 2\n"),
            std::string::npos)
      << "the rule's id is the label";
  EXPECT_NE(text.find("seckill_breaker_state{breaker=\"stock_store\",state=\"open\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_breaker_state{breaker=\"stock_store\",state=\"closed\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("seckill_breaker_transitions_total{breaker=\"stock_store\",to=\"open\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE seckill_thing gauge\nseckill_thing{a=\"b\"} 7\n"), std::string::npos);
}

TEST(MetricsTest, MicrosAsSeconds) {
  auto fmt = [](uint64_t us) {
    std::string s;
    appendMicrosAsSeconds(s, us);
    return s;
  };
  EXPECT_EQ(fmt(0), "0");
  EXPECT_EQ(fmt(50), "0.00005");
  EXPECT_EQ(fmt(250000), "0.25");
  EXPECT_EQ(fmt(1000000), "1");
  EXPECT_EQ(fmt(12345678), "12.345678");
}

TEST(MetricsTest, ShardedAcrossThreads) {
  HttpMetrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) m.recordRequest(Route::kOrder, 201, 10);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.requests(Route::kOrder, 201), 40000u);
}

}  // namespace
}  // namespace seckill::http
