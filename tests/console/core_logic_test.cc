// The console core's pure logic, no engine: the series store, alerts, the rule draft and its
// checks, the words an operator reads, and the item models fed by hand.
#include <QSignalSpy>

#include "absl/status/status.h"
#include "console/core/alerts.h"
#include "console/core/engine_session.h"
#include "console/core/labels.h"
#include "console/core/rule_draft.h"
#include "console/core/rule_trie_model.h"
#include "console/core/series_store.h"
#include "console/core/table_models.h"
#include "gtest/gtest.h"

namespace seckill::console {
namespace {

StatsPoint point(const QString& node, qint64 second, double requests, double p99 = 1) {
  StatsPoint p;
  p.node = node;
  p.second = second;
  p.value(Metric::kRequests) = requests;
  p.value(Metric::kLatencyP99) = p99;
  return p;
}

// ---------------------------------------------------------------- SeriesStore

TEST(SeriesStoreTest, RefusesASecondItHasOrAnOlderOne) {
  SeriesStore store(60);
  EXPECT_TRUE(store.add(point("a", 100, 1)));
  EXPECT_TRUE(store.add(point("a", 101, 2)));
  EXPECT_FALSE(store.add(point("a", 101, 99))) << "a resumed stream repeating a second";
  EXPECT_FALSE(store.add(point("a", 50, 99)));
  EXPECT_EQ(store.size("a"), 2);
  EXPECT_EQ(*store.value("a", Metric::kRequests, 101), 2);
}

TEST(SeriesStoreTest, KeepsOnlyTheLastCapacitySecondsAndLeavesGapsAbsent) {
  SeriesStore store(10);
  for (qint64 s = 1; s <= 30; ++s) store.add(point("a", s, static_cast<double>(s)));
  EXPECT_EQ(store.size("a"), 10);
  EXPECT_EQ(store.oldest(), 21);
  EXPECT_EQ(store.newest(), 30);
  store.add(point("a", 35, 35));  // the engine was down for 31..34
  EXPECT_FALSE(store.value("a", Metric::kRequests, 33).has_value());
  EXPECT_EQ(store.range("a", Metric::kRequests, 26, 35, 100).size(), 6) << "no invented zeros";
}

TEST(SeriesStoreTest, TheFleetSumsCountsAndTakesTheWorstLatency) {
  SeriesStore store;
  store.add(point("a", 10, 100, 3.0));
  store.add(point("b", 10, 50, 7.0));
  store.add(point("a", 11, 10, 1.0));
  EXPECT_EQ(*store.value({}, Metric::kRequests, 10), 150);
  EXPECT_EQ(*store.value({}, Metric::kLatencyP99, 10), 7.0);
  EXPECT_EQ(store.newest(), 11);
  EXPECT_EQ(store.fleetNewest(), 10) << "b has not reported second 11 yet";
  for (qint64 s = 12; s <= 20; ++s) store.add(point("a", s, 1));
  EXPECT_EQ(store.fleetNewest(), 20) << "b, silent for 10 s, no longer holds the sum back";
}

TEST(SeriesStoreTest, ARangeWiderThanThePointsShowsEachBucketsPeak) {
  SeriesStore store(3600);
  for (qint64 s = 1; s <= 3600; ++s) store.add(point("a", s, s == 1234 ? 999 : 1));
  const QList<QPointF> points = store.range("a", Metric::kRequests, 1, 3600, 360);
  ASSERT_EQ(points.size(), 360);
  double top = 0;
  for (const QPointF& p : points) top = std::max(top, p.y());
  EXPECT_EQ(top, 999) << "a one-second spike stays visible at an hour's zoom";
  EXPECT_EQ(points.last().x(), 3600.0 * 1000);
}

TEST(SeriesStoreTest, BreakerRunsAndCsv) {
  SeriesStore store;
  for (qint64 s = 1; s <= 6; ++s) {
    StatsPoint p = point("a", s, static_cast<double>(s));
    p.breakers.push_back(
        BreakerLevel{"stock_store", s >= 3 && s <= 4 ? v1::OPEN : v1::CLOSED, v1::AUTOMATIC});
    store.add(p);
  }
  const auto runs = store.breakerRuns("a", "stock_store", 1, 6);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1].state, v1::OPEN);
  EXPECT_EQ(runs[1].from, 3);
  EXPECT_EQ(runs[1].to, 4);
  const QString csv = store.csv("a", {Metric::kRequests}, 5, 6);
  EXPECT_EQ(csv, QStringLiteral("time,unix_second,requests/s\n"
                                "1970-01-01T00:00:05Z,5,5\n"
                                "1970-01-01T00:00:06Z,6,6\n"));
}

