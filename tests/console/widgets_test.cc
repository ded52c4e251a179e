// The widgets under the offscreen platform (QTest): the rule form checks as you type, the tree
// mirrors the trie, a chart receives points, a viewer's token disables every change and says
// why, and confirmations guard the forced breaker modes (on a real engine for the last two).
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeView>

#include "console/core/fleet.h"
#include "console/core/rule_editor.h"
#include "console/core/rule_trie_model.h"
#include "console/core/series_store.h"
#include "console/core/table_models.h"
#include "console/ui/breaker_band.h"
#include "console/ui/chart_panel.h"
#include "console/ui/confirm.h"
#include "console/ui/connect_dialog.h"
#include "console/ui/control_page.h"
#include "console/ui/dashboard_page.h"
#include "console/ui/main_window.h"
#include "console/ui/rule_form.h"
#include "console/ui/rules_page.h"
#include "console/ui/sales_page.h"
#include "gtest/gtest.h"
#include "tests/console/admin_engine.h"

namespace seckill::console {
namespace {

namespace v1 = ::seckill::admin::v1;
using testing::AdminEngine;

// Answers every confirmation with `answer` and keeps the questions.
struct Operator {
  bool answer = false;
  QList<Confirmation> asked;
  Confirmer confirmer() {
    return [this](QWidget*, const Confirmation& q) {
      asked.append(q);
      return answer;
    };
  }
};

// ---------------------------------------------------------------- The confirmation dialog

// Runs `answer(box)` on the confirmation box once it is up, from inside its exec(); returns the
// Confirmer's verdict and the box's texts.
struct Shown {
  bool verdict = false;
  QString title;
  QString text;
  QStringList buttons;
  QString default_button;
};
Shown confirmWith(const Confirmation& q, std::function<void(QMessageBox*)> answer) {
  Shown shown;
  QWidget parent;
  parent.show();
  QTimer poll;
  poll.setInterval(5);
  QObject::connect(&poll, &QTimer::timeout, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (box == nullptr || !box->isVisible()) return;
    poll.stop();
    shown.title = box->windowTitle();
    shown.text = box->text();
    for (QAbstractButton* b : box->buttons()) shown.buttons << b->text();
    if (box->defaultButton() != nullptr) shown.default_button = box->defaultButton()->text();
    answer(box);
  });
  poll.start();
  shown.verdict = dialogConfirmer()(&parent, q);
  return shown;
}

TEST(ConfirmDialogTest, NamesTheChangeAndOnlyTheActionButtonGoesAhead) {
  const Confirmation q{
      "Force open: breaker stock_store?",
      "Breaker stock_store will deny every call: every order will be answered 503.", "Force open"};
  // Return (the default button) and Esc both say no: a change never happens by a stray key.
  Shown enter = confirmWith(q, [](QMessageBox* box) { QTest::keyClick(box, Qt::Key_Return); });
  EXPECT_FALSE(enter.verdict);
  EXPECT_EQ(enter.title, q.title);
  EXPECT_TRUE(enter.text.contains("every order will be answered 503")) << enter.text.toStdString();
  EXPECT_TRUE(enter.buttons.contains("Force open"));
  EXPECT_FALSE(enter.default_button.isEmpty());
  EXPECT_NE(enter.default_button, "Force open") << "the default is Cancel";
  EXPECT_FALSE(
      confirmWith(q, [](QMessageBox* box) { QTest::keyClick(box, Qt::Key_Escape); }).verdict);
  // The button that names the action.
  EXPECT_TRUE(confirmWith(q, [](QMessageBox* box) {
                for (QAbstractButton* b : box->buttons()) {
                  if (b->text() == "Force open") b->click();
                }
              }).verdict);
}

// ---------------------------------------------------------------- RuleForm

TEST(RuleFormTest, ChecksAsYouTypeAndAsksTheEngineOnlyWhenClean) {
  RuleForm form;
  QSignalSpy asked(&form, &RuleForm::validateRequested);
  auto* path = qobject_cast<QLineEdit*>(form.field("path"));
  ASSERT_NE(path, nullptr);

  path->clear();
  QTest::keyClicks(path, "api/v1");
  EXPECT_FALSE(form.errorLabel("path")->isHidden());
  EXPECT_TRUE(form.errorLabel("path")->text().contains("must start with '/'"))
      << form.errorLabel("path")->text().toStdString();
  EXPECT_FALSE(form.acceptable());
  EXPECT_FALSE(form.validationPending());
  form.validateNow();
  EXPECT_TRUE(asked.isEmpty()) << "the engine is not asked about a rule the console refuses";

  path->clear();
  QTest::keyClicks(path, "/api/v1/sales/*/orders");
  EXPECT_TRUE(form.errorLabel("path")->isHidden());
  auto* rate = qobject_cast<QSpinBox*>(form.field("rate"));
  rate->setValue(0);
  EXPECT_FALSE(form.errorLabel("rate")->isHidden());
  EXPECT_TRUE(form.errorLabel("rate")->text().contains("rate must be > 0"));
  rate->setValue(50);
  EXPECT_TRUE(form.errorLabel("rate")->isHidden());

  // queue needs a bucket and a max wait.
  auto* algorithm = qobject_cast<QComboBox*>(form.field("algorithm"));
  auto* on_limit = qobject_cast<QComboBox*>(form.field("on_limit"));
  algorithm->setCurrentIndex(algorithm->findData(static_cast<int>(v1::SLIDING_WINDOW)));
  on_limit->setCurrentIndex(on_limit->findData(static_cast<int>(v1::QUEUE)));
  EXPECT_FALSE(form.errorLabel("on_limit")->isHidden());
  EXPECT_FALSE(form.errorLabel("max_wait")->isHidden());
  EXPECT_TRUE(form.summary()->text().contains("2 problems"))
      << form.summary()->text().toStdString();
  on_limit->setCurrentIndex(on_limit->findData(static_cast<int>(v1::REJECT)));
  EXPECT_TRUE(form.acceptable());

  // Clean: the engine is asked once the typing pauses (here: at once); its verdict shows by the
  // field.
  EXPECT_TRUE(asked.isEmpty()) << "not while typing";
  ASSERT_TRUE(form.validationPending());
  form.validateNow();
  ASSERT_EQ(asked.size(), 1);
  EXPECT_FALSE(form.validationPending());
  const auto rule = asked.last().at(0).value<v1::Rule>();
  EXPECT_EQ(rule.path(), "/api/v1/sales/*/orders");
  EXPECT_EQ(rule.rate(), 50);
  form.setPendingRequest(7);
  v1::ValidateRulesResponse verdict;
  v1::ValidationError* e = verdict.add_errors();
  e->set_field("rate");
  e->set_message("rule 1 \"POST /x\": contradicts rule 2 (50/s against 10/min)");
  form.setEngineResult(7, verdict);
  EXPECT_FALSE(form.errorLabel("rate")->isHidden());
  EXPECT_TRUE(form.errorLabel("rate")->text().contains("contradicts"));
  EXPECT_FALSE(form.acceptable());
  form.setEngineResult(6, v1::ValidateRulesResponse());  // an older answer changes nothing
  EXPECT_FALSE(form.acceptable());
}

// ---------------------------------------------------------------- Rules page

v1::ListRulesResponse listing() {
  v1::ListRulesResponse out;
  out.set_version(4);
  v1::TrieNode* node = out.mutable_root();
  for (const char* seg : {"api", "v1", "sales", "*", "orders"}) {
    v1::TrieNode* child = node->add_children();
    child->set_segment(seg);
    child->set_path(node->path() + "/" + seg);
    node = child;
  }
  for (auto [id, scope] : {std::pair{"global", v1::GLOBAL}, std::pair{"per-user", v1::USER}}) {
    v1::RuleView* view = node->add_rules();
    v1::Rule* r = view->mutable_rule();
    r->set_id(id);
    r->set_path(node->path());
    r->set_method("POST");
    r->mutable_scope()->set_kind(scope);
    r->set_rate(5);
    r->set_burst(10);
    view->mutable_counters()->set_passed(123);
    view->mutable_counters()->set_limited(45);
    *out.add_rules() = *view;
    *out.mutable_set()->add_rules() = *r;
  }
  return out;
}

TEST(RulesPageTest, TheTreeMirrorsTheTrie) {
  Fleet fleet;
  RuleEditor editor;
  Operator op;
  RulesPage page(&fleet, &editor, op.confirmer());
  page.resize(1200, 800);
  page.show();
  fleet.rules()->setRules(listing());
  QTreeView* tree = page.tree();
  const QAbstractItemModel* m = tree->model();
  QModelIndex at = m->index(0, 0);
  EXPECT_EQ(at.data().toString(), "/");
  for (const char* seg : {"api", "v1", "sales", "*", "orders"}) {
    ASSERT_EQ(m->rowCount(at), 1) << seg;
    at = m->index(0, 0, at);
    EXPECT_EQ(at.data().toString(), seg);
    EXPECT_TRUE(tree->isExpanded(at.parent())) << "the whole trie is open";
  }
  ASSERT_EQ(m->rowCount(at), 2);
  const QModelIndex rule = m->index(1, 0, at);
  EXPECT_EQ(rule.siblingAtColumn(RuleTrieModel::kScope).data().toString(), "user");
  EXPECT_EQ(rule.siblingAtColumn(RuleTrieModel::kRate).data().toString(), "5/s");
  EXPECT_EQ(rule.siblingAtColumn(RuleTrieModel::kPassed).data().toString(), "123");
  EXPECT_EQ(rule.siblingAtColumn(RuleTrieModel::kOnLimit).data().toString(), "reject");

  // Selecting a rule loads it into the form; staging an edit makes a pending change.
  tree->setCurrentIndex(rule);
  EXPECT_EQ(page.form()->target(), "per-user");
  EXPECT_EQ(qobject_cast<QSpinBox*>(page.form()->field("burst"))->value(), 10);
  page.setReadOnly(QString());
  page.form()->setPendingRequest(1);
  page.form()->setEngineResult(1, v1::ValidateRulesResponse());
  ASSERT_TRUE(page.stageButton()->isEnabled());
  QTest::mouseClick(page.stageButton(), Qt::LeftButton);
  EXPECT_EQ(editor.draft().size(), 1);
  EXPECT_TRUE(page.applyButton()->isEnabled());
}

// ---------------------------------------------------------------- Dashboard

TEST(DashboardTest, AChartReceivesPointsAndExports) {
  Fleet fleet;
  DashboardPage page(&fleet);
  page.resize(1400, 900);
  page.show();
  const qint64 now = QDateTime::currentSecsSinceEpoch();
  for (qint64 s = now - 119; s <= now; ++s) {
    StatsPoint p;
    p.node = "node-a";
    p.second = s;
    p.value(Metric::kRequests) = 100 + static_cast<double>(s % 7);
    p.value(Metric::kAdmitted) = 90;
    p.value(Metric::kRejected) = 10;
    p.value(Metric::kLatencyP99) = 2.5;
    p.breakers.push_back(
        BreakerLevel{"stock_store", s > now - 10 ? v1::OPEN : v1::CLOSED, v1::AUTOMATIC});
    fleet.series().add(p);
  }
  page.setRangeSeconds(60);
  page.redraw();
  ChartPanel* requests = page.charts().at(0);
  EXPECT_EQ(requests->lines().size(), 2);
  EXPECT_EQ(requests->pointCount(), 2 * 60) << "one point per second per line in the last minute";
  EXPECT_EQ(page.windowTo(), now);
  EXPECT_EQ(page.band()->bands(), QStringList{"node-a/stock_store"});

  page.setRangeSeconds(300);
  EXPECT_GT(requests->pointCount(), 2 * 60) << "all there is, at most one point per pixel";
  EXPECT_LE(requests->pointCount(), 2 * 120);

  // Scrolling back pauses; new seconds then leave the window where it is.
  page.setRangeSeconds(60);
  page.scrollBy(-30);
  EXPECT_TRUE(page.paused());
  EXPECT_EQ(page.windowTo(), now - 30);
  StatsPoint next;
  next.node = "node-a";
  next.second = now + 1;
  fleet.series().add(next);
  page.redraw();
  EXPECT_EQ(page.windowTo(), now - 30);
  page.goLive();
  EXPECT_EQ(page.windowTo(), now + 1);

  QTemporaryDir dir;
  ASSERT_TRUE(page.exportPng(dir.filePath("charts.png")));
  EXPECT_FALSE(QImage(dir.filePath("charts.png")).isNull());
  ASSERT_TRUE(page.exportCsv(dir.filePath("stats.csv")));
  QFile csv(dir.filePath("stats.csv"));
  ASSERT_TRUE(csv.open(QIODevice::ReadOnly));
  const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
  EXPECT_TRUE(lines.first().startsWith("time,unix_second,requests/s,admitted/s"));
  EXPECT_EQ(lines.size(), 1 + 60);
}

// ---------------------------------------------------------------- with an engine

const std::string kBody =
    "[[sale]]\nid = \"drop\"\nstock = 1000\n\n"
    "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\nrate = 1000\nburst = 100\n";

struct Window {
  explicit Window(Confirmer confirm)
      : settings(dir.filePath("console.ini"), QSettings::IniFormat),
        window(settings, std::move(confirm)) {
    window.resize(1400, 900);
    window.show();
  }
  QTemporaryDir dir;
  QSettings settings;
  MainWindow window;
};

TEST(ViewerTest, AViewerSeesEverythingAndEveryChangeIsDisabledWithTheReason) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  Operator op;
  Window w(op.confirmer());
  w.window.connectTo({engine.address(AdminEngine::Role::kViewer)});
  ASSERT_TRUE(QTest::qWaitFor([&] { return w.window.roleText().contains("viewer"); }, 10000));
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        return w.window.fleet()->rules()->ruleCount() == 1 &&
               w.window.fleet()->breakers()->rowCount() == 2 &&
               w.window.fleet()->sales()->rowCount() == 1;
      },
      10000))
      << "a viewer reads everything";
  EXPECT_TRUE(w.window.roleText().contains("read-only"));

  RulesPage* rules = w.window.rules();
  EXPECT_FALSE(rules->stageButton()->isEnabled());
  EXPECT_FALSE(rules->applyButton()->isEnabled());
  EXPECT_TRUE(rules->applyButton()->toolTip().contains("viewer"))
      << rules->applyButton()->toolTip().toStdString();
  EXPECT_FALSE(rules->form()->field("path")->isEnabled());
  ControlPage* control = w.window.control();
  ASSERT_TRUE(control->selectBreaker("stock_store"));
  for (v1::BreakerMode mode :
       {v1::MODE_FORCED_OPEN, v1::MODE_DISABLED, v1::MODE_METRICS_ONLY, v1::AUTOMATIC}) {
    EXPECT_FALSE(control->breakerButton(mode)->isEnabled());
    EXPECT_TRUE(control->breakerButton(mode)->toolTip().contains("operator token"));
  }
  control->prefixEdit()->setText("/api");
  EXPECT_FALSE(control->setOverrideButton()->isEnabled());
  SalesPage* sales = w.window.sales();
  sales->newId()->setText("new-drop");
  EXPECT_FALSE(sales->createButton()->isEnabled());
  // Even called directly, nothing is asked or sent.
  control->setBreakerMode(v1::MODE_FORCED_OPEN);
  EXPECT_TRUE(op.asked.isEmpty());
}

