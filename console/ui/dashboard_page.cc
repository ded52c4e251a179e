#include "console/ui/dashboard_page.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QSaveFile>
#include <QScrollArea>
#include <QScrollBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <utility>

#include "console/core/fleet.h"
#include "console/core/loop_probe.h"
#include "console/core/series_store.h"
#include "console/ui/breaker_band.h"
#include "console/ui/chart_panel.h"
#include "console/ui/stock_panel.h"

namespace seckill::console {
namespace {

QToolButton* toolButton(const QString& text, const QString& tip, QWidget* parent) {
  auto* b = new QToolButton(parent);
  b->setText(text);
  b->setToolTip(tip);
  b->setToolButtonStyle(Qt::ToolButtonTextOnly);
  b->setAutoRaise(false);
  // Checked also reads as bold: a pressed look alone is faint on some dark palettes.
  QObject::connect(b, &QToolButton::toggled, b, [b](bool on) {
    QFont f = b->font();
    f.setBold(on);
    b->setFont(f);
  });
  return b;
}

}  // namespace

DashboardPage::DashboardPage(Fleet* fleet, QWidget* parent) : QWidget(parent), fleet_(fleet) {
  const SeriesStore& store = fleet_->series();
  charts_ = {
      new ChartPanel(tr("Requests per second"), tr("req/s"), store, this),
      new ChartPanel(tr("Limited per second, by mode"), tr("req/s"), store, this),
      new ChartPanel(tr("Orders per second"), tr("orders/s"), store, this),
      new ChartPanel(tr("Latency"), tr("ms"), store, this),
  };
  band_ = new BreakerBand(store, this);
  stock_ = new StockPanel(fleet_->sales(), this);

  // The bar above the charts.
  node_box_ = new QComboBox(this);
  node_box_->setToolTip(tr("The fleet's sum, or one node"));
  node_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  range_group_ = new QButtonGroup(this);
  auto* bar = new QHBoxLayout();
  bar->addWidget(new QLabel(tr("Show:"), this));
  bar->addWidget(node_box_);
  bar->addSpacing(16);
  bar->addWidget(new QLabel(tr("Range:"), this));
  for (auto [seconds, text] :
       {std::pair{60, tr("1 min")}, std::pair{300, tr("5 min")}, std::pair{3600, tr("1 h")}}) {
    QToolButton* b = toolButton(text, tr("Show the last %1").arg(text), this);
    b->setCheckable(true);
    range_group_->addButton(b, seconds);
    bar->addWidget(b);
  }
  range_group_->setExclusive(true);
  bar->addSpacing(16);
  pause_ = toolButton(tr("Pause"), tr("Freeze the charts (P); data keeps arriving"), this);
  pause_->setCheckable(true);
  live_ = toolButton(tr("Live"), tr("Back to the newest second (L)"), this);
  bar->addWidget(pause_);
  bar->addWidget(live_);
  where_ = new QLabel(this);
  bar->addSpacing(12);
  bar->addWidget(where_);
  bar->addStretch(1);
  QToolButton* png = toolButton(tr("Export PNG…"), tr("Save the charts as one PNG (Ctrl+E)"), this);
  QToolButton* csv =
      toolButton(tr("Export CSV…"), tr("Save the window's data as CSV (Ctrl+Shift+E)"), this);
  bar->addWidget(png);
  bar->addWidget(csv);

  auto* grid = new QGridLayout();
  grid->setSpacing(6);
  for (int i = 0; i < charts_.size(); ++i) grid->addWidget(charts_[i], i / 2, i % 2);
  scroll_ = new QScrollBar(Qt::Horizontal, this);
  scroll_->setToolTip(tr("Scroll back in time"));

  auto* left = new QVBoxLayout();
  left->addLayout(grid, 1);
  left->addWidget(scroll_);
  auto* band_title = new QLabel(tr("<b>Breakers</b>"), this);
  left->addWidget(band_title);
  left->addWidget(band_);

  auto* stock_area = new QScrollArea(this);
  stock_area->setWidget(stock_);
  stock_area->setWidgetResizable(true);
  stock_area->setFrameShape(QFrame::NoFrame);
  alerts_ = new QListWidget(this);
  alerts_->setWordWrap(true);
  alerts_->setToolTip(tr("The last alerts, newest first"));
  auto* right = new QVBoxLayout();
  right->addWidget(stock_area, 1);
  right->addWidget(new QLabel(tr("<b>Recent alerts</b>"), this));
  right->addWidget(alerts_, 1);
  auto* right_box = new QWidget(this);
  right_box->setLayout(right);
  right->setContentsMargins(0, 0, 0, 0);
  right_box->setMinimumWidth(260);
  right_box->setMaximumWidth(340);

  auto* body = new QHBoxLayout();
  body->addLayout(left, 1);
  body->addWidget(right_box);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addLayout(body, 1);

  for (ChartPanel* chart : charts_) {
    connect(chart, &ChartPanel::scrollRequested, this, &DashboardPage::scrollBy);
    connect(chart, &ChartPanel::firstDrawn, this, &DashboardPage::firstChartDrawn);
  }
  connect(range_group_, &QButtonGroup::idClicked, this, &DashboardPage::setRangeSeconds);
  connect(pause_, &QToolButton::toggled, this, &DashboardPage::setPaused);
  connect(live_, &QToolButton::clicked, this, &DashboardPage::goLive);
  connect(png, &QToolButton::clicked, this, &DashboardPage::exportPngDialog);
  connect(csv, &QToolButton::clicked, this, &DashboardPage::exportCsvDialog);
  connect(scroll_, &QScrollBar::valueChanged, this, [this](int value) {
    if (updating_scroll_) return;
    const qint64 end = fleet_->series().oldest() + value;
    if (end >= fleet_->series().fleetNewest()) {
      goLive();
      return;
    }
    paused_end_ = end;
    setPaused(true);
  });
  connect(node_box_, &QComboBox::currentIndexChanged, this, [this](int index) {
    if (index >= 0) showNode(node_box_->itemData(index).toString());
  });
  connect(fleet_, &Fleet::seriesChanged, this, &DashboardPage::scheduleRedraw);
  connect(fleet_, &Fleet::alertRaised, this, [this](const Alert& alert) {
    alerts_->insertItem(
        0, QStringLiteral("%1  %2").arg(
               QDateTime::fromSecsSinceEpoch(alert.second).toString(QStringLiteral("HH:mm:ss")),
               alert.text));
    while (alerts_->count() > 50) delete alerts_->takeItem(alerts_->count() - 1);
  });

  range_group_->button(range_)->setChecked(true);
  updateNodes();
  updateLines();
  updateControls();
}

void DashboardPage::setRangeSeconds(int seconds) {
  if (seconds != 60 && seconds != 300 && seconds != 3600) return;
  if (QAbstractButton* b = range_group_->button(seconds)) b->setChecked(true);
  if (seconds == range_) return;
  range_ = seconds;
  emit rangeChanged(seconds);
  redraw();
}

void DashboardPage::setPaused(bool paused) {
  if (paused && !paused_ && paused_end_ == 0) paused_end_ = to_;
  if (!paused) paused_end_ = 0;
  paused_ = paused;
  if (pause_->isChecked() != paused) pause_->setChecked(paused);
  redraw();
}

void DashboardPage::scrollBy(qint64 seconds) {
  const SeriesStore& store = fleet_->series();
  const qint64 newest = store.fleetNewest();
  const qint64 oldest = store.oldest();
  if (newest == 0) return;
  const qint64 end = std::clamp((paused_ ? paused_end_ : newest) + seconds,
                                std::min(newest, oldest + range_ - 1), newest);
  if (end >= newest) {
    goLive();
    return;
  }
  paused_end_ = end;
  setPaused(true);
}

void DashboardPage::goLive() {
  paused_end_ = 0;
  setPaused(false);
}

void DashboardPage::showNode(const QString& node) {
  if (node == node_) return;
  node_ = node;
  const int index = node_box_->findData(node);
  if (index >= 0 && index != node_box_->currentIndex()) node_box_->setCurrentIndex(index);
  updateLines();
  redraw();
}

void DashboardPage::scheduleRedraw() {
  if (redraw_pending_ || !isVisible()) return;
  redraw_pending_ = true;
  QTimer::singleShot(0, this, [this] { redrawStep(0); });
}

void DashboardPage::redrawStep(int step) {
  // One chart per turn of the event loop: the loop never waits for all four at once.
  const qint64 cpu_start = threadCpuMicros();
  if (step == 0) {
    updateNodes();
    computeWindow();
  }
  if (step < charts_.size()) {
    charts_[step]->showWindow(from_, to_);
    // Painted now, alone: left to the next window update, the four would paint in one go.
    charts_[step]->viewport()->repaint();
    worst_step_cpu_us_ = std::max(worst_step_cpu_us_, threadCpuMicros() - cpu_start);
    QTimer::singleShot(0, this, [this, step] { redrawStep(step + 1); });
    return;
  }
  band_->showWindow(node_, from_, to_);
  updateControls();
  worst_step_cpu_us_ = std::max(worst_step_cpu_us_, threadCpuMicros() - cpu_start);
  redraw_pending_ = false;
}

qint64 DashboardPage::takeWorstStepCpuUs() { return std::exchange(worst_step_cpu_us_, 0); }

void DashboardPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  redraw();
}

