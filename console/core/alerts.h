#pragma once

#include <QMetaType>
#include <QString>
#include <map>
#include <vector>

#include "console/core/stats_point.h"

namespace seckill::console {

// Something an operator must see at once.
struct Alert {
  enum class Kind { kBreakerOpened, kSoldOut, kLimitedJump };
  Kind kind = Kind::kBreakerOpened;
  QString node;
  QString subject;  // the breaker, the sale, or "" for the limited share
  qint64 second = 0;
  QString text;  // one sentence, naming the node
};

// Watches each node's seconds for: a breaker that opens (its state becomes open or
// forced_open), a sale that sells out, and the share of requests the rules limit jumping (by at
// least `jump` above its average over the previous `window` seconds, in a second with at least
// `min_requests` requests; it re-arms once the share falls back under half that jump).
// Replayed history builds the state but raises nothing: only live seconds alert.
//
// Thread-safety: none; one thread owns it. Pure logic: no clock, no I/O.
class AlertDetector {
 public:
  struct Options {
    int window = 10;     // seconds
    double jump = 0.20;  // of all requests
    double min_requests = 20;
  };
  AlertDetector() : AlertDetector(Options()) {}
  explicit AlertDetector(Options options) : options_(options) {}

  // The alerts `point` raises (in order: breakers, sales, limited share).
  std::vector<Alert> observe(const StatsPoint& point);

 private:
  struct NodeState {
    std::map<QString, v1::BreakerState> breakers;
    std::map<QString, v1::SaleState> sales;
    std::vector<double> shares;  // the last `window` seconds' limited shares
    bool jumped = false;         // an alert was raised and the share has not come back down
  };

  const Options options_;
  std::map<QString, NodeState> nodes_;
};

}  // namespace seckill::console

Q_DECLARE_METATYPE(seckill::console::Alert)
