#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace seckill {

// How a sale keeps from selling more units than it has. Chosen per sale; every
// strategy passes the same no-oversell tests (tests/core/stock_strategy_test.cc).
enum class StockStrategy {
  kAtomic,       // one atomic check-and-decrement on the store (default)
  kFifo,         // attempts queue per sale; a single consumer deducts in arrival order
  kOptimistic,   // read, then compare-and-swap with bounded retries
  kCounterGate,  // a local counter drops traffic beyond the remaining stock before the store
};

// Parses "atomic" | "fifo" | "optimistic" | "counter_gate".
absl::StatusOr<StockStrategy> parseStockStrategy(std::string_view name);
std::string_view stockStrategyName(StockStrategy s);

enum class SaleState { kScheduled, kOpen, kSoldOut, kClosed };
std::string_view saleStateName(SaleState s);

// One sale as configured. Immutable once the engine serves it.
struct SaleSpec {
  std::string id;  // 1-64 chars of [A-Za-z0-9_-]
  std::string name;
  int64_t stock = 0;
  std::optional<absl::Time> opens_at;   // absent: open from start-up
  std::optional<absl::Time> closes_at;  // absent: never closes
  bool require_token = false;
  StockStrategy strategy = StockStrategy::kAtomic;
  absl::Duration pay_timeout = absl::Minutes(15);
  absl::Duration dedup_ttl = absl::Minutes(5);
  absl::Duration token_ttl = absl::Minutes(5);

  // Returns OK iff the spec can be served: valid id, stock >= 0, positive
  // durations, closes_at after opens_at. The message names the field.
  absl::Status validate() const;
};

// The sale's state at `now` given the units left.
SaleState saleStateAt(const SaleSpec& sale, absl::Time now, int64_t stock_left);

// True iff `s` is 1-64 chars of [A-Za-z0-9_-]: the shape of user, sale and order ids.
bool isValidId(std::string_view s);

}  // namespace seckill