void DashboardPage::updateNodes() {
  const QStringList nodes = fleet_->series().nodes();
  QStringList have;
  for (int i = 1; i < node_box_->count(); ++i) have << node_box_->itemData(i).toString();
  if (have == nodes && node_box_->count() > 0) return;
  const QSignalBlocker block(node_box_);
  node_box_->clear();
  node_box_->addItem(
      nodes.size() > 1 ? tr("Fleet (sum of %1 nodes)").arg(nodes.size()) : tr("Fleet"), QString());
  for (const QString& n : nodes) node_box_->addItem(tr("Node %1").arg(n), n);
  node_box_->setCurrentIndex(std::max(0, node_box_->findData(node_)));
  updateLines();
}

void DashboardPage::updateLines() {
  const QString& n = node_;
  QList<ChartPanel::Line> requests = {{n, Metric::kRequests, tr("requests")},
                                      {n, Metric::kAdmitted, tr("admitted")}};
  const QStringList nodes = fleet_->series().nodes();
  if (n.isEmpty() && nodes.size() > 1) {
    for (const QString& node : nodes) {
      requests.append({node, Metric::kRequests, tr("requests on %1").arg(node)});
    }
  }
  charts_[0]->setLines(requests);
  charts_[1]->setLines({{n, Metric::kRejected, tr("rejected (429)")},
                        {n, Metric::kQueued, tr("queued")},
                        {n, Metric::kShadowLimited, tr("shadow (log)")},
                        {n, Metric::kShed, tr("shed (503)")}});
  charts_[2]->setLines({{n, Metric::kOrdersCreated, tr("created")},
                        {n, Metric::kOrdersPaid, tr("paid")},
                        {n, Metric::kOrdersCancelled, tr("cancelled")}});
  charts_[3]->setLines({{n, Metric::kLatencyP99, tr("p99")}, {n, Metric::kLatencyP50, tr("p50")}});
}

