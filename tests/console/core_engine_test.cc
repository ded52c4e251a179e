// The console core against real seckill-engine processes (headless, QCoreApplication): a
// session connects and receives the history, then live seconds; two operators edit the rules
// and one of them meets the conflict; control changes; a restart of the engine, after which the
// seconds continue without a duplicate.
#include <signal.h>

#include <QSignalSpy>
#include <QTest>

#include "console/core/engine_session.h"
#include "console/core/fleet.h"
#include "console/core/rule_editor.h"
#include "console/core/rule_trie_model.h"
#include "console/core/series_store.h"
#include "console/core/table_models.h"
#include "gtest/gtest.h"
#include "tests/console/admin_engine.h"

namespace seckill::console {
namespace {

using testing::AdminEngine;

const std::string kBody =
    "[[sale]]\nid = \"drop\"\nstock = 1000000\n\n"
    "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\nrate = 100000\nburst = 1000\n";

EngineSession::Options fastOptions() {
  EngineSession::Options o;
  o.poll_ms = 500;
  o.slow_poll_every = 2;
  o.backoff_min_ms = 100;
  o.backoff_max_ms = 400;
  o.stall_ms = 2500;
  return o;
}

// Every point a session delivers, in order.
struct Points {
  explicit Points(EngineSession* s) {
    QObject::connect(s, &EngineSession::statsReceived, &context,
                     [this](const QList<StatsPoint>& batch) { all.append(batch); });
  }
  QObject context;
  QList<StatsPoint> all;
  int live() const {
    return static_cast<int>(
        std::count_if(all.begin(), all.end(), [](const StatsPoint& p) { return !p.history; }));
  }
};

bool strictlyIncreasing(const QList<StatsPoint>& points) {
  for (qsizetype i = 1; i < points.size(); ++i) {
    if (points[i].second <= points[i - 1].second) return false;
  }
  return true;
}

TEST(EngineSessionTest, ConnectsThenReceivesTheHistoryThenLiveSeconds) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  QTest::qWait(2500);  // a few seconds of history

  EngineSession session(engine.address(), fastOptions());
  Points points(&session);
  // Queued to this thread (a QSignalSpy would record on the session's thread).
  QList<admin::v1::NodeStatus> status;
  QList<admin::v1::ListRulesResponse> rules;
  LinkStatus link;
  QObject::connect(&session, &EngineSession::linkChanged, &points.context,
                   [&](const LinkStatus& l) { link = l; });
  QObject::connect(&session, &EngineSession::statusReceived, &points.context,
                   [&](const admin::v1::NodeStatus& s) { status.append(s); });
  QObject::connect(&session, &EngineSession::rulesReceived, &points.context,
                   [&](const admin::v1::ListRulesResponse& r) { rules.append(r); });

  ASSERT_TRUE(QTest::qWaitFor([&] { return points.live() >= 2; }, 10000)) << engine.stderrText();
  ASSERT_FALSE(points.all.isEmpty());
  EXPECT_TRUE(points.all.first().history) << "the engine's ring comes first";
  const auto first_live = std::find_if(points.all.begin(), points.all.end(),
                                       [](const StatsPoint& p) { return !p.history; });
  EXPECT_TRUE(
      std::all_of(first_live, points.all.end(), [](const StatsPoint& p) { return !p.history; }));
  EXPECT_TRUE(strictlyIncreasing(points.all));
  EXPECT_EQ(points.all.last().node, "node-a");
  EXPECT_EQ(link.state, LinkState::kConnected);
  EXPECT_EQ(link.node, "node-a");
  ASSERT_TRUE(QTest::qWaitFor([&] { return !status.isEmpty() && !rules.isEmpty(); }, 5000));
  EXPECT_EQ(status.last().caller_role(), "operator");
  EXPECT_EQ(rules.last().set().rules_size(), 1);
}

TEST(EngineSessionTest, AfterTheEngineRestartsTheSecondsContinueWithoutDuplicates) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  Fleet fleet(3600, fastOptions());
  fleet.addEngine(engine.address());
  Points points(fleet.session(0));
  ASSERT_TRUE(QTest::qWaitFor([&] { return points.live() >= 2; }, 10000));
  const qint64 first_start = points.all.last().started_at;