TEST(ConfirmationTest, AForcedBreakerModeNeedsTheOperatorsYes) {
  AdminEngine engine;
  ASSERT_TRUE(engine.start(kBody));
  Operator op;
  Window w(op.confirmer());
  w.window.connectTo({engine.address()});
  Fleet* fleet = w.window.fleet();
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return fleet->canChange() && fleet->breakers()->rowCount() == 2; }, 10000));
  ControlPage* control = w.window.control();
  ASSERT_TRUE(control->selectBreaker("stock_store"));
  int started = 0;  // queued to this thread
  QObject::connect(fleet->primary(), &EngineSession::callStarted, control, [&] { ++started; });
  auto mode = [&] {
    for (int row = 0; row < fleet->breakers()->rowCount(); ++row) {
      const QModelIndex i = fleet->breakers()->index(row, 0);
      if (i.data(kKeyRole).toString() == "stock_store") {
        return static_cast<v1::BreakerMode>(i.data(kModeRole).toInt());
      }
    }
    return v1::BREAKER_MODE_UNSPECIFIED;
  };

  // No: nothing is sent.
  op.answer = false;
  QTest::mouseClick(control->breakerButton(v1::MODE_FORCED_OPEN), Qt::LeftButton);
  ASSERT_EQ(op.asked.size(), 1);
  EXPECT_TRUE(op.asked[0].text.contains("every order will be answered 503"))
      << op.asked[0].text.toStdString();
  EXPECT_EQ(op.asked[0].action, "Force open");
  QTest::qWait(700);
  EXPECT_EQ(started, 0);
  EXPECT_EQ(mode(), v1::AUTOMATIC);

  // Yes: sent, and the table follows.
  op.answer = true;
  QTest::mouseClick(control->breakerButton(v1::MODE_FORCED_OPEN), Qt::LeftButton);
  ASSERT_TRUE(QTest::qWaitFor([&] { return mode() == v1::MODE_FORCED_OPEN; }, 10000));
  EXPECT_EQ(started, 1);

  // Every other mode asks too, naming its consequence.
  for (v1::BreakerMode m : {v1::MODE_DISABLED, v1::MODE_METRICS_ONLY, v1::AUTOMATIC}) {
    op.answer = false;
    QTest::mouseClick(control->breakerButton(m), Qt::LeftButton);
  }
  ASSERT_EQ(op.asked.size(), 5);
  EXPECT_TRUE(op.asked[2].text.contains("no protection"));
  EXPECT_TRUE(op.asked[4].text.contains("state machine"));
  op.answer = true;
  QTest::mouseClick(control->breakerButton(v1::AUTOMATIC), Qt::LeftButton);
  ASSERT_TRUE(QTest::qWaitFor([&] { return mode() == v1::AUTOMATIC; }, 10000));

  // Overrides ask too.
  op.answer = false;
  control->prefixEdit()->setText("/api/v1");
  control->overrideMode()->setCurrentIndex(
      control->overrideMode()->findData(static_cast<int>(v1::SHED)));
  QTest::mouseClick(control->setOverrideButton(), Qt::LeftButton);
  EXPECT_TRUE(op.asked.last().text.contains("503 shed"));
  QTest::qWait(300);
  EXPECT_EQ(fleet->overrides()->rowCount(), 0);
}

