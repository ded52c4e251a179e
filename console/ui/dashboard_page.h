#pragma once

#include <QList>
#include <QWidget>

class QButtonGroup;
class QComboBox;
class QLabel;
class QListWidget;
class QScrollBar;
class QToolButton;

namespace seckill::console {

class BreakerBand;
class ChartPanel;
class Fleet;
class StockPanel;

// The dashboard: requests, limited by mode, orders and latency per second for the fleet (or
// one node), stock left per sale, and the breakers' states as a band under the charts. Range
// 1 min / 5 min / 1 h; pause, scroll back (scroll bar or wheel), and export. It redraws when new
// seconds arrive (once a second) and only while visible.
class DashboardPage : public QWidget {
  Q_OBJECT

 public:
  explicit DashboardPage(Fleet* fleet, QWidget* parent = nullptr);

  int rangeSeconds() const { return range_; }
  void setRangeSeconds(int seconds);
  bool paused() const { return paused_; }
  void setPaused(bool paused);
  // Moves the window by `seconds` (negative: back); pauses unless it reaches the newest second.
  void scrollBy(qint64 seconds);
  void goLive();
  // "" for the fleet, or a node id.
  void showNode(const QString& node);

  const QList<ChartPanel*>& charts() const { return charts_; }
  BreakerBand* band() const { return band_; }
  // The window drawn last (inclusive unix seconds).
  qint64 windowFrom() const { return from_; }
  qint64 windowTo() const { return to_; }

  // Every chart and the band in one picture / every series of the window in one CSV.
  bool exportPng(const QString& path);
  bool exportCsv(const QString& path);
  void exportPngDialog();
  void exportCsvDialog();

  // Draws the current window now, all at once (user actions, tests).
  void redraw();

  // The most CPU time (of the UI thread) a single step of the per-second redraw (one chart's
  // update and paint) took since the last call, in µs: the console's own share of an event-loop
  // delay, apart from the time the thread waited for a core (--measure).
  qint64 takeWorstStepCpuUs();

 signals:
  void firstChartDrawn();
  void rangeChanged(int seconds);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  // New seconds: redraws in steps, one chart per turn of the event loop.
  void scheduleRedraw();
  void redrawStep(int step);
  void computeWindow();
  void updateNodes();
  void updateLines();
  void updateControls();

  Fleet* fleet_;
  QList<ChartPanel*> charts_;
  BreakerBand* band_;
  StockPanel* stock_;
  QComboBox* node_box_;
  QButtonGroup* range_group_;
  QToolButton* pause_;
  QToolButton* live_;
  QScrollBar* scroll_;
  QLabel* where_;
  QListWidget* alerts_;
  int range_ = 300;
  bool paused_ = false;
  qint64 paused_end_ = 0;
  qint64 from_ = 0;
  qint64 to_ = 0;
  QString node_;
  bool redraw_pending_ = false;
  qint64 worst_step_cpu_us_ = 0;
  bool updating_scroll_ = false;
};

}  // namespace seckill::console
