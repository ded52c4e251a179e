#pragma once

#include <QList>
#include <QString>
#include <QtCharts/QChartView>

#include "console/core/stats_point.h"

class QGraphicsLineItem;

namespace seckill::console {

class SeriesStore;

// One dashboard chart: a few series of the SeriesStore over a time window, with the time on x.
// Hovering shows the exact value of every line at that second; the wheel scrolls back in time;
// the context menu saves the chart as PNG or its data as CSV. It only draws: the store and the
// window come from the dashboard.
class ChartPanel : public QChartView {
  Q_OBJECT

 public:
  struct Line {
    QString node;  // empty: the fleet's value
    Metric metric = Metric::kRequests;
    QString name;
    bool operator==(const Line& o) const {
      return node == o.node && metric == o.metric && name == o.name;
    }
  };

  ChartPanel(const QString& title, const QString& unit, const SeriesStore& store,
             QWidget* parent = nullptr);

  void setLines(const QList<Line>& lines);
  const QList<Line>& lines() const { return lines_; }
  // Draws [from, to] (inclusive unix seconds).
  void showWindow(qint64 from, qint64 to);
  // Points drawn over all lines.
  int pointCount() const;
  QString title() const;
  // The window's data, one column per line.
  QString csv() const;
  bool savePng(const QString& path);

 signals:
  // The first paint that showed points (for the start-up figure).
  void firstDrawn();
  // The wheel asks to move the window by `seconds` (negative: back in time).
  void scrollRequested(qint64 seconds);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void applyPalette();
  void hideHover();

  const SeriesStore& store_;
  const QString unit_;
  QList<Line> lines_;
  qint64 from_ = 0;
  qint64 to_ = 0;
  bool drawn_ = false;
  QGraphicsLineItem* marker_ = nullptr;
};

}  // namespace seckill::console