  ASSERT_TRUE(engine.stop());
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.link(0).state == LinkState::kRetrying; }, 10000))
      << fleet.link(0).text(0).toStdString();
  EXPECT_TRUE(fleet.link(0).reason.contains("UNAVAILABLE")) << fleet.link(0).reason.toStdString();
  const qsizetype before = points.all.size();
  QTest::qWait(1500);  // a gap the engine never recorded

  ASSERT_TRUE(engine.start(kBody));
  ASSERT_TRUE(QTest::qWaitFor([&] { return points.all.size() >= before + 3; }, 15000))
      << fleet.link(0).text(0).toStdString();
  EXPECT_EQ(fleet.link(0).state, LinkState::kConnected);
  EXPECT_NE(points.all.last().started_at, first_start) << "a new process";
  EXPECT_TRUE(strictlyIncreasing(points.all)) << "no second twice, none out of order";
  EXPECT_EQ(fleet.series().size("node-a"), points.all.size());
  // Every second the engine held is there: no gaps but the downtime.
  for (qsizetype i = before + 1; i < points.all.size(); ++i) {
    EXPECT_EQ(points.all[i].second, points.all[i - 1].second + 1);
  }
}

TEST(RuleEditorTest, TwoOperatorsEditAndTheSecondMeetsTheConflict) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  EngineSession a(engine.address(), fastOptions());
  EngineSession b(engine.address(), fastOptions());
  RuleEditor alice, bob;
  alice.setSession(&a);
  bob.setSession(&b);
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return alice.baseVersion() == 1 && bob.baseVersion() == 1; }, 10000));
  const admin::v1::Rule running = alice.baseSet().rules(0);

  // Alice raises the rate of the running rule and applies.
  admin::v1::Rule faster = running;
  faster.set_rate(200000);
  alice.put(running.id(), faster);
  QSignalSpy alice_applied(&alice, &RuleEditor::applied);
  alice.apply("alice: faster");
  ASSERT_TRUE(QTest::qWaitFor([&] { return !alice_applied.isEmpty(); }, 10000));
  EXPECT_EQ(alice_applied.first().at(0).toULongLong(), 2u);

  // Bob, still on version 1, adds a rule: conflict, with what Alice changed.
  admin::v1::Rule per_user;
  per_user.set_path("/api/v1/sales/*/orders");
  per_user.set_method("POST");
  per_user.mutable_scope()->set_kind(admin::v1::USER);
  per_user.set_rate(5);
  per_user.set_per(admin::v1::MINUTE);
  per_user.set_burst(1);
  bob.put("", per_user);
  QSignalSpy conflict(&bob, &RuleEditor::conflict);
  QSignalSpy bob_applied(&bob, &RuleEditor::applied);
  bob.apply("bob: per user");
  ASSERT_TRUE(QTest::qWaitFor([&] { return !conflict.isEmpty(); }, 10000));
  const auto theirs = conflict.first().at(0).value<admin::v1::DiffRulesResponse>();
  EXPECT_EQ(theirs.from_version(), 1u);
  EXPECT_EQ(theirs.to_version(), 2u);
  ASSERT_EQ(theirs.rules_size(), 1);
  EXPECT_EQ(theirs.rules(0).kind(), admin::v1::RuleChange::CHANGED);
  EXPECT_EQ(theirs.rules(0).after().rate(), 200000);
  EXPECT_TRUE(bob_applied.isEmpty());
  EXPECT_FALSE(bob.draft().empty()) << "nothing of Bob's is lost";

  // Reload and reapply: both changes run.
  bob.reloadAndReapply();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !bob_applied.isEmpty(); }, 10000));
  EXPECT_EQ(bob_applied.first().at(0).toULongLong(), 3u);
  ASSERT_TRUE(QTest::qWaitFor([&] { return bob.baseSet().rules_size() == 2; }, 5000));
  EXPECT_EQ(bob.baseSet().rules(0).rate(), 200000);
  EXPECT_EQ(bob.baseSet().rules(1).scope().kind(), admin::v1::USER);

  // The engine's own validation stops a bad set before Apply.
  admin::v1::Rule broken = per_user;
  broken.set_rate(0);
  bob.put("", broken);
  QSignalSpy invalid(&bob, &RuleEditor::invalid);
  bob.apply("bob: broken");
  ASSERT_TRUE(QTest::qWaitFor([&] { return !invalid.isEmpty(); }, 10000));
  const auto refused = invalid.first().at(0).value<admin::v1::ValidateRulesResponse>();
  ASSERT_GE(refused.errors_size(), 1);
  EXPECT_EQ(refused.errors(0).field(), "rate");
}

// Sends a request (`issue` returns its id) and waits for its callFinished.
template <class Issue>
CallResult finished(EngineSession& session, Issue issue) {
  CallResult out;
  QObject context;
  quint64 id = 0;
  // Connected before the request goes: the answer may come at once.
  QObject::connect(&session, &EngineSession::callFinished, &context, [&](const CallResult& r) {
    if (r.id == id) out = r;
  });
  id = issue();
  EXPECT_TRUE(QTest::qWaitFor([&] { return out.id == id; }, 10000)) << "no answer to call " << id;
  return out;
}