// ---------------------------------------------------------------- AlertDetector

TEST(AlertDetectorTest, ABreakerOpeningAlertsOnlyLive) {
  AlertDetector alerts;
  StatsPoint p = point("a", 1, 0);
  p.history = true;
  p.breakers.push_back(BreakerLevel{"stock_store", v1::CLOSED, v1::AUTOMATIC});
  EXPECT_TRUE(alerts.observe(p).empty());
  p.second = 2;
  p.breakers[0].state = v1::OPEN;
  EXPECT_TRUE(alerts.observe(p).empty()) << "history replays raise nothing";
  p.second = 3;
  p.history = false;
  p.breakers[0].state = v1::CLOSED;
  EXPECT_TRUE(alerts.observe(p).empty());
  p.second = 4;
  p.breakers[0].state = v1::OPEN;
  const std::vector<Alert> raised = alerts.observe(p);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind, Alert::Kind::kBreakerOpened);
  EXPECT_TRUE(raised[0].text.contains("stock_store")) << raised[0].text.toStdString();
  p.second = 5;
  EXPECT_TRUE(alerts.observe(p).empty()) << "still open: no second alert";
}

TEST(AlertDetectorTest, ASaleSellingOut) {
  AlertDetector alerts;
  StatsPoint p = point("a", 1, 0);
  p.sales.push_back(SaleLevel{"drop", 3, 100, v1::OPEN_NOW});
  EXPECT_TRUE(alerts.observe(p).empty());
  p.second = 2;
  p.sales[0] = SaleLevel{"drop", 0, 100, v1::SOLD_OUT};
  const std::vector<Alert> raised = alerts.observe(p);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].kind, Alert::Kind::kSoldOut);
  EXPECT_EQ(raised[0].subject, "drop");
}

TEST(AlertDetectorTest, TheLimitedShareJumpingAndReArming) {
  AlertDetector alerts;
  auto second = [&](qint64 s, double requests, double rejected) {
    StatsPoint p = point("a", s, requests);
    p.value(Metric::kRejected) = rejected;
    return alerts.observe(p);
  };
  for (qint64 s = 1; s <= 10; ++s) EXPECT_TRUE(second(s, 100, 5).empty());
  EXPECT_TRUE(second(11, 10, 10).empty()) << "too few requests to judge";
  const std::vector<Alert> jump = second(12, 100, 60);
  ASSERT_EQ(jump.size(), 1u);
  EXPECT_EQ(jump[0].kind, Alert::Kind::kLimitedJump);
  EXPECT_TRUE(second(13, 100, 70).empty()) << "one alert per jump";
  for (qint64 s = 14; s <= 30; ++s) second(s, 100, 5);
  EXPECT_EQ(second(31, 100, 80).size(), 1u) << "re-armed once the share came back down";
}

// ---------------------------------------------------------------- RuleDraft, checks

v1::Rule rule(const std::string& id, const std::string& path, int64_t rate) {
  v1::Rule r;
  r.set_id(id);
  r.set_path(path);
  r.set_rate(rate);
  r.set_burst(1);
  return r;
}

TEST(RuleDraftTest, EditsReplayOnANewerSet) {
  v1::RuleSet base;
  *base.add_rules() = rule("a", "/a", 1);
  *base.add_rules() = rule("b", "/b", 2);
  RuleDraft draft;
  draft.put("a", rule("a", "/a", 10));
  draft.put("", rule("", "/new", 3));
  draft.remove("b");
  v1::RuleSet mine = draft.applyTo(base);
  ASSERT_EQ(mine.rules_size(), 2);
  EXPECT_EQ(mine.rules(0).rate(), 10);
  EXPECT_EQ(mine.rules(1).path(), "/new");

  // Another operator meanwhile removed "a" and added "c": the edits still apply.
  v1::RuleSet theirs;
  *theirs.add_rules() = rule("b", "/b", 2);
  *theirs.add_rules() = rule("c", "/c", 4);
  v1::RuleSet rebased = draft.applyTo(theirs);
  ASSERT_EQ(rebased.rules_size(), 3);
  EXPECT_EQ(rebased.rules(0).id(), "c");
  EXPECT_EQ(rebased.rules(1).id(), "a") << "an edit of a rule gone is put back";
  EXPECT_EQ(rebased.rules(2).path(), "/new");
  EXPECT_EQ(draft.describe().size(), 3);

  draft.put("a", rule("a", "/a", 20));
  EXPECT_EQ(draft.size(), 3) << "a second edit of one rule replaces the first";
  draft.undo();
  EXPECT_EQ(draft.size(), 2);
}

