#include "engine/core/control/rule_document.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::control {
namespace {

using ratelimit::OverrideMode;
using ratelimit::RuleSpec;
using ::testing::HasSubstr;

RuleSpec rule(std::string path, int64_t rate, std::string method = "POST") {
  RuleSpec r;
  r.path = std::move(path);
  r.method = std::move(method);
  r.scope = ratelimit::ScopeKind::kUser;
  r.rate = rate;
  r.burst = rate;
  return r;
}

TEST(RuleDocumentTest, NormalizeGivesDefaultIdsThatSurviveRateEdits) {
  RuleDocument a{{rule("/api/v1/sales/*/orders", 5)}, {{"/api/", OverrideMode::kShed}}};
  normalize(a);
  EXPECT_EQ(a.rules[0].id, "POST /api/v1/sales/*/orders user /s");
  EXPECT_EQ(a.overrides[0].prefix, "/api");
  RuleDocument b{{rule("/api/v1/sales/*/orders", 50)}, {}};
  normalize(b);
  EXPECT_EQ(a.rules[0].id, b.rules[0].id) << "a rate edit keeps the id (and the metric label)";
}

TEST(RuleDocumentTest, TwoRulesOfOneNodeGetDistinctIds) {
  RuleSpec slow = rule("/x", 100);
  RuleSpec log = rule("/x", 100);
  log.algorithm = ratelimit::Algorithm::kSlidingWindow;
  RuleDocument d{{slow, log}, {}};
  normalize(d);
  EXPECT_EQ(d.rules[0].id, "POST /x user /s");
  EXPECT_EQ(d.rules[1].id, "POST /x user /s #2");
  EXPECT_TRUE(checkDocument(d).empty());
}

TEST(RuleDocumentTest, ProblemsNameTheRuleAndTheField) {
  RuleSpec bad_rate = rule("/a", 0);
  RuleSpec bad_path = rule("no-slash", 5);
  RuleDocument d{{rule("/ok", 1), bad_rate, bad_path},
                 {{"nope", OverrideMode::kShed}, {"/a", OverrideMode::kShed}, {"/a/", OverrideMode::kNone}}};
  std::vector<ratelimit::RuleProblem> p = checkDocument(d);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].index, 1);
  EXPECT_EQ(p[0].field, "rate");
  EXPECT_THAT(p[0].message, HasSubstr("rule 2"));
  EXPECT_THAT(p[0].message, HasSubstr("rate must be > 0"));
  EXPECT_EQ(p[1].index, 2);
  EXPECT_EQ(p[1].field, "path");
  EXPECT_EQ(p[2].field, "prefix");
  EXPECT_THAT(p[2].message, HasSubstr("must start with '/'"));
  EXPECT_THAT(p[3].message, HasSubstr("given twice"));
  EXPECT_FALSE(validateDocument(d).ok());
}

TEST(RuleDocumentTest, DuplicateExplicitIdsAreRefused) {
  RuleSpec a = rule("/a", 1);
  a.id = "same";
  RuleSpec b = rule("/b", 1);
  b.id = "same";
  std::vector<ratelimit::RuleProblem> p = checkDocument(RuleDocument{{a, b}, {}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].field, "id");
  EXPECT_THAT(p[0].message, HasSubstr("id \"same\" is also rule 1"));
}

TEST(RuleDocumentTest, HostileSetsAreRefused) {
  RuleDocument many;
  for (size_t i = 0; i <= ratelimit::kMaxRules; ++i) many.rules.push_back(rule("/r" + std::to_string(i), 1));
  EXPECT_THAT(validateDocument(many).message(), HasSubstr("at most 10000"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "/s";
  EXPECT_THAT(validateDocument(RuleDocument{{rule(deep, 1)}, {}}).message(),
              HasSubstr("more than 64 segments"));
  EXPECT_THAT(validateDocument(RuleDocument{{rule("/" + std::string(2000, 'a'), 1)}, {}}).message(),
              HasSubstr("longer than 1024"));
  RuleSpec weird = rule("/a", 1);
  weird.id = "bad\nid";
  EXPECT_THAT(validateDocument(RuleDocument{{weird}, {}}).message(), HasSubstr("printable"));
  EXPECT_THAT(validateDocument(RuleDocument{{rule("/a", -5)}, {}}).message(), HasSubstr("rate"));
}

TEST(RuleDocumentTest, SameContentIgnoresLinesAndOverrideOrder) {
  RuleDocument a{{rule("/a", 1), rule("/b", 2)}, {{"/x", OverrideMode::kShed}, {"/y", OverrideMode::kDryRun}}};
  RuleDocument b = a;
  b.rules[0].line = 42;
  std::swap(b.overrides[0], b.overrides[1]);
  normalize(a);
  normalize(b);
  EXPECT_TRUE(sameContent(a, b));
  EXPECT_EQ(digest(a), digest(b));
  b.rules[1].rate = 3;
  EXPECT_FALSE(sameContent(a, b));
  EXPECT_NE(digest(a), digest(b));
  RuleDocument c = a;
  std::swap(c.rules[0], c.rules[1]);
  EXPECT_FALSE(sameContent(a, c)) << "rule order is evaluation order";
}

TEST(RuleDocumentTest, DiffNamesWhatChanged) {
  RuleDocument from{{rule("/a", 1), rule("/b", 2)}, {{"/x", OverrideMode::kShed}, {"/y", OverrideMode::kDryRun}}};
  RuleDocument to{{rule("/a", 10), rule("/c", 3)}, {{"/x", OverrideMode::kDryRun}, {"/z", OverrideMode::kShed}}};
  normalize(from);
  normalize(to);
  to.rules[0].on_limit = ratelimit::OnLimit::kLog;
  DocumentDiff d = diffDocuments(from, to);
  ASSERT_EQ(d.rules.size(), 3u);
  EXPECT_EQ(d.rules[0].kind, DocumentDiff::Rule::Kind::kChanged);
  EXPECT_THAT(d.rules[0].fields, ::testing::ElementsAre("rate", "burst", "on_limit"));
  EXPECT_EQ(d.rules[1].kind, DocumentDiff::Rule::Kind::kAdded);
  EXPECT_EQ(d.rules[2].kind, DocumentDiff::Rule::Kind::kRemoved);
  ASSERT_EQ(d.overrides.size(), 3u);
  const std::string text = d.text();
  EXPECT_THAT(text,
              HasSubstr("~ rule POST /a user /s: rate 1 -> 10, burst 1 -> 10, on_limit reject -> log"));
  EXPECT_THAT(text, HasSubstr("+ rule POST /c user /s: POST /c user token_bucket 3/s"));
  EXPECT_THAT(text, HasSubstr("- rule POST /b user /s"));
  EXPECT_THAT(text, HasSubstr("~ override /x shed -> dry_run"));
  EXPECT_THAT(text, HasSubstr("+ override /z shed"));
  EXPECT_THAT(text, HasSubstr("- override /y (was dry_run)"));
  EXPECT_TRUE(diffDocuments(from, from).empty());
}

}  // namespace
}  // namespace seckill::control