TEST(EngineSessionTest, ControlChangesAndAViewerWhoMayNot) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  Fleet fleet(3600, fastOptions());
  fleet.addEngine(engine.address());
  EngineSession& s = *fleet.primary();
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return fleet.rules()->version() == 1 && fleet.canChange(); }, 10000));

  CallResult r = finished(s, [&] { return s.setOverride("/api/v1/sales", admin::v1::DRY_RUN); });
  ASSERT_TRUE(r.ok) << r.text().toStdString();
  EXPECT_EQ(r.version, 2u);
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.overrides()->rowCount() == 1; }, 5000));
  EXPECT_EQ(fleet.overrides()->index(0, OverridesModel::kMode).data().toString(), "dry_run");
  ASSERT_TRUE(finished(s, [&] { return s.clearOverride("/api/v1/sales"); }).ok);
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.overrides()->rowCount() == 0; }, 5000));

  const QString rule_id = QString::fromStdString(fleet.rules()->listing().set().rules(0).id());
  ASSERT_TRUE(finished(s, [&] { return s.setRuleMode(rule_id, admin::v1::LOG, 0); }).ok);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const admin::v1::Rule* rule = fleet.rules()->rule(rule_id);
        return rule != nullptr && rule->on_limit() == admin::v1::LOG;
      },
      5000));

  ASSERT_TRUE(
      finished(s, [&] { return s.setBreakerMode("stock_store", admin::v1::MODE_FORCED_OPEN); }).ok);
  // The stats of the next seconds say so too.
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const StatsPoint* p = fleet.series().latest("node-a");
        if (p == nullptr) return false;
        for (const BreakerLevel& b : p->breakers) {
          if (b.name == "stock_store" && b.state == admin::v1::FORCED_OPEN) return true;
        }
        return false;
      },
      5000));
  ASSERT_TRUE(
      finished(s, [&] { return s.setBreakerMode("stock_store", admin::v1::AUTOMATIC); }).ok);

  admin::v1::Sale sale;
  sale.set_id("flash");
  sale.set_stock_total(10);
  ASSERT_TRUE(finished(s, [&] { return s.createSale(sale); }).ok);
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.sales()->rowOf("flash") >= 0; }, 5000));
  ASSERT_TRUE(finished(s, [&] { return s.adjustStock("flash", true, 25); }).ok);
  ASSERT_TRUE(finished(s, [&] { return s.closeSale("flash"); }).ok);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const int row = fleet.sales()->rowOf("flash");
        return row >= 0 && fleet.sales()->sale(row).state() == admin::v1::CLOSED_NOW &&
               fleet.sales()->sale(row).stock_total() == 25;
      },
      5000));
  ASSERT_TRUE(finished(s, [&] { return s.openSale("flash"); }).ok);
  CallResult too_low = finished(s, [&] { return s.adjustStock("flash", true, -5); });
  EXPECT_FALSE(too_low.ok);
  EXPECT_TRUE(too_low.error.startsWith("INVALID_ARGUMENT") ||
              too_low.error.startsWith("FAILED_PRECONDITION"))
      << too_low.error.toStdString();

  // The audit has every change, who made it and what.
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.audit()->rowCount() >= 8; }, 10000));

  // A viewer reads everything and changes nothing.
  EngineSession viewer(engine.address(AdminEngine::Role::kViewer), fastOptions());
  CallResult denied = finished(
      viewer, [&] { return viewer.setBreakerMode("stock_store", admin::v1::MODE_FORCED_OPEN); });
  EXPECT_FALSE(denied.ok);
  EXPECT_TRUE(denied.error.startsWith("PERMISSION_DENIED")) << denied.error.toStdString();
  EXPECT_TRUE(denied.text().contains("set breaker stock_store to forced_open failed"));
}

TEST(EngineSessionTest, AWrongTokenIsRefusedWithoutRetries) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  EngineAddress wrong = engine.address();
  wrong.token = "not-a-token-0123456789";
  Fleet fleet(3600, fastOptions());
  fleet.addEngine(wrong);
  ASSERT_TRUE(QTest::qWaitFor([&] { return fleet.link(0).state == LinkState::kRejected; }, 10000))
      << fleet.link(0).text(0).toStdString();
  EXPECT_TRUE(fleet.link(0).reason.startsWith("UNAUTHENTICATED"))
      << fleet.link(0).reason.toStdString();
  EXPECT_FALSE(fleet.canChange());
}

}  // namespace
}  // namespace seckill::console
