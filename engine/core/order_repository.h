#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/core/order.h"

namespace seckill {

struct OrderCounts {
  int64_t pending_payment = 0;
  int64_t paid = 0;
  int64_t cancelled = 0;
};

// The result of a conditional state change.
struct Transition {
  Order order;           // the order as it is after the call
  bool applied = false;  // true iff this call changed the state
};

// Which orders to list, a page at a time.
struct OrderQuery {
  std::string sale_id;  // required
  std::string user_id;  // empty: every shopper of the sale
  size_t limit = 100;   // at most this many per page (>= 1)
  std::string page;     // empty: the first page; else a previous OrderPage::next
};

struct OrderPage {
  std::vector<Order> orders;
  std::string next;  // empty: this was the last page
};

// Where orders live once created. Orders are inserted by the SaleStore's atomic
// step; the core reads them and moves their state. Asynchronous like SaleStore;
// NotFound for an unknown id. Thread-safe.
class OrderRepository {
 public:
  virtual ~OrderRepository() = default;

  virtual void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) = 0;

  // Moves the order from `from` to `to` iff it is in `from` and, when
  // `only_before` is set, `at` < *only_before. Exactly one of several racing
  // calls on the same order applies. `reason` is recorded for cancellations.
  virtual void transition(std::string_view order_id, OrderState from, OrderState to,
                          CancelReason reason, absl::Time at,
                          std::optional<absl::Time> only_before,
                          Callback<absl::StatusOr<Transition>> done) = 0;

  // Orders per state, for /metrics. May be approximate under concurrent change.
  virtual OrderCounts counts() const = 0;

  // One page of a sale's orders (an admin listing, not the request path). The page token is
  // the store's own (opaque to callers); an order created or changed while the pages are read
  // may or may not appear. InvalidArgument for a malformed token.
  virtual void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) = 0;
};

}  // namespace seckill