TEST(RuleDraftTest, AnEditKeepsTheIdUnlessWhatMakesItChanged) {
  v1::Rule original = rule("", "/a", 1);
  original.set_method("POST");
  original.set_id(defaultRuleId(original).toStdString());
  v1::Rule faster = original;
  faster.set_rate(50);
  EXPECT_EQ(withFittingId(original, faster).id(), original.id());
  v1::Rule moved = original;
  moved.set_path("/b");
  EXPECT_EQ(withFittingId(original, moved).id(), "") << "the engine derives the new default id";
  v1::Rule custom = original;
  custom.set_id("checkout-limit");
  EXPECT_EQ(withFittingId(custom, moved).id(), "checkout-limit");
}

TEST(RuleCheckTest, FindsWhatTheEngineWouldRefuse) {
  auto fields = [](const v1::Rule& r) {
    QStringList out;
    for (const RuleProblem& p : checkRule(r)) out << p.field;
    return out;
  };
  v1::Rule ok = rule("", "/api/v1/sales/*/orders", 5);
  EXPECT_TRUE(checkRule(ok).empty());
  EXPECT_EQ(fields(rule("", "api", 5)), QStringList{"path"});
  EXPECT_EQ(fields(rule("", "/a//b", 5)), QStringList{"path"});
  EXPECT_EQ(fields(rule("", "/a/**/b", 5)), QStringList{"path"});
  EXPECT_EQ(fields(rule("", "/a", 0)), QStringList{"rate"});
  v1::Rule queue = ok;
  queue.set_on_limit(v1::QUEUE);
  queue.set_algorithm(v1::SLIDING_WINDOW);
  EXPECT_EQ(fields(queue), (QStringList{"on_limit", "max_wait"}));
  v1::Rule lower = ok;
  lower.set_method("post");
  EXPECT_EQ(fields(lower), QStringList{"method"});
}

// ---------------------------------------------------------------- labels

TEST(LabelsTest, WhatAnOperatorReads) {
  EXPECT_EQ(describeStatus(absl::AbortedError("rule set changed")), "ABORTED: rule set changed");
  EXPECT_EQ(describeStatus(absl::PermissionDeniedError("viewer")), "PERMISSION_DENIED: viewer");
  EXPECT_TRUE(breakerModeConsequence("stock_store", v1::MODE_FORCED_OPEN)
                  .contains("every order will be answered 503"));
  EXPECT_TRUE(overrideConsequence("/api", v1::SHED).contains("503 shed"));
  EXPECT_TRUE(ruleModeConsequence("r", v1::LOG).contains("admitted"));
  EXPECT_TRUE(closeSaleConsequence("drop").contains("409 sale_not_open"));
  v1::Rule r = rule("", "/api/v1/sales/*/orders", 5);
  r.set_method("POST");
  r.mutable_scope()->set_kind(v1::USER);
  EXPECT_EQ(defaultRuleId(r), "POST /api/v1/sales/*/orders user /s");
  EXPECT_EQ(describeRule(r), "POST /api/v1/sales/*/orders user token_bucket 5/s reject");

  LinkStatus link;
  link.state = LinkState::kNotAnswering;
  link.since_ms = 1000;
  link.attempt = 2;
  link.retry_in_ms = 400;
  EXPECT_EQ(link.text(8000), "engine not answering for 7 s (retry 2, next in 0.4 s)");
  link.state = LinkState::kRetrying;
  link.reason = "UNAVAILABLE: connection refused";
  EXPECT_EQ(link.text(0), "unreachable, retry 2 in 0.4 s: UNAVAILABLE: connection refused");
}

