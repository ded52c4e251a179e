#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/core/call_guard.h"
#include "engine/core/callback.h"
#include "engine/core/clock.h"
#include "engine/core/order.h"
#include "engine/core/order_repository.h"
#include "engine/core/outcome.h"
#include "engine/core/sale.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_events.h"
#include "engine/core/sale_store.h"
#include "engine/core/stats.h"

namespace seckill {

struct SaleReply {
  Outcome outcome = Outcome::kOk;    // kOk, kUnknownSale, kUnavailable
  std::shared_ptr<const Sale> sale;  // set for kOk: the spec as served when asked
  int64_t stock_left = 0;
  SaleState state = SaleState::kOpen;
};

struct TokenReply {
  Outcome outcome = Outcome::kOk;  // kOk, kUnknownSale, kUnavailable
  std::string token;
  absl::Duration ttl;
};

struct OrderReply {
  Outcome outcome = Outcome::kOk;
  Order order;            // set for kCreated/kOk and for replays
  bool replayed = false;  // a replayed token's original answer
  absl::Duration retry_after = absl::ZeroDuration();  // kCircuitOpen: when to retry
};

// The shopper-facing flow of a flash sale: look at a sale, get a submission
// token, place an order (window check -> gate -> the store's atomic step).
// Thread-safe; every call completes through its callback, possibly inline.
class SaleService {
 public:
  // `store_guard` (optional) is the stock store's circuit breaker: while it
  // denies, placeOrder answers kCircuitOpen without calling the store.
  SaleService(const Clock& clock, const SaleCatalog& catalog, SaleStore& store,
              OrderIdGenerator& ids, CallGuard* store_guard = nullptr)
      : clock_(clock), catalog_(catalog), store_(store), ids_(ids), store_guard_(store_guard) {}
  SaleService(const SaleService&) = delete;
  SaleService& operator=(const SaleService&) = delete;

  // Registers every catalog sale with the store. Call once before serving.
  absl::Status registerSales();
  // Where sold-out news goes (other nodes); optional, set before serving.
  void setEvents(SaleEvents* events) { events_ = events; }

  void describe(std::string_view sale_id, Callback<SaleReply> done);
  void issueToken(std::string_view sale_id, std::string_view user_id, Callback<TokenReply> done);
  // `token` is empty when none was presented.
  void placeOrder(std::string_view sale_id, std::string_view user_id, std::string_view token,
                  Callback<OrderReply> done);

  // Orders this node created (replays not counted), since it started.
  uint64_t ordersCreated() const { return created_.value(); }

 private:
  const Clock& clock_;
  const SaleCatalog& catalog_;
  SaleStore& store_;
  OrderIdGenerator& ids_;
  CallGuard* store_guard_;
  SaleEvents* events_ = nullptr;
  ShardedCounter created_;
};

// What happens to an order after it exists: pay, cancel (by its shopper or on
// expiry), read. A cancel returns the unit exactly once: only the call whose
// pending -> cancelled transition applied releases it. Thread-safe.
class OrderLifecycle {
 public:
  // `orders_guard` (optional) is the order store's circuit breaker: while it
  // denies, pay, cancel and get answer kCircuitOpen without calling it.
  OrderLifecycle(const Clock& clock, const SaleCatalog& catalog, SaleStore& store,
                 OrderRepository& orders, CallGuard* orders_guard = nullptr)
      : clock_(clock),
        catalog_(catalog),
        store_(store),
        orders_(orders),
        orders_guard_(orders_guard) {}
  OrderLifecycle(const OrderLifecycle&) = delete;
  OrderLifecycle& operator=(const OrderLifecycle&) = delete;

  // kOk (paid), kOrderExpired, kOrderCancelled, kAlreadyPaid, kForbidden, kUnknownOrder.
  void pay(std::string_view order_id, std::string_view user_id, Callback<OrderReply> done);
  // kOk (cancelled; also when it already was), kAlreadyPaid, kForbidden, kUnknownOrder.
  void cancel(std::string_view order_id, std::string_view user_id, Callback<OrderReply> done);
  // kOk, kForbidden, kUnknownOrder.
  void get(std::string_view order_id, std::string_view user_id, Callback<OrderReply> done);
  // Cancels the order if it is still unpaid and its pay_before has passed; a
  // no-op for paid, cancelled or not yet due orders. OK unless a store failed.
  // Called by the cancel consumer; safe to call more than once.
  void expire(std::string_view order_id, Callback<absl::Status> done);
  // Where restock news goes (other nodes); optional, set before serving.
  void setEvents(SaleEvents* events) { events_ = events; }

  // Transitions this node applied since it started: payments, and cancels by reason.
  uint64_t ordersPaid() const { return paid_.value(); }
  uint64_t ordersCancelled(CancelReason reason) const {
    return reason == CancelReason::kShopper   ? cancelled_shopper_.value()
           : reason == CancelReason::kExpired ? cancelled_expired_.value()
                                              : 0;
  }

 private:
  // pending -> cancelled; on success returns the unit (and the gate permit).
  void cancelPending(Order order, CancelReason reason, Callback<absl::StatusOr<Transition>> done);
  // Expires a pending order and answers the pay request with the result.
  void expireThenAnswer(Order pending, Callback<OrderReply> done);
  // A unit came back: the gate permit, the local sold-out flag, the other nodes.
  void unitReturned(std::string_view sale_id);
  // True (and `done` answered kCircuitOpen) iff the order store's breaker
  // denies a call now; `start` receives the time.
  bool denied(Callback<OrderReply>& done, absl::Time& start);
  // Tells the order store's breaker how a call begun at `start` went.
  void recordOrderCall(absl::Time start, const absl::Status& status);

  const Clock& clock_;
  const SaleCatalog& catalog_;
  SaleStore& store_;
  OrderRepository& orders_;
  CallGuard* orders_guard_;
  SaleEvents* events_ = nullptr;
  ShardedCounter paid_;
  ShardedCounter cancelled_shopper_;
  ShardedCounter cancelled_expired_;
};

}  // namespace seckill
