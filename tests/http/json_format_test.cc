#include "engine/http/json_format.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace seckill::http {
namespace {

std::string jsonString(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

TEST(JsonFormatTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(jsonString("plain"), "\"plain\"");
  EXPECT_EQ(jsonString(""), "\"\"");
  EXPECT_EQ(jsonString("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(jsonString("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(jsonString("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(jsonString(std::string_view("\x01\x1f\b\f", 4)), "\"\\u0001\\u001f\\b\\f\"");
  EXPECT_EQ(jsonString(std::string_view("nul\0x", 5)), "\"nul\\u0000x\"");
}

TEST(JsonFormatTest, EscapesAtEveryPositionOfLongStrings) {
  // The scan for bytes to escape goes eight at a time: each position of a word, and the tail.
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (char c : {'"', '\\', '\n', '\x1f', '\0'}) {
        std::string s(len, 'a');
        s[at] = c;
        std::string expected = jsonString(std::string(at, 'a'));
        expected.pop_back();  // the closing quote
        const std::string one = jsonString(std::string_view(&c, 1));
        expected += one.substr(1, one.size() - 2);
        expected += std::string(len - at - 1, 'a');
        expected.push_back('"');
        EXPECT_EQ(jsonString(s), expected) << "len " << len << " at " << at;
      }
    }
  }
  // Bytes at and above 0x20 other than '"' and '\\' pass as they are, 0x7f and UTF-8 too.
  std::string high;
  for (int c = 0x20; c < 0x100; ++c) {
    if (c != '"' && c != '\\') high.push_back(static_cast<char>(c));
  }
  EXPECT_EQ(jsonString(high), "\"" + high + "\"");
}

TEST(JsonFormatTest, KeepsUtf8AndRoundTripsThroughAParser) {
  const std::string name = "Phone \"drop\" \xE2\x9C\x93 \xF0\x9F\x93\xB1 caf\xC3\xA9 \\ /\x7f";
  EXPECT_EQ(jsonString("\xE2\x9C\x93"), "\"\xE2\x9C\x93\"");
  nlohmann::json parsed = nlohmann::json::parse(jsonString(name));
  EXPECT_EQ(parsed.get<std::string>(), name);
}

TEST(JsonFormatTest, Rfc3339) {
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(1'800'000'000)), "2027-01-15T08:00:00Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(951782400)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(1'800'000'000) + absl::Milliseconds(250)),
            "2027-01-15T08:00:00.250Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(1'800'000'000) + absl::Microseconds(7999)),
            "2027-01-15T08:00:00.007Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(-1) + absl::Milliseconds(250)),
            "1969-12-31T23:59:59.250Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(0) - absl::Microseconds(1)),
            "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(formatRfc3339(absl::FromUnixSeconds(253402300799)), "9999-12-31T23:59:59Z");
}

TEST(JsonFormatTest, Rfc3339AgreesWithAbslAcrossYears) {
  for (int64_t s = -2'000'000'000; s < 8'000'000'000; s += 86'399 * 97 + 13) {
    absl::Time t = absl::FromUnixSeconds(s);
    EXPECT_EQ(formatRfc3339(t), absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
  }
}

TEST(JsonFormatTest, TimeOrNull) {
  std::string out;
  appendJsonTime(out, std::nullopt);
  out.push_back(' ');
  appendJsonTime(out, absl::InfiniteFuture());
  out.push_back(' ');
  appendJsonTime(out, absl::FromUnixSeconds(0));
  EXPECT_EQ(out, "null null \"1970-01-01T00:00:00Z\"");
}

TEST(JsonFormatTest, ErrorBodies) {
  std::string out;
  appendErrorJson(out, "sold_out");
  EXPECT_EQ(out, R"({"error":"sold_out"})");
  out.clear();
  appendErrorJson(out, "malformed_json", "\"token\" must be a string");
  EXPECT_EQ(out, R"({"error":"malformed_json","message":"\"token\" must be a string"})");
}

TEST(JsonFormatTest, SaleBody) {
  SaleSpec sale;
  sale.id = "phone-drop";
  sale.name = "Phone \"X\"";
  sale.stock = 1000;
  sale.opens_at = absl::FromUnixSeconds(1'800'000'000);
  std::string out;
  appendSaleJson(out, sale, 998, SaleState::kScheduled);
  EXPECT_EQ(out, R"({"id":"phone-drop","name":"Phone \"X\"","stock_total":1000,"stock_left":998,)"
                 R"("state":"scheduled","opens_at":"2027-01-15T08:00:00Z","closes_at":null})");
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
}

TEST(JsonFormatTest, TokenBodyRoundsTtlUp) {
  std::string out;
  appendTokenJson(out, "tok-1", absl::Minutes(5));
  EXPECT_EQ(out, R"({"token":"tok-1","expires_in_s":300})");
  out.clear();
  appendTokenJson(out, "t", absl::Milliseconds(1500));
  EXPECT_EQ(out, R"({"token":"t","expires_in_s":2})");
}

Order sampleOrder() {
  Order o;
  o.id = "n1-1";
  o.sale_id = "s";
  o.user_id = "u";
  o.created_at = absl::FromUnixSeconds(1'800'000'000);
  o.pay_before = o.created_at + absl::Minutes(15);
  return o;
}

TEST(JsonFormatTest, CreatedOrderBodyEscapesLikeEveryBody) {
  Order o = sampleOrder();
  o.user_id = "u\"1";
  o.pay_before = o.created_at + absl::Milliseconds(1);
  std::string out = "prefix ";
  appendCreatedOrderJson(out, o);
  EXPECT_EQ(out, R"(prefix {"order_id":"n1-1","sale_id":"s","user_id":"u\"1",)"
                 R"("state":"pending_payment","pay_before":"2027-01-15T08:00:00.001Z"})");
  out.clear();
  o.user_id = "u";
  o.pay_before = absl::InfiniteFuture();
  appendCreatedOrderJson(out, o);
  EXPECT_EQ(out, R"({"order_id":"n1-1","sale_id":"s","user_id":"u","state":"pending_payment",)"
                 R"("pay_before":null})");
}

TEST(JsonFormatTest, OrderBodies) {
  Order o = sampleOrder();
  std::string out;
  appendCreatedOrderJson(out, o);
  EXPECT_EQ(out, R"({"order_id":"n1-1","sale_id":"s","user_id":"u","state":"pending_payment",)"
                 R"("pay_before":"2027-01-15T08:15:00Z"})");
  out.clear();
  o.state = OrderState::kPaid;
  appendOrderJson(out, o);
  EXPECT_EQ(out, R"({"order_id":"n1-1","sale_id":"s","user_id":"u","state":"paid",)"
                 R"("pay_before":"2027-01-15T08:15:00Z","created_at":"2027-01-15T08:00:00Z"})");
  out.clear();
  o.state = OrderState::kCancelled;
  o.cancel_reason = CancelReason::kExpired;
  appendOrderJson(out, o);
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["state"], "cancelled");
  EXPECT_EQ(j["cancel_reason"], cancelReasonName(CancelReason::kExpired));
}

TEST(JsonFormatTest, Integers) {
  std::string out;
  appendInt(out, 0);
  out.push_back(',');
  appendInt(out, -42);
  out.push_back(',');
  appendInt(out, INT64_MAX);
  EXPECT_EQ(out, "0,-42,9223372036854775807");
}

}  // namespace
}  // namespace seckill::http
