#include "console/core/alerts.h"

#include <numeric>

#include "console/core/labels.h"

namespace seckill::console {
namespace {

bool isOpen(v1::BreakerState s) { return s == v1::OPEN || s == v1::FORCED_OPEN; }

}  // namespace

std::vector<Alert> AlertDetector::observe(const StatsPoint& point) {
  std::vector<Alert> alerts;
  NodeState& node = nodes_[point.node];
  const bool live = !point.history;
  const QString where = point.node.isEmpty() ? QString() : QStringLiteral(" on %1").arg(point.node);

  for (const BreakerLevel& b : point.breakers) {
    v1::BreakerState& known = node.breakers[b.name];
    const v1::BreakerState before = known;
    known = b.state;
    if (live && isOpen(b.state) && !isOpen(before)) {
      alerts.push_back(Alert{
          Alert::Kind::kBreakerOpened, point.node, b.name, point.second,
          b.state == v1::FORCED_OPEN
              ? QStringLiteral("Breaker %1 forced open%2: orders are answered 503.")
                    .arg(b.name, where)
              : QStringLiteral("Breaker %1 opened%2: its backend fails or is slow; orders are "
                               "answered 503 until it closes.")
                    .arg(b.name, where)});
    }
  }

  for (const SaleLevel& s : point.sales) {
    auto [it, fresh] = node.sales.try_emplace(s.id, v1::SALE_STATE_UNSPECIFIED);
    const v1::SaleState before = it->second;
    it->second = s.state;
    if (live && !fresh && s.state == v1::SOLD_OUT && before != v1::SOLD_OUT) {
      alerts.push_back(Alert{Alert::Kind::kSoldOut, point.node, s.id, point.second,
                             QStringLiteral("Sale %1 sold out (%2 units)%3.")
                                 .arg(s.id)
                                 .arg(s.stock_total)
                                 .arg(where)});
    }
  }

  const double requests = point.value(Metric::kRequests);
  if (requests >= options_.min_requests) {
    const double share = point.limited() / requests;
    if (!node.shares.empty()) {
      const double average = std::accumulate(node.shares.begin(), node.shares.end(), 0.0) /
                             static_cast<double>(node.shares.size());
      if (node.jumped && share < average + options_.jump / 2) node.jumped = false;
      if (live && !node.jumped && share >= average + options_.jump) {
        node.jumped = true;
        alerts.push_back(
            Alert{Alert::Kind::kLimitedJump, point.node, QString(), point.second,
                  QStringLiteral("Limited share jumped to %1% of requests (from %2%)%3.")
                      .arg(qRound(share * 100))
                      .arg(qRound(average * 100))
                      .arg(where)});
      }
    }
    node.shares.push_back(share);
    if (static_cast<int>(node.shares.size()) > options_.window) {
      node.shares.erase(node.shares.begin());
    }
  }
  return alerts;
}

}  // namespace seckill::console
