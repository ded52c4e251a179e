#include "console/ui/screenshot_tour.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QDir>
#include <QPixmap>
#include <QScreen>
#include <QTableView>
#include <QTimer>
#include <QTreeView>
#include <cstdio>

#include "console/core/fleet.h"
#include "console/core/rule_trie_model.h"
#include "console/core/table_models.h"
#include "console/ui/control_page.h"
#include "console/ui/main_window.h"
#include "console/ui/rules_page.h"
#include "console/ui/sales_page.h"
#include "console/ui/theme.h"

namespace seckill::console {
namespace {

// The first rule in the trie, depth first.
QModelIndex firstRule(const QAbstractItemModel* model, const QModelIndex& parent) {
  for (int row = 0; row < model->rowCount(parent); ++row) {
    const QModelIndex index = model->index(row, 0, parent);
    if (index.data(RuleTrieModel::kIsRuleRole).toBool()) return index;
    const QModelIndex below = firstRule(model, index);
    if (below.isValid()) return below;
  }
  return {};
}

constexpr int kSettleMs = 900;

}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, QString dir, QObject* parent)
    : QObject(parent), window_(window), dir_(std::move(dir)) {}

void ScreenshotTour::start(int delay_ms) {
  QDir().mkpath(dir_);
  // The whole screen (Xvfb has no window manager to maximise it).
  if (QScreen* screen = window_->screen()) window_->setGeometry(screen->availableGeometry());
  QTimer::singleShot(delay_ms, this, &ScreenshotTour::step);
}

bool ScreenshotTour::save(QWidget* widget, const QString& name) {
  const QString path = QDir(dir_).filePath(QStringLiteral("console-%1.png").arg(name));
  const bool saved = widget->grab().save(path, "PNG");
  std::fprintf(stderr, "seckill-console: %s %s\n", saved ? "saved" : "could not save",
               qPrintable(path));
  ok_ = ok_ && saved;
  return saved;
}

void ScreenshotTour::step() {
  if (page_ >= MainWindow::kPageCount) {
    // The diff dialog: the oldest kept version against the running one.
    const VersionsModel* versions = window_->fleet()->versions();
    const int last = versions->rowCount() - 1;
    if (last >= 1) {
      window_->showPage(MainWindow::kRules);
      window_->rules()->compareVersions(versions->versionAt(last), 0);
      QTimer::singleShot(200, this, [this] { shootDiff(50); });
    } else {
      shootDark();
    }
    return;
  }
  const int page = page_++;
  window_->showPage(page);
  if (page == MainWindow::kRules) {
    QTreeView* tree = window_->rules()->tree();
    const QModelIndex rule = firstRule(tree->model(), {});
    if (rule.isValid()) tree->setCurrentIndex(rule);
  } else if (page == MainWindow::kControl) {
    window_->control()->selectBreaker(QStringLiteral("order_store"));  // the drilled one
  } else if (page == MainWindow::kSales) {
    QTableView* table = window_->sales()->table();
    if (table->model()->rowCount() > 0) table->selectRow(0);
  }
  QTimer::singleShot(kSettleMs, this, [this, page] {
    save(window_, MainWindow::pageName(page));
    step();
  });
}

void ScreenshotTour::shootDiff(int tries) {
  QWidget* dialog = window_->rules()->openDialog();
  if (dialog == nullptr) {
    if (tries <= 0) {
      shootDark();
      return;
    }
    QTimer::singleShot(100, this, [this, tries] { shootDiff(tries - 1); });
    return;
  }
  QTimer::singleShot(kSettleMs, this, [this, dialog] {
    save(dialog, QStringLiteral("diff"));
    dialog->close();
    shootDark();
  });
}

void ScreenshotTour::shootDark() {
  theme::applyScheme(*qApp, theme::Scheme::kDark);
  window_->showPage(MainWindow::kDashboard);
  QTimer::singleShot(kSettleMs + 1100, this, [this] {  // a new second redrawn in the dark
    save(window_, QStringLiteral("dashboard-dark"));
    emit done(ok_);
  });
}

}  // namespace seckill::console