TEST(MainWindowTest, RemembersTheLastScreenTheRangeAndTheGeometry) {
  QTemporaryDir dir;
  QSettings settings(dir.filePath("console.ini"), QSettings::IniFormat);
  const auto never = [](QWidget*, const Confirmation&) { return false; };
  {
    MainWindow window(settings, never);
    EXPECT_EQ(window.page(), MainWindow::kDashboard) << "the first start";
    window.resize(1234, 876);
    window.show();
    window.showPage(MainWindow::kControl);
    window.dashboard()->setRangeSeconds(3600);
    window.close();
  }
  MainWindow again(settings, never);
  EXPECT_EQ(again.page(), MainWindow::kControl);
  EXPECT_EQ(again.dashboard()->rangeSeconds(), 3600);
  EXPECT_EQ(again.size(), QSize(1234, 876));
  // The keys switch screens.
  again.show();
  again.activateWindow();
  ASSERT_TRUE(QTest::qWaitForWindowActive(&again));
  QTest::keySequence(&again, QKeySequence(Qt::CTRL | Qt::Key_4));
  EXPECT_EQ(again.page(), MainWindow::kSales);
  QTest::keySequence(&again, QKeySequence(Qt::CTRL | Qt::Key_2));
  EXPECT_EQ(again.page(), MainWindow::kRules);
}

