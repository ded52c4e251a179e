#include "console/core/series_store.h"

#include <QDateTime>
#include <algorithm>
#include <cmath>
#include <limits>

namespace seckill::console {
namespace {

constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();
// A node whose newest second is this far behind the fleet's newest no longer holds the sum back.
constexpr qint64 kGoneAfterSeconds = 5;

template <class Slots>
auto firstAtOrAfter(const Slots& all, qint64 second) {
  return std::lower_bound(all.begin(), all.end(), second,
                          [](const auto& slot, qint64 s) { return slot.second < s; });
}

}  // namespace

SeriesStore::SeriesStore(int capacity_seconds) : capacity_(std::max(1, capacity_seconds)) {}

bool SeriesStore::add(const StatsPoint& point) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const NodeSeries& n) { return n.node == point.node; });
  if (it == nodes_.end()) {
    nodes_.push_back(NodeSeries{point.node, {}, {}, {}});
    it = nodes_.end() - 1;
  }
  NodeSeries& series = *it;
  if (!series.points.empty() && point.second <= series.points.back().second) return false;
  Slot slot;
  slot.second = point.second;
  slot.values = point.values;
  for (const BreakerLevel& b : point.breakers) {
    qsizetype index = series.breaker_names.indexOf(b.name);
    if (index < 0) {
      if (series.breaker_names.size() >= kMaxBreakers) continue;
      series.breaker_names.append(b.name);
      index = series.breaker_names.size() - 1;
    }
    slot.breaker_states[static_cast<size_t>(index)] = static_cast<uint8_t>(b.state);
  }
  series.points.push_back(slot);
  while (series.points.front().second <= point.second - capacity_) series.points.pop_front();
  series.latest = point;
  return true;
}

void SeriesStore::clear() { nodes_.clear(); }

QStringList SeriesStore::nodes() const {
  QStringList out;
  for (const NodeSeries& n : nodes_) out.append(n.node);
  return out;
}

const SeriesStore::NodeSeries* SeriesStore::find(const QString& node) const {
  for (const NodeSeries& n : nodes_) {
    if (n.node == node) return &n;
  }
  return nullptr;
}

int SeriesStore::size(const QString& node) const {
  const NodeSeries* n = find(node);
  return n == nullptr ? 0 : static_cast<int>(n->points.size());
}

qint64 SeriesStore::newest() const {
  qint64 out = 0;
  for (const NodeSeries& n : nodes_) {
    if (!n.points.empty()) out = std::max(out, n.points.back().second);
  }
  return out;
}

qint64 SeriesStore::oldest() const {
  qint64 out = 0;
  for (const NodeSeries& n : nodes_) {
    if (!n.points.empty() && (out == 0 || n.points.front().second < out)) {
      out = n.points.front().second;
    }
  }
  return out;
}

qint64 SeriesStore::fleetNewest() const {
  const qint64 top = newest();
  qint64 out = top;
  for (const NodeSeries& n : nodes_) {
    if (n.points.empty()) continue;
    const qint64 last = n.points.back().second;
    if (last >= top - kGoneAfterSeconds) out = std::min(out, last);
  }
  return out;
}

void SeriesStore::fill(const QString& node, Metric metric, qint64 from, qint64 to,
                       std::vector<double>& out) const {
  out.assign(static_cast<size_t>(std::max<qint64>(0, to - from + 1)), kAbsent);
  if (out.empty()) return;
  const size_t m = static_cast<size_t>(metric);
  const bool sum = isSummed(metric);
  for (const NodeSeries& n : nodes_) {
    if (!node.isEmpty() && n.node != node) continue;
    for (auto it = firstAtOrAfter(n.points, from); it != n.points.end() && it->second <= to; ++it) {
      double& cell = out[static_cast<size_t>(it->second - from)];
      const double v = it->values[m];
      if (std::isnan(cell)) {
        cell = v;
      } else {
        cell = sum ? cell + v : std::max(cell, v);
      }
    }
  }
}

std::optional<double> SeriesStore::value(const QString& node, Metric metric, qint64 second) const {
  std::vector<double> one;
  fill(node, metric, second, second, one);
  if (one.empty() || std::isnan(one.front())) return std::nullopt;
  return one.front();
}

QList<QPointF> SeriesStore::range(const QString& node, Metric metric, qint64 from, qint64 to,
                                  int max_points) const {
  QList<QPointF> out;
  std::vector<double> values;
  fill(node, metric, from, to, values);
  if (values.empty()) return out;
  const size_t n = values.size();
  const size_t bucket = std::max<size_t>(1, (n + static_cast<size_t>(std::max(1, max_points)) - 1) /
                                                static_cast<size_t>(std::max(1, max_points)));
  out.reserve(static_cast<qsizetype>(n / bucket + 1));
  for (size_t start = 0; start < n; start += bucket) {
    const size_t end = std::min(n, start + bucket);
    double best = kAbsent;
    size_t at = start;
    for (size_t i = start; i < end; ++i) {
      if (std::isnan(values[i])) continue;
      if (std::isnan(best) || values[i] > best) {
        best = values[i];
        at = i;
      }
    }
    if (std::isnan(best)) continue;
    if (bucket > 1) at = end - 1;  // buckets sit at their end, evenly spaced
    out.append(QPointF(static_cast<double>((from + static_cast<qint64>(at)) * 1000), best));
  }
  return out;
}

QStringList SeriesStore::breakers(const QString& node) const {
  const NodeSeries* n = find(node);
  return n == nullptr ? QStringList() : n->breaker_names;
}

std::vector<SeriesStore::StateRun> SeriesStore::breakerRuns(const QString& node,
                                                            const QString& breaker, qint64 from,
                                                            qint64 to) const {
  std::vector<StateRun> runs;
  const NodeSeries* n = find(node);
  if (n == nullptr) return runs;
  const qsizetype index = n->breaker_names.indexOf(breaker);
  if (index < 0) return runs;
  for (auto it = firstAtOrAfter(n->points, from); it != n->points.end() && it->second <= to; ++it) {
    const auto state =
        static_cast<v1::BreakerState>(it->breaker_states[static_cast<size_t>(index)]);
    if (!runs.empty() && runs.back().state == state && runs.back().to == it->second - 1) {
      runs.back().to = it->second;
    } else {
      runs.push_back(StateRun{it->second, it->second, state});
    }
  }
  return runs;
}

const StatsPoint* SeriesStore::latest(const QString& node) const {
  const NodeSeries* n = find(node);
  return n == nullptr || n->points.empty() ? nullptr : &n->latest;
}

QString SeriesStore::csv(const QString& node, const std::vector<Metric>& metrics, qint64 from,
                         qint64 to) const {
  QString out = QStringLiteral("time,unix_second");
  for (Metric m : metrics) out += QLatin1Char(',') + metricName(m);
  out += QLatin1Char('\n');
  std::vector<std::vector<double>> columns(metrics.size());
  for (size_t c = 0; c < metrics.size(); ++c) fill(node, metrics[c], from, to, columns[c]);
  for (qint64 s = from; s <= to; ++s) {
    const size_t i = static_cast<size_t>(s - from);
    bool any = false;
    for (const auto& column : columns) any = any || !std::isnan(column[i]);
    if (!any) continue;
    out += QDateTime::fromSecsSinceEpoch(s, Qt::UTC).toString(Qt::ISODate);
    out += QLatin1Char(',') + QString::number(s);
    for (const auto& column : columns) {
      out += QLatin1Char(',');
      if (!std::isnan(column[i])) out += QString::number(column[i], 'g', 10);
    }
    out += QLatin1Char('\n');
  }
  return out;
}

}  // namespace seckill::console