void DashboardPage::updateControls() {
  const SeriesStore& store = fleet_->series();
  const qint64 oldest = store.oldest();
  const qint64 newest = store.fleetNewest();
  updating_scroll_ = true;
  if (newest == 0) {
    scroll_->setRange(0, 0);
  } else {
    const qint64 min_end = std::min(newest, oldest + range_ - 1);
    scroll_->setRange(static_cast<int>(min_end - oldest), static_cast<int>(newest - oldest));
    scroll_->setPageStep(range_);
    scroll_->setSingleStep(std::max(1, range_ / 10));
    scroll_->setValue(static_cast<int>(to_ - oldest));
  }
  updating_scroll_ = false;
  live_->setEnabled(paused_);
  const QString fmt = QStringLiteral("HH:mm:ss");
  if (newest == 0) {
    where_->setText(tr("waiting for data…"));
  } else if (paused_) {
    where_->setText(tr("<b>paused</b> at %1 (%2 s behind)")
                        .arg(QDateTime::fromSecsSinceEpoch(to_).toString(fmt))
                        .arg(newest - to_));
  } else {
    where_->setText(tr("live · %1").arg(QDateTime::fromSecsSinceEpoch(to_).toString(fmt)));
  }
}

void DashboardPage::computeWindow() {
  const SeriesStore& store = fleet_->series();
  const qint64 newest = node_.isEmpty() ? store.fleetNewest() : store.newest();
  to_ = paused_ && paused_end_ > 0 ? paused_end_ : newest;
  if (to_ == 0) to_ = QDateTime::currentSecsSinceEpoch();
  from_ = to_ - range_ + 1;
}

void DashboardPage::redraw() {
  updateNodes();
  computeWindow();
  for (ChartPanel* chart : charts_) chart->showWindow(from_, to_);
  band_->showWindow(node_, from_, to_);
  updateControls();
}

bool DashboardPage::exportPng(const QString& path) {
  QList<QPixmap> parts;
  for (ChartPanel* chart : charts_) parts.append(chart->grab());
  const QPixmap band = band_->grab();
  const int w = parts[0].width() + parts[1].width();
  const int h = parts[0].height() + parts[2].height() + band.height();
  QPixmap out(w, h);
  out.fill(palette().color(QPalette::Window));
  QPainter p(&out);
  p.drawPixmap(0, 0, parts[0]);
  p.drawPixmap(parts[0].width(), 0, parts[1]);
  p.drawPixmap(0, parts[0].height(), parts[2]);
  p.drawPixmap(parts[2].width(), parts[0].height(), parts[3]);
  p.drawPixmap(0, parts[0].height() + parts[2].height(), band);
  p.end();
  return out.save(path, "PNG");
}

bool DashboardPage::exportCsv(const QString& path) {
  const std::vector<Metric> all = {
      Metric::kRequests,        Metric::kAdmitted,   Metric::kRejected,      Metric::kQueued,
      Metric::kShadowLimited,   Metric::kShed,       Metric::kOrdersCreated, Metric::kOrdersPaid,
      Metric::kOrdersCancelled, Metric::kLatencyP50, Metric::kLatencyP99,    Metric::kLatencyMax};
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return false;
  file.write(fleet_->series().csv(node_, all, from_, to_).toUtf8());
  return file.commit();
}

void DashboardPage::exportPngDialog() {
  const QString name =
      QStringLiteral("seckill-dashboard-%1.png")
          .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Export charts"), name, tr("PNG images (*.png)"));
  if (!path.isEmpty()) exportPng(path);
}

void DashboardPage::exportCsvDialog() {
  const QString name =
      QStringLiteral("seckill-stats-%1.csv")
          .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Export data"), name, tr("CSV files (*.csv)"));
  if (!path.isEmpty()) exportCsv(path);
}

}  // namespace seckill::console
