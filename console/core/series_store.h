#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "console/core/stats_point.h"

namespace seckill::console {

// The per-second series of every node of a fleet, and their fleet value (counts summed,
// latencies the worst node's), each bounded to the last `capacity` seconds.
//
// A node's seconds are taken in order: a second at or before the newest one the node already
// has is refused, so a stream that resumes after a reconnect can never duplicate a point. A
// second the engine never recorded (while it was down) stays absent: no invented zeros.
//
// Thread-safety: none; one thread (the UI's) owns it.
class SeriesStore {
 public:
  // Breakers remembered per node, per second (the engine has two: stock_store, order_store).
  static constexpr int kMaxBreakers = 8;

  explicit SeriesStore(int capacity_seconds = 3600);
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Adds one second of one node; false (nothing changes) when the node already has it or a
  // newer one. Drops the node's seconds older than `capacity` before the newest.
  bool add(const StatsPoint& point);
  void clear();

  int capacity() const { return capacity_; }
  // The nodes, in the order they first reported.
  QStringList nodes() const;
  // How many seconds a node holds (0 for an unknown node).
  int size(const QString& node) const;
  // The newest / oldest second any node holds; 0 when empty.
  qint64 newest() const;
  qint64 oldest() const;
  // The newest second for which the fleet value is complete: the oldest "newest second" among
  // the nodes still reporting (a node more than 5 s behind the newest is deemed gone and left
  // out). Equals newest() with one node.
  qint64 fleetNewest() const;

  // A node's value at `second` (node empty: the fleet's); nullopt where there is no point.
  std::optional<double> value(const QString& node, Metric metric, qint64 second) const;

  // The points of one series between `from` and `to` (inclusive seconds) for a chart:
  // x = milliseconds since the epoch, y = the value; seconds without data are left out. With
  // more seconds than `max_points`, consecutive seconds are merged into equal buckets that
  // show their largest value (so a one-second spike stays visible at any zoom).
  QList<QPointF> range(const QString& node, Metric metric, qint64 from, qint64 to,
                       int max_points) const;

  // A breaker's state over time: consecutive seconds with one state as one run.
  struct StateRun {
    qint64 from = 0;  // inclusive seconds
    qint64 to = 0;
    v1::BreakerState state = v1::BREAKER_STATE_UNSPECIFIED;
  };
  QStringList breakers(const QString& node) const;
  std::vector<StateRun> breakerRuns(const QString& node, const QString& breaker, qint64 from,
                                    qint64 to) const;

  // The newest second of a node in full (sales, breakers, busiest rules); nullptr if none.
  const StatsPoint* latest(const QString& node) const;

  // The seconds between `from` and `to` as CSV: "time,unix_second,<metricName()...>", one row
  // per second that has data (node empty: the fleet), time in ISO 8601 UTC.
  QString csv(const QString& node, const std::vector<Metric>& metrics, qint64 from,
              qint64 to) const;

 private:
  struct Slot {
    qint64 second = 0;
    std::array<double, kMetricCount> values{};
    std::array<uint8_t, kMaxBreakers> breaker_states{};
  };
  struct NodeSeries {
    QString node;
    std::deque<Slot> points;  // increasing seconds
    QStringList breaker_names;
    StatsPoint latest;
  };

  const NodeSeries* find(const QString& node) const;
  // One value per second of [from, to] (NaN where absent) into `out`.
  void fill(const QString& node, Metric metric, qint64 from, qint64 to,
            std::vector<double>& out) const;

  const int capacity_;
  std::vector<NodeSeries> nodes_;
};

}  // namespace seckill::console
