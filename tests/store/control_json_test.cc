// The control-state JSON codec: every field round trips, format 1 rule documents still read,
// and a malformed value is refused naming the field.
#include "engine/store/codec/control_json.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/support/control_store_suite.h"

namespace seckill::testing {
namespace {

using control::RuleDocument;

std::string messageOf(const absl::Status& s) { return std::string(s.message()); }

TEST(ControlJson, RuleVersionRoundTripsEveryField) {
  control::RuleVersion v = ruleVersionFor(4);
  v.doc.rules[1].method.reset();
  absl::StatusOr<control::RuleVersion> back =
      codec::ruleVersionFromJson(codec::ruleVersionToJson(v));
  ASSERT_TRUE(back.ok()) << back.status();
  expectSameVersion(*back, v);
  EXPECT_EQ(back->doc.rules[0].id, "orders-4");
  EXPECT_EQ(back->doc.rules[0].header, "x-api-key");
  EXPECT_EQ(back->doc.rules[0].warmup, absl::Milliseconds(1500));
  EXPECT_EQ(back->doc.rules[0].max_wait, absl::Microseconds(250500));
  EXPECT_TRUE(back->doc.rules[0].distributed);
  EXPECT_FALSE(back->doc.rules[1].method.has_value());
  ASSERT_EQ(back->doc.overrides.size(), 2u);
  EXPECT_EQ(back->doc.overrides[1].prefix, "/admin");
  EXPECT_EQ(back->doc.overrides[1].mode, ratelimit::OverrideMode::kShed);
}

TEST(ControlJson, WritesFormat2AndStillReadsFormat1) {
  const std::string json = codec::ruleDocumentToJson(ruleVersionFor(1).doc);
  EXPECT_NE(json.find("\"format\":2"), std::string::npos) << json;
  absl::StatusOr<RuleDocument> old = codec::ruleDocumentFromJson(
      R"({"format":1,"rules":[{"path":"/api/**","method":null,"scope":"user",
          "algorithm":"leaky_bucket","rate":3,"per_ns":60000000000,"burst":1,"queue":4,
          "warmup_ns":0,"on_limit":"reject","max_wait_ns":0,"distributed":true,"line":7}]})");
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(old->rules.size(), 1u);
  EXPECT_EQ(old->rules[0].id, "");  // normalize() gives it the default
  EXPECT_EQ(old->rules[0].algorithm, ratelimit::Algorithm::kLeakyBucket);
  EXPECT_EQ(old->rules[0].per, absl::Minutes(1));
  EXPECT_EQ(old->rules[0].queue, 4);
  EXPECT_EQ(old->rules[0].line, 7);
  EXPECT_TRUE(old->overrides.empty());
}

TEST(ControlJson, RefusesMalformedValuesNamingTheField) {
  auto rejects = [](std::string_view json, std::string_view field) {
    absl::StatusOr<control::RuleVersion> v = codec::ruleVersionFromJson(json);
    ASSERT_TRUE(absl::IsInvalidArgument(v.status())) << json;
    EXPECT_NE(messageOf(v.status()).find(std::string(field)), std::string::npos) << v.status();
  };
  std::string good = codec::ruleVersionToJson(ruleVersionFor(1));
  rejects("{oops", "not valid JSON");
  rejects("[1]", "not a JSON object");
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  rejects(replaced("\"rate\":1,", "\"rate\":\"1\","), "\"doc.rules[0].rate\" must be an integer");
  rejects(replaced("\"algorithm\":\"token_bucket\"", "\"algorithm\":\"fast\""),
          "\"doc.rules[0].algorithm\" is invalid");
  rejects(replaced("\"mode\":\"shed\"", "\"mode\":\"off\""), "\"doc.overrides[1].mode\"");
  rejects(replaced("\"format\":2", "\"format\":3"), "\"doc.format\" must be 1 to 2");
  rejects(replaced("\"author\":\"alice\"", "\"author\":7"), "\"change.author\" must be a string");
  rejects(replaced("\"version\":1}", "\"version\":-1}"), "\"change.version\"");
  rejects(replaced("\"file_digest\":\"digest-1\"", "\"x\":1"), "\"file_digest\"");
  // Format 2 always has its overrides.
  EXPECT_TRUE(
      absl::IsInvalidArgument(codec::ruleDocumentFromJson(R"({"format":2,"rules":[]})").status()));
}

TEST(ControlJson, SaleRecordRoundTripsWithAndWithoutWindow) {
  control::SaleRecord r{fullSaleSpec("drop", 10), "digest"};
  absl::StatusOr<control::SaleRecord> back = codec::saleRecordFromJson(codec::saleRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  expectSameSale(*back, r);
  r.spec.opens_at.reset();
  r.spec.closes_at.reset();
  back = codec::saleRecordFromJson(codec::saleRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  expectSameSale(*back, r);
  absl::Status bad = codec::saleRecordFromJson(
                         R"({"id":"x","name":"","stock":1,"require_token":false,"strategy":"lifo",
                             "pay_timeout_ns":1,"dedup_ttl_ns":1,"token_ttl_ns":1,
                             "file_digest":""})")
                         .status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(messageOf(bad).find("\"strategy\""), std::string::npos) << bad;
  bad = codec::saleRecordFromJson(
            R"({"id":"x","name":"","stock":1,"opens_at":"noon","require_token":false,
                "strategy":"fifo","pay_timeout_ns":1,"dedup_ttl_ns":1,"token_ttl_ns":1,
                "file_digest":""})")
            .status();
  EXPECT_NE(messageOf(bad).find("\"opens_at\""), std::string::npos) << bad;
}

TEST(ControlJson, BreakerSettingAndAuditEntryRoundTrip) {
  using Mode = ratelimit::CircuitBreaker::Mode;
  const control::BreakerSetting s{"redis", Mode::kMetricsOnly, Mode::kForcedOpen};
  absl::StatusOr<control::BreakerSetting> sb =
      codec::breakerSettingFromJson(codec::breakerSettingToJson(s));
  ASSERT_TRUE(sb.ok()) << sb.status();
  EXPECT_EQ(sb->name, "redis");
  EXPECT_EQ(sb->mode, Mode::kMetricsOnly);
  EXPECT_EQ(sb->file_mode, Mode::kForcedOpen);
  absl::Status bad =
      codec::breakerSettingFromJson(R"({"name":"x","mode":"half","file_mode":"normal"})").status();
  EXPECT_NE(messageOf(bad).find("\"mode\""), std::string::npos) << bad;

  control::AuditEntry e = auditFor("rule.put", 9, 42, "bob");
  e.seq = 17;
  e.target = "orders";
  absl::StatusOr<control::AuditEntry> eb = codec::auditEntryFromJson(codec::auditEntryToJson(e));
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_EQ(eb->seq, 17u);
  EXPECT_EQ(eb->at, e.at);
  EXPECT_EQ(eb->author, "bob");
  EXPECT_EQ(eb->peer, e.peer);
  EXPECT_EQ(eb->node, e.node);
  EXPECT_EQ(eb->action, "rule.put");
  EXPECT_EQ(eb->target, "orders");
  EXPECT_EQ(eb->detail, e.detail);
  EXPECT_EQ(eb->version, 9u);
}

TEST(ControlJson, InvalidUtf8IsReplacedNotThrown) {
  control::AuditEntry e = auditFor("rule.put");
  e.author = "bad\xff\xfe";
  const std::string json = codec::auditEntryToJson(e);
  absl::StatusOr<control::AuditEntry> back = codec::auditEntryFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->author.substr(0, 3), "bad");
}

}  // namespace
}  // namespace seckill::testing
