#pragma once

#include <QList>
#include <QMainWindow>

#include "console/core/engine_session.h"
#include "console/ui/confirm.h"

class QLabel;
class QListWidget;
class QSettings;
class QStackedWidget;

namespace seckill::console {

class AlertBanner;
class ControlPage;
class DashboardPage;
class Fleet;
class RuleEditor;
class RulesPage;
class SalesPage;

// The console's window: the screens (Dashboard, Rules, Control, Sales) beside a list to switch
// between them, the alert banner above, and the status bar with each engine's link (retries with
// back-off, "engine not answering") and what the token may do. Remembers its geometry, the last
// screen and the dashboard's range in QSettings.
class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Page { kDashboard, kRules, kControl, kSales, kPageCount };

  MainWindow(QSettings& settings, Confirmer confirm, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Disconnects from the engines in use and connects to these (the first is the primary).
  void connectTo(const QList<EngineAddress>& engines);
  void showConnectDialog();
  void showPage(int page);
  int page() const;

  Fleet* fleet() const { return fleet_; }
  RuleEditor* editor() const { return editor_; }
  DashboardPage* dashboard() const { return dashboard_; }
  RulesPage* rules() const { return rules_; }
  ControlPage* control() const { return control_; }
  SalesPage* sales() const { return sales_; }
  AlertBanner* banner() const { return banner_; }
  // The status bar's text for each engine, and the role label.
  QStringList linkTexts() const;
  QString roleText() const;
  static QString pageName(int page);  // "dashboard", "rules", "control", "sales"

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildMenus();
  void updateLinks();
  void updateRole();
  void showMessage(const QString& text, bool error);

  QSettings& settings_;
  Fleet* fleet_;
  RuleEditor* editor_;
  AlertBanner* banner_;
  QListWidget* nav_;
  QStackedWidget* stack_;
  DashboardPage* dashboard_;
  RulesPage* rules_;
  ControlPage* control_;
  SalesPage* sales_;
  QList<QLabel*> link_labels_;
  QLabel* role_label_;
  QLabel* message_label_;
};

}  // namespace seckill::console