// ---------------------------------------------------------------- models

// /api/v1/sales/*/orders with two rules, and /healthz with none.
v1::ListRulesResponse listing(uint64_t version, uint64_t passed) {
  v1::ListRulesResponse out;
  out.set_version(version);
  v1::TrieNode* node = out.mutable_root();
  for (const char* seg : {"api", "v1", "sales", "*", "orders"}) {
    v1::TrieNode* child = node->add_children();
    child->set_segment(seg);
    child->set_path(node->path() + "/" + seg);
    node = child;
  }
  for (const char* id : {"global", "per-user"}) {
    v1::RuleView* view = node->add_rules();
    *view->mutable_rule() = rule(id, node->path(), 5);
    view->mutable_counters()->set_passed(passed);
    *out.add_rules() = *view;
    *out.mutable_set()->add_rules() = view->rule();
  }
  v1::TrieNode* health = out.mutable_root()->add_children();
  health->set_segment("healthz");
  health->set_path("/healthz");
  return out;
}

int countItems(const QAbstractItemModel& model, const QModelIndex& parent = {}) {
  int n = 0;
  for (int row = 0; row < model.rowCount(parent); ++row) {
    n += 1 + countItems(model, model.index(row, 0, parent));
  }
  return n;
}

TEST(RuleTrieModelTest, MirrorsTheTrieAndUpdatesCountersInPlace) {
  RuleTrieModel model;
  QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
  QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
  model.setRules(listing(3, 10));
  EXPECT_EQ(resets.count(), 1);
  EXPECT_EQ(countItems(model), 1 + 6 + 2) << "/, five segments and healthz, two rules";
  const QModelIndex global = model.indexOfRule("global");
  ASSERT_TRUE(global.isValid());
  EXPECT_EQ(global.parent().data().toString(), "orders");
  EXPECT_EQ(global.siblingAtColumn(RuleTrieModel::kPassed).data().toString(), "10");

  model.setRules(listing(3, 11));
  EXPECT_EQ(resets.count(), 1) << "same version and rules: no reset";
  EXPECT_GE(changes.count(), 2);
  EXPECT_EQ(model.indexOfRule("global").siblingAtColumn(RuleTrieModel::kPassed).data().toString(),
            "11");

  model.setLiveCounts({RuleLevel{"per-user", 5, 7, 0, 0}});
  EXPECT_EQ(model.indexOfRule("per-user")
                .siblingAtColumn(RuleTrieModel::kLimitedPerSecond)
                .data()
                .toString(),
            "7");

  model.setRules(listing(4, 11));
  EXPECT_EQ(resets.count(), 2) << "a new version resets";
}

TEST(TableModelsTest, SalesTakeEachSecondsLevelsAndTheAuditFilters) {
  SalesModel sales;
  v1::ListSalesResponse list;
  v1::Sale* s = list.add_sales();
  s->set_id("drop");
  s->set_stock_total(100);
  s->set_stock_left(100);
  s->set_state(v1::OPEN_NOW);
  sales.setSales(list);
  QSignalSpy resets(&sales, &QAbstractItemModel::modelReset);
  sales.setLevels({SaleLevel{"drop", 0, 100, v1::SOLD_OUT}});
  EXPECT_EQ(resets.count(), 0);
  EXPECT_EQ(sales.index(0, SalesModel::kState).data().toString(), "sold_out");
  EXPECT_EQ(sales.index(0, SalesModel::kSold).data().toString(), "100");

  AuditModel audit;
  v1::ListAuditResponse entries;
  for (auto [seq, author, action] :
       {std::tuple{3, "ops", "breaker.mode"}, std::tuple{2, "alice", "rules.apply"},
        std::tuple{1, "ops", "sale.create"}}) {
    v1::AuditEntry* e = entries.add_entries();
    e->set_seq(seq);
    e->set_author(author);
    e->set_action(action);
  }
  audit.setEntries(entries);
  AuditFilterModel filter;
  filter.setSourceModel(&audit);
  EXPECT_EQ(filter.rowCount(), 3);
  filter.setText("ALICE");
  EXPECT_EQ(filter.rowCount(), 1);
  filter.setText("ops");
  filter.setAction("sale");
  EXPECT_EQ(filter.rowCount(), 1);
}

}  // namespace
}  // namespace seckill::console
