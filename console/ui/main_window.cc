#include "console/ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QShortcut>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

#include "console/core/fleet.h"
#include "console/core/rule_editor.h"
#include "console/ui/alert_banner.h"
#include "console/ui/connect_dialog.h"
#include "console/ui/control_page.h"
#include "console/ui/dashboard_page.h"
#include "console/ui/rules_page.h"
#include "console/ui/sales_page.h"
#include "console/ui/theme.h"

namespace seckill::console {

MainWindow::MainWindow(QSettings& settings, Confirmer confirm, QWidget* parent)
    : QMainWindow(parent), settings_(settings) {
  setWindowTitle(QStringLiteral("seckill-console"));
  fleet_ = new Fleet(this);
  editor_ = new RuleEditor(this);
  banner_ = new AlertBanner(this);
  dashboard_ = new DashboardPage(fleet_, this);
  rules_ = new RulesPage(fleet_, editor_, confirm, this);
  control_ = new ControlPage(fleet_, confirm, this);
  sales_ = new SalesPage(fleet_, confirm, this);

  nav_ = new QListWidget(this);
  for (const QString& name : {tr("Dashboard"), tr("Rules"), tr("Control"), tr("Sales")}) {
    nav_->addItem(name);
  }
  for (int i = 0; i < kPageCount; ++i) nav_->item(i)->setToolTip(tr("Ctrl+%1").arg(i + 1));
  QFont big = nav_->font();
  big.setPointSizeF(big.pointSizeF() * 1.15);
  nav_->setFont(big);
  nav_->setFixedWidth(nav_->sizeHintForColumn(0) + 36);
  nav_->setSpacing(3);
  stack_ = new QStackedWidget(this);
  for (QWidget* page : std::initializer_list<QWidget*>{dashboard_, rules_, control_, sales_}) {
    stack_->addWidget(page);
  }

  auto* body = new QHBoxLayout();
  body->setContentsMargins(0, 0, 0, 0);
  body->addWidget(nav_);
  body->addWidget(stack_, 1);
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(4, 4, 4, 0);
  layout->addWidget(banner_);
  layout->addLayout(body, 1);
  setCentralWidget(central);

  role_label_ = new QLabel(this);
  message_label_ = new QLabel(this);
  statusBar()->addWidget(message_label_, 1);
  statusBar()->addPermanentWidget(role_label_);

  connect(nav_, &QListWidget::currentRowChanged, stack_, &QStackedWidget::setCurrentIndex);
  connect(fleet_, &Fleet::linkChanged, this, &MainWindow::updateLinks);
  connect(fleet_, &Fleet::statusChanged, this, &MainWindow::updateRole);
  connect(fleet_, &Fleet::alertRaised, banner_, &AlertBanner::raiseAlert);
  connect(fleet_, &Fleet::callFinished, this, [this](const CallResult& r) {
    if (!r.ok) showMessage(r.text(), true);
  });
  connect(rules_, &RulesPage::message, this, &MainWindow::showMessage);
  connect(control_, &ControlPage::message, this, &MainWindow::showMessage);
  connect(sales_, &SalesPage::message, this, &MainWindow::showMessage);
  connect(dashboard_, &DashboardPage::rangeChanged, this,
          [this](int s) { settings_.setValue(QStringLiteral("dashboard/range"), s); });
  auto* tick = new QTimer(this);  // "not answering for N s" counts up
  connect(tick, &QTimer::timeout, this, &MainWindow::updateLinks);
  tick->start(1000);

  buildMenus();
  restoreGeometry(settings_.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings_.value(QStringLiteral("window/state")).toByteArray());
  if (!settings_.contains(QStringLiteral("window/geometry"))) resize(1500, 950);
  dashboard_->setRangeSeconds(settings_.value(QStringLiteral("dashboard/range"), 300).toInt());
  showPage(settings_.value(QStringLiteral("window/page"), kDashboard).toInt());
  updateRole();
  updateLinks();
}

MainWindow::~MainWindow() = default;

QString MainWindow::pageName(int page) {
  switch (page) {
    case kDashboard:
      return QStringLiteral("dashboard");
    case kRules:
      return QStringLiteral("rules");
    case kControl:
      return QStringLiteral("control");
    case kSales:
      return QStringLiteral("sales");
    default:
      return QStringLiteral("page");
  }
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&Engine"));
  QAction* connect_action = file->addAction(tr("&Connect…"), this, &MainWindow::showConnectDialog);
  connect_action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
  QAction* refresh = file->addAction(tr("&Refresh"), this, [this] {
    for (int i = 0; i < fleet_->size(); ++i) fleet_->session(i)->refresh();
  });
  refresh->setShortcuts({QKeySequence::Refresh, QKeySequence(Qt::CTRL | Qt::Key_R)});
  file->addSeparator();
  QAction* png =
      file->addAction(tr("Export charts as &PNG…"), dashboard_, &DashboardPage::exportPngDialog);
  png->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  QAction* csv =
      file->addAction(tr("Export data as &CSV…"), dashboard_, &DashboardPage::exportCsvDialog);
  csv->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  const QStringList names = {tr("&Dashboard"), tr("&Rules"), tr("C&ontrol"), tr("&Sales")};
  for (int i = 0; i < kPageCount; ++i) {
    QAction* a = view->addAction(names[i], this, [this, i] { showPage(i); });
    a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
  }
  view->addSeparator();
  QAction* pause = view->addAction(tr("&Pause charts"), this,
                                   [this] { dashboard_->setPaused(!dashboard_->paused()); });
  pause->setShortcut(QKeySequence(Qt::Key_P));
  QAction* live = view->addAction(tr("&Live"), dashboard_, &DashboardPage::goLive);
  live->setShortcut(QKeySequence(Qt::Key_L));
  for (auto [seconds, text, key] : {std::tuple{60, tr("Last &minute"), Qt::Key_1},
                                    std::tuple{300, tr("Last &5 minutes"), Qt::Key_5},
                                    std::tuple{3600, tr("Last &hour"), Qt::Key_H}}) {
    QAction* a =
        view->addAction(text, this, [this, s = seconds] { dashboard_->setRangeSeconds(s); });
    a->setShortcut(QKeySequence(Qt::ALT | key));
  }
  QAction* back = view->addAction(
      tr("Scroll &back"), this, [this] { dashboard_->scrollBy(-dashboard_->rangeSeconds() / 2); });
  back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
  QAction* forward = view->addAction(tr("Scroll &forward"), this, [this] {
    dashboard_->scrollBy(dashboard_->rangeSeconds() / 2);
  });
  forward->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
  view->addSeparator();
  QAction* dismiss = view->addAction(tr("Dismiss &alerts"), banner_, &AlertBanner::dismiss);
  dismiss->setShortcut(QKeySequence(Qt::Key_Escape));
  dismiss->setShortcutContext(Qt::WindowShortcut);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard shortcuts"), this, [this] {
    QMessageBox::information(
        this, tr("Keyboard shortcuts"),
        tr("<table>"
           "<tr><td>Ctrl+1 … Ctrl+4</td><td>Dashboard, Rules, Control, Sales</td></tr>"
           "<tr><td>Ctrl+K</td><td>Connect to an engine</td></tr>"
           "<tr><td>F5, Ctrl+R</td><td>Read everything again</td></tr>"
           "<tr><td>P / L</td><td>Pause the charts / back to live</td></tr>"
           "<tr><td>Alt+1, Alt+5, Alt+H</td><td>Range 1 min, 5 min, 1 h</td></tr>"
           "<tr><td>Alt+Left / Alt+Right</td><td>Scroll the charts back / forward</td></tr>"
           "<tr><td>Ctrl+E / Ctrl+Shift+E</td><td>Export charts as PNG / data as CSV</td></tr>"
           "<tr><td>Ctrl+N</td><td>Rules: new rule</td></tr>"
           "<tr><td>Ctrl+Return</td><td>Rules: apply the pending changes</td></tr>"
           "<tr><td>Ctrl+F</td><td>Control: filter the audit log</td></tr>"
           "<tr><td>Esc</td><td>Dismiss the alerts</td></tr>"
           "<tr><td>Ctrl+Q</td><td>Quit</td></tr></table>"));
  });
  help->addAction(tr("&About"), this, [this] {
    QMessageBox::about(
        this, tr("About seckill-console"),
        tr("<b>seckill-console</b> %1<br>The operator's window on seckill engines: live "
           "traffic, rules, breakers and sales.")
            .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::showPage(int page) {
  if (page < 0 || page >= kPageCount) page = kDashboard;
  nav_->setCurrentRow(page);
  stack_->setCurrentIndex(page);
}

int MainWindow::page() const { return stack_->currentIndex(); }

void MainWindow::showConnectDialog() {
  auto* dialog = new ConnectDialog(settings_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] { connectTo(dialog->addresses()); });
  dialog->open();
}

void MainWindow::connectTo(const QList<EngineAddress>& engines) {
  rules_->setSession(nullptr);
  control_->setSession(nullptr);
  sales_->setSession(nullptr);
  editor_->setSession(nullptr);
  fleet_->clear();
  for (QLabel* l : link_labels_) delete l;
  link_labels_.clear();
  for (const EngineAddress& e : engines) {
    fleet_->addEngine(e);
    auto* label = new QLabel(this);
    label->setTextFormat(Qt::RichText);
    // After the message label (index 0), before the role label.
    statusBar()->insertPermanentWidget(1 + static_cast<int>(link_labels_.size()), label);
    link_labels_.append(label);
  }
  EngineSession* primary = fleet_->primary();
  editor_->setSession(primary);
  rules_->setSession(primary);
  control_->setSession(primary);
  sales_->setSession(primary);
  updateLinks();
  updateRole();
}

QStringList MainWindow::linkTexts() const {
  QStringList out;
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  for (int i = 0; i < fleet_->size(); ++i) {
    const LinkStatus link = fleet_->link(i);
    out << QStringLiteral("%1: %2").arg(link.node.isEmpty() ? link.target : link.node,
                                        link.text(now));
  }
  return out;
}

QString MainWindow::roleText() const { return role_label_->text(); }

void MainWindow::updateLinks() {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  const QPalette pal = palette();
  for (int i = 0; i < fleet_->size() && i < link_labels_.size(); ++i) {
    const LinkStatus link = fleet_->link(i);
    QColor color;
    switch (link.state) {
      case LinkState::kConnected:
        color = theme::okColor(pal);
        break;
      case LinkState::kConnecting:
      case LinkState::kIdle:
        color = theme::warningColor(pal);
        break;
      default:
        color = theme::errorColor(pal);
        break;
    }
    const QString who =
        link.node.isEmpty() ? link.target : QStringLiteral("%1 (%2)").arg(link.node, link.target);
    QString text = link.text(now);
    if (link.state != LinkState::kConnected) {
      text = QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped());
    }
    link_labels_[i]->setText(
        QStringLiteral("%1 %2: %3").arg(theme::dot(color), who.toHtmlEscaped(), text));
    link_labels_[i]->setToolTip(link.reason);
  }
  if (fleet_->size() == 0) {
    message_label_->setText(tr("Not connected: Engine → Connect… (Ctrl+K)"));
  } else if (message_label_->text().startsWith(tr("Not connected"))) {
    message_label_->clear();
  }
}

void MainWindow::updateRole() {
  const QString reason = fleet_->readOnlyReason();
  rules_->setReadOnly(reason);
  control_->setReadOnly(reason);
  sales_->setReadOnly(reason);
  const auto& status = fleet_->status();
  if (status.caller_role().empty()) {
    role_label_->setText(QString());
  } else {
    role_label_->setText(tr("%1 · %2%3")
                             .arg(QString::fromStdString(status.caller_name()),
                                  QString::fromStdString(status.caller_role()),
                                  fleet_->canChange() ? QString() : tr(" (read-only)")));
    role_label_->setToolTip(reason);
  }
  if (!status.node_id().empty()) {
    setWindowTitle(tr("seckill-console — %1 — rules v%2")
                       .arg(QString::fromStdString(status.node_id()))
                       .arg(status.rules_version()));
  }
}

void MainWindow::showMessage(const QString& text, bool error) {
  const QString shown = error ? QStringLiteral("<span style=\"color:%1\">%2</span>")
                                    .arg(theme::errorColor(palette()).name(), text.toHtmlEscaped())
                              : text.toHtmlEscaped();
  message_label_->setText(shown);
  message_label_->setToolTip(text);
  QTimer::singleShot(error ? 20000 : 8000, message_label_, [label = message_label_, shown] {
    if (label->text() == shown) label->clear();
  });
}

void MainWindow::closeEvent(QCloseEvent* event) {
  settings_.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings_.setValue(QStringLiteral("window/state"), saveState());
  settings_.setValue(QStringLiteral("window/page"), page());
  QMainWindow::closeEvent(event);
}

}  // namespace seckill::console
