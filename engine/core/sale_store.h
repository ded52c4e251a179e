#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/core/order.h"
#include "engine/core/sale.h"

namespace seckill {

// What one order attempt came to on the store.
enum class AttemptOutcome {
  kCreated,        // unit taken, order recorded, delayed cancel queued
  kDuplicate,      // the (user, sale) key is held: nothing deducted
  kSoldOut,        // no unit left: nothing deducted, the key released
  kInvalidToken,   // token missing (when required), unknown, expired, or not this user's/sale's
  kTokenInFlight,  // the token's first use has not completed yet
  kSaleNotOpen,    // the window is shut and the token (if any) was not a replay
  kBusy,           // the store shed the attempt (FIFO queue full, CAS retries exhausted)
};

// One order attempt, prepared by the core: the order to record if a unit is taken.
struct OrderAttempt {
  Order order;            // id, sale_id, user_id, created_at, pay_before filled in
  std::string token;      // empty: none presented
  bool require_token = false;
  // False when the sale is scheduled or closed: the store then only answers a
  // replayed token (its original result) and otherwise says kSaleNotOpen.
  bool window_open = true;
  absl::Duration dedup_ttl;
};

struct AttemptResult {
  AttemptOutcome outcome = AttemptOutcome::kBusy;
  // The order created, for kCreated; for kDuplicate the order that holds the key
  // when the store knows it (may be empty).
  Order order;
  // True iff this answers a replayed token: the outcome and order are the ones
  // the token's first use produced; nothing was done now.
  bool replayed = false;
};

// A sale's stock as the store holds it.
struct StockLevel {
  int64_t total = 0;  // units the sale started with, plus adjustments
  int64_t left = 0;   // units not taken by an order
};

// An operator's change of a sale's total stock.
struct StockChange {
  enum class Kind { kSetTotal, kDelta };
  Kind kind = Kind::kSetTotal;
  int64_t value = 0;
};

// The stock, dedup and token side of a sale, where each order attempt is ONE
// atomic step: check the token, take the (user, sale) dedup key with its expiry,
// take a unit, record the order and queue its delayed cancel. No caller can
// observe a unit taken without its order, or a key held by a failed attempt.
//
// Every call is asynchronous: `done` runs exactly once, inline for the memory
// store, on a store thread for networked stores. Errors (absl::Status) mean the
// store could not answer (unavailable, timeout); business outcomes are values.
// Implementations are thread-safe.
class SaleStore {
 public:
  virtual ~SaleStore() = default;

  // Registers a sale and its initial stock (sale.stock). Safe while serving (a sale created
  // through the admin API); blocking, so never on a request or store thread. A store shared by
  // several nodes keeps a sale it already holds as it is (stock, units taken).
  virtual absl::Status addSale(const SaleSpec& sale) = 0;

  // Sets the sale's total stock (or moves it by a delta), moving the units left by the same
  // amount, in one atomic step. FailedPrecondition (nothing changed) when the new total would
  // be below the units already taken (total - left: pending and paid orders); NotFound for an
  // unknown sale. Answers the stock after the change.
  virtual void adjustStock(std::string_view sale_id, StockChange change,
                           Callback<absl::StatusOr<StockLevel>> done) = 0;
  // The sale's total and units left as the store holds them.
  virtual void stockLevel(std::string_view sale_id, Callback<absl::StatusOr<StockLevel>> done) = 0;

  // Mints a one-time submission token bound to (user, sale), valid until `expires`.
  virtual void issueToken(std::string_view sale_id, std::string_view user_id,
                          absl::Time expires, Callback<absl::StatusOr<std::string>> done) = 0;

  // Runs the atomic order step described above, deducting stock with the
  // sale's strategy (kCounterGate deducts as kAtomic: its gate lives in the core).
  virtual void attemptOrder(OrderAttempt attempt, absl::Time now,
                            Callback<absl::StatusOr<AttemptResult>> done) = 0;

  // Returns the unit of a cancelled order to stock and releases its dedup key,
  // iff that key is still held by `order_id`: the held key is the exactly-once
  // guard, so a repeated or late call returns nothing. Answers true iff this
  // call returned the unit.
  virtual void releaseUnit(std::string_view sale_id, std::string_view user_id,
                           std::string_view order_id, Callback<absl::StatusOr<bool>> done) = 0;

  // Units left to sell.
  virtual void stockLeft(std::string_view sale_id, Callback<absl::StatusOr<int64_t>> done) = 0;
};

}  // namespace seckill
