#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/load/api_replies.h"
#include "bench/load/run_stats.h"

namespace seckill::load {

// An order this run saw created: a 201 answer. `order_id` is empty when the
// answer carried none (itself a violation).
struct CreatedOrder {
  std::string user_id;
  std::string order_id;
  bool paid = false;  // this run paid it (pay answered 200)
};

// The order state the check records when a lookup got no usable answer; it
// counts as live.
inline constexpr std::string_view kUnknownOrderState = "unknown";

// The orders whose state the one-order-per-user check needs: all orders of
// the users that got more than one distinct order id this run, at most `limit`
// of them (whole users, in user order). `*skipped` gets how many were left out.
std::vector<CreatedOrder> ordersToLookUp(const std::vector<CreatedOrder>& created, size_t limit,
                                         size_t* skipped);

// Everything the end-of-run checks look at.
struct RunFacts {
  const RunStats* stats = nullptr;
  SaleSnapshot sale_before;
  SaleSnapshot sale_after;
  std::optional<OrderCounts> metrics_before;  // nullopt: /metrics unusable
  std::optional<OrderCounts> metrics_after;
  std::vector<CreatedOrder> created;
  std::map<std::string, std::string> order_states;  // order id -> state, as looked up
  size_t lookups_skipped = 0;                       // over the lookup budget
};

struct CheckResult {
  std::string name;
  bool ok = true;
  bool skipped = false;  // not enough data to decide (ok stays true)
  std::string detail;
};

// The end-of-run invariants, each as one result:
//  - "stock bounds": 0 <= stock_left <= stock_total before and after, the
//    total unchanged;
//  - "no oversell": distinct 201 orders <= units sold now (stock_total -
//    stock_left) + orders cancelled during the run (from /metrics), and the
//    orders this run paid <= units sold now;
//  - "one order per user": no user holds two live (not cancelled) orders among
//    this run's 201s; two paid ones are a violation without any lookup;
//  - "counts add up": per second and in total, sent = answered + errors,
//    sent <= offered, nothing negative; pays <= 201s; every 201 had an order id;
//  - "engine order counts": the engine's order counters grew by at least the
//    201s and pays this run saw (skipped without /metrics).
std::vector<CheckResult> checkRun(const RunFacts& facts);

// True when the engine's /metrics order counts already account for every order
// and pay the run saw (or cannot be checked). The engine refreshes those gauges
// on its cancel-poll period, so right after a run they may still trail.
bool engineCountsCoverTheRun(const RunFacts& facts);

bool allPassed(const std::vector<CheckResult>& results);

// The checks as a block of the summary, "ok"/"FAIL"/"skip" per line.
std::string formatChecks(const std::vector<CheckResult>& results);

}  // namespace seckill::load
