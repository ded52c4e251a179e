#pragma once

#include <QMetaType>
#include <QString>
#include <array>
#include <cstdint>
#include <vector>

#include "seckill/admin/v1/types.pb.h"

namespace seckill::admin::v1 {
class StatsSnapshot;
}

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

// The per-second figures the dashboard draws.
enum class Metric : int {
  kRequests,
  kAdmitted,
  kRejected,       // 429 by a reject rule
  kQueued,         // delayed by a queue rule
  kShadowLimited,  // a log rule / dry-run override would have limited
  kShed,           // 503 by a shed override
  kOrdersCreated,
  kOrdersPaid,
  kOrdersCancelled,  // shopper + expired + duplicate
  kLatencyP50,       // ms
  kLatencyP99,       // ms
  kLatencyMax,       // ms
};
inline constexpr int kMetricCount = 12;

// Whether a fleet's value of `m` is the sum of its nodes' (counts) or their maximum
// (latencies: a fleet percentile cannot be made from node percentiles; the worst node's is the
// honest bound).
bool isSummed(Metric m);
// "requests/s", "p99 ms", ... (also the CSV column names).
QString metricName(Metric m);

struct SaleLevel {
  QString id;
  qint64 stock_left = 0;  // -1: the store did not answer
  qint64 stock_total = 0;
  v1::SaleState state = v1::SALE_STATE_UNSPECIFIED;
};

struct BreakerLevel {
  QString name;
  v1::BreakerState state = v1::BREAKER_STATE_UNSPECIFIED;
  v1::BreakerMode mode = v1::BREAKER_MODE_UNSPECIFIED;
};

struct RuleLevel {
  QString id;
  quint64 passed = 0;
  quint64 limited = 0;
  quint64 queued = 0;
  quint64 shadow_limited = 0;
};

// One second of one node as the console keeps it: plain data, cheap to copy between threads.
struct StatsPoint {
  QString node;
  qint64 second = 0;  // the end of the second, unix seconds (snapshot.at)
  quint64 seq = 0;
  qint64 started_at = 0;  // the engine process's start, unix seconds (a change = a restart)
  bool history = false;   // replayed from the engine's ring, not live
  quint64 rules_version = 0;
  std::array<double, kMetricCount> values{};
  std::vector<SaleLevel> sales;
  std::vector<BreakerLevel> breakers;
  std::vector<RuleLevel> rules;  // the busiest rules of the second

  double value(Metric m) const { return values[static_cast<size_t>(m)]; }
  double& value(Metric m) { return values[static_cast<size_t>(m)]; }
  // rejected + queued + shadow_limited: what the rules limited.
  double limited() const;
};

// The console's copy of a snapshot (`at` rounded to the whole second the engine samples on).
StatsPoint toPoint(const v1::StatsSnapshot& snapshot);

// `count` made-up seconds of `like.node` that end just before `like.second`: traffic shaped as
// slow waves, its breakers and sales as `like` has them. For benchmarks and tests that need an
// hour on screen without waiting an hour; never shown unless asked for.
std::vector<StatsPoint> syntheticHistory(const StatsPoint& like, int count);

}  // namespace seckill::console

Q_DECLARE_METATYPE(seckill::console::StatsPoint)