TEST(ConnectDialogTest, RemembersEnginesAndTheTokenOnlyWhenAsked) {
  QTemporaryDir dir;
  QSettings settings(dir.filePath("console.ini"), QSettings::IniFormat);
  {
    ConnectDialog dialog(settings);
    dialog.addressBox()->setEditText("127.0.0.1:9090, 127.0.0.1:9091");
    dialog.typedToken()->setChecked(true);
    dialog.tokenEdit()->setText("secret-token-0123");
    dialog.rememberToken()->setChecked(false);
    dialog.accept();
    ASSERT_EQ(dialog.result(), QDialog::Accepted) << dialog.problem()->text().toStdString();
    ASSERT_EQ(dialog.addresses().size(), 2) << "two nodes of one fleet";
    EXPECT_EQ(dialog.addresses()[1].target, "127.0.0.1:9091");
    EXPECT_EQ(dialog.addresses()[1].token, "secret-token-0123");
  }
  QList<EngineAddress> recent = recentEngines(settings);
  ASSERT_EQ(recent.size(), 1);
  EXPECT_EQ(recent[0].target, "127.0.0.1:9090, 127.0.0.1:9091");
  EXPECT_TRUE(recent[0].token.isEmpty()) << "not stored unless asked";
  {
    ConnectDialog dialog(settings);
    EXPECT_EQ(dialog.addressBox()->currentText(), "127.0.0.1:9090, 127.0.0.1:9091");
    dialog.typedToken()->setChecked(true);
    dialog.tokenEdit()->setText("secret-token-0123");
    dialog.rememberToken()->setChecked(true);
    dialog.accept();
  }
  EXPECT_EQ(recentEngines(settings)[0].token, "secret-token-0123");
  {
    ConnectDialog dialog(settings);
    dialog.addressBox()->setEditText("no-port");
    dialog.accept();
    EXPECT_NE(dialog.result(), QDialog::Accepted);
    EXPECT_TRUE(dialog.problem()->text().contains("HOST:PORT"));
  }
}

}  // namespace
}  // namespace seckill::console
