#include "console/core/stats_point.h"

#include <algorithm>
#include <cmath>

#include "seckill/admin/v1/admin.pb.h"

namespace seckill::console {

bool isSummed(Metric m) {
  return m != Metric::kLatencyP50 && m != Metric::kLatencyP99 && m != Metric::kLatencyMax;
}

QString metricName(Metric m) {
  switch (m) {
    case Metric::kRequests:
      return QStringLiteral("requests/s");
    case Metric::kAdmitted:
      return QStringLiteral("admitted/s");
    case Metric::kRejected:
      return QStringLiteral("rejected/s");
    case Metric::kQueued:
      return QStringLiteral("queued/s");
    case Metric::kShadowLimited:
      return QStringLiteral("shadow/s");
    case Metric::kShed:
      return QStringLiteral("shed/s");
    case Metric::kOrdersCreated:
      return QStringLiteral("created/s");
    case Metric::kOrdersPaid:
      return QStringLiteral("paid/s");
    case Metric::kOrdersCancelled:
      return QStringLiteral("cancelled/s");
    case Metric::kLatencyP50:
      return QStringLiteral("p50 ms");
    case Metric::kLatencyP99:
      return QStringLiteral("p99 ms");
    case Metric::kLatencyMax:
      return QStringLiteral("max ms");
  }
  return QStringLiteral("?");
}

double StatsPoint::limited() const {
  return value(Metric::kRejected) + value(Metric::kQueued) + value(Metric::kShadowLimited);
}

StatsPoint toPoint(const v1::StatsSnapshot& s) {
  StatsPoint p;
  p.node = QString::fromStdString(s.node_id());
  // The sampler ticks on whole seconds; rounding absorbs a late tick's few milliseconds.
  p.second = s.at().seconds() + (s.at().nanos() >= 500000000 ? 1 : 0);
  p.seq = s.seq();
  p.started_at = s.started_at().seconds();
  p.history = s.history();
  p.rules_version = s.rules_version();
  auto set = [&p](Metric m, double v) { p.value(m) = v; };
  set(Metric::kRequests, static_cast<double>(s.requests()));
  set(Metric::kAdmitted, static_cast<double>(s.admitted()));
  set(Metric::kRejected, static_cast<double>(s.rejected()));
  set(Metric::kQueued, static_cast<double>(s.queued()));
  set(Metric::kShadowLimited, static_cast<double>(s.shadow_limited()));
  set(Metric::kShed, static_cast<double>(s.shed()));
  set(Metric::kOrdersCreated, static_cast<double>(s.orders_created()));
  set(Metric::kOrdersPaid, static_cast<double>(s.orders_paid()));
  set(Metric::kOrdersCancelled,
      static_cast<double>(s.orders_cancelled_shopper() + s.orders_cancelled_expired() +
                          s.orders_cancelled_duplicate()));
  set(Metric::kLatencyP50, s.latency_p50_ms());
  set(Metric::kLatencyP99, s.latency_p99_ms());
  set(Metric::kLatencyMax, s.latency_max_ms());
  p.sales.reserve(static_cast<size_t>(s.sales_size()));
  for (const v1::SaleStats& sale : s.sales()) {
    p.sales.push_back(SaleLevel{QString::fromStdString(sale.sale_id()), sale.stock_left(),
                                sale.stock_total(), sale.state()});
  }
  p.breakers.reserve(static_cast<size_t>(s.breakers_size()));
  for (const v1::BreakerStats& b : s.breakers()) {
    p.breakers.push_back(BreakerLevel{QString::fromStdString(b.name()), b.state(), b.mode()});
  }
  p.rules.reserve(static_cast<size_t>(s.rules_size()));
  for (const v1::RuleStats& r : s.rules()) {
    p.rules.push_back(RuleLevel{QString::fromStdString(r.rule_id()), r.passed(), r.limited(),
                                r.queued(), r.shadow_limited()});
  }
  return p;
}

std::vector<StatsPoint> syntheticHistory(const StatsPoint& like, int count) {
  std::vector<StatsPoint> out;
  out.reserve(static_cast<size_t>(std::max(0, count)));
  for (int i = count; i >= 1; --i) {
    StatsPoint p;
    p.node = like.node;
    p.second = like.second - i;
    p.started_at = like.started_at;
    p.history = true;
    p.rules_version = like.rules_version;
    const double t = static_cast<double>(p.second);
    const double requests = 400 + 300 * std::sin(t / 97.0) + 80 * std::sin(t / 7.0);
    const double limited = std::max(0.0, requests - 550) + 5;
    p.value(Metric::kRequests) = std::round(requests);
    p.value(Metric::kAdmitted) = std::round(requests - limited);
    p.value(Metric::kRejected) = std::round(limited * 0.7);
    p.value(Metric::kQueued) = std::round(limited * 0.2);
    p.value(Metric::kShadowLimited) = std::round(limited * 0.1);
    p.value(Metric::kOrdersCreated) = std::round((requests - limited) * 0.6);
    p.value(Metric::kOrdersPaid) = std::round((requests - limited) * 0.4);
    p.value(Metric::kOrdersCancelled) = std::round((requests - limited) * 0.05);
    p.value(Metric::kLatencyP50) = 0.4 + 0.1 * std::sin(t / 13.0);
    p.value(Metric::kLatencyP99) = 2.0 + 1.5 * std::sin(t / 29.0) + 1.5;
    p.value(Metric::kLatencyMax) = 8.0;
    p.breakers = like.breakers;
    p.sales = like.sales;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace seckill::console
