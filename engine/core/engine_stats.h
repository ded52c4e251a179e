#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_store.h"
#include "engine/core/stats.h"

namespace seckill {

// A Prometheus series family that only one backend has (Redis connections, the batch writer):
// carried through EngineStats as data, rendered as it is.
struct MetricFamily {
  enum class Type { kCounter, kGauge };
  std::string name;  // "seckill_redis_connections_up"
  std::string help;
  Type type = Type::kGauge;
  struct Sample {
    std::string labels;  // "" or `direction="published"` (already escaped)
    int64_t value = 0;
  };
  std::vector<Sample> samples;
};

// Everything the engine counts, at one instant: counters cumulative since start, gauges as they
// are. One structure feeds both /metrics (rendered as Prometheus text, engine/http) and the
// admin stats stream (two of them a second apart, differenced by diffStats()). Plain data.
struct EngineStats {
  absl::Time at;

  // The shopper HTTP edge.
  struct RouteCount {
    std::string route;  // "order"
    int status = 0;
    uint64_t count = 0;
  };
  std::vector<RouteCount> requests;  // non-zero pairs only
  LatencyHistogram::Snapshot latency;
  uint64_t latency_max_micros = 0;  // largest since the previous collection (it resets)
  int64_t connections = 0;

  // What the rate rules decided per request (every request counts once).
  struct Admission {
    uint64_t allowed = 0;
    uint64_t queued = 0;
    uint64_t rejected = 0;
    uint64_t shadow = 0;       // admitted; a log-mode / dry-run rule would have limited
    uint64_t shed = 0;         // 503 by an override
    uint64_t unavailable = 0;  // 503: a distributed rule's backend failed, policy closed
  } admission;

  // Traffic control.
  struct RuleCount {
    uintptr_t key = 0;  // the rule's state; the same through reloads that keep the state
    std::string id;
    std::string name;
    uint64_t passed = 0;
    uint64_t queued = 0;
    uint64_t limited = 0;
    uint64_t shadow_limited = 0;
  };
  std::vector<RuleCount> rules;  // in set order
  uint64_t rules_version = 0;
  uint64_t reloads_ok = 0;
  uint64_t reloads_rejected = 0;
  uint64_t shadow_logged = 0;  // requests a log-mode rule would have limited (the warn log)
  uint64_t rate_limit_backend_errors = 0;
  std::string distributed_failure = "open";

  // Orders: events this node applied, and the store's counts by state.
  struct Orders {
    uint64_t created = 0;
    uint64_t paid = 0;
    uint64_t cancelled_shopper = 0;
    uint64_t cancelled_expired = 0;
    uint64_t cancelled_duplicate = 0;
    int64_t pending_now = 0;
    int64_t paid_now = 0;
    int64_t cancelled_now = 0;
  } orders;
  uint64_t cancel_queue_pending = 0;
  uint64_t cancel_acked = 0;

  struct SaleStock {
    std::string id;
    int64_t total = 0;
    int64_t left = -1;  // -1: the store did not answer
    std::string state;  // "scheduled" | "open" | "sold_out" | "closed"
    bool sold_out_local = false;
  };
  std::vector<SaleStock> sales;

  struct Breaker {
    std::string name;
    std::string state;  // what shoppers see: "closed", "open", ..., "forced_open"
    std::string mode;   // "normal" | "forced_open" | "disabled" | "metrics_only"
    // Every state name with the transitions into it since start (in the breaker's order).
    std::vector<std::pair<std::string, uint64_t>> transitions_into;
  };
  std::vector<Breaker> breakers;

  std::vector<MetricFamily> extra;  // backend series
};

// One second of one node, as the admin API's Stats stream sends it: what happened between two
// EngineStats.
struct StatsSample {
  absl::Time at;
  uint64_t seq = 0;

  uint64_t requests = 0;
  uint64_t admitted = 0;
  uint64_t rejected = 0;
  uint64_t queued = 0;
  uint64_t shadow_limited = 0;
  uint64_t shed = 0;
  uint64_t orders_created = 0;
  uint64_t orders_paid = 0;
  uint64_t orders_cancelled_shopper = 0;
  uint64_t orders_cancelled_expired = 0;
  uint64_t orders_cancelled_duplicate = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  uint64_t rules_version = 0;

  struct Route {
    std::string route;
    uint64_t requests = 0;
    uint64_t status_2xx = 0;
    uint64_t status_4xx = 0;
    uint64_t status_5xx = 0;
    uint64_t status_429 = 0;
    uint64_t status_503 = 0;
  };
  std::vector<Route> routes;  // routes with requests in the second
  struct Rule {
    std::string id;
    uint64_t passed = 0;
    uint64_t limited = 0;
    uint64_t queued = 0;
    uint64_t shadow_limited = 0;
    uint64_t total() const { return passed + limited + queued + shadow_limited; }
  };
  std::vector<Rule> rules;  // the busiest (at most kTopRules), busiest first
  Rule rules_other;         // every other rule, summed (id empty)
  struct Sale {
    std::string id;
    int64_t left = -1;
    int64_t total = 0;
    std::string state;
  };
  std::vector<Sale> sales;  // at most kMaxSales, in catalog order
  struct Breaker {
    std::string name;
    std::string state;
    std::string mode;
  };
  std::vector<Breaker> breakers;

  uint64_t requests_total = 0;
  uint64_t orders_created_total = 0;

  // Bounds that keep a sample's size fixed whatever the number of rules and sales.
  static constexpr size_t kTopRules = 16;
  static constexpr size_t kMaxSales = 64;

  // Bytes this sample holds, heap included (for the ring's size per hour).
  size_t bytes() const;
};

// Asks the store for the stock of every sale of the catalog at once and calls `done` with all
// of them (catalog order; left = -1 where the store failed) once the last has answered: inline
// with the memory store, on a store thread with Redis. `now` decides each sale's state.
void gatherSaleStock(const SaleCatalog& catalog, SaleStore& store, absl::Time now,
                     Callback<std::vector<EngineStats::SaleStock>> done);

// The second that ended at `cur.at`: each counter's growth since `prev` (a counter that went
// down, e.g. a rule whose state was replaced, counts from zero), gauges as `cur` has them, and
// latency percentiles of the requests answered in between. `out` is overwritten (its buffers
// reused: a ring of samples allocates nothing once warm).
void diffStats(const EngineStats& prev, const EngineStats& cur, uint64_t seq, StatsSample& out);

}  // namespace seckill
