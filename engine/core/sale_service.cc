#include "engine/core/sale_service.h"

#include <utility>

#include "absl/status/status.h"

namespace seckill {
namespace {

bool windowOpen(const SaleSpec& spec, absl::Time now) {
  if (spec.opens_at && now < *spec.opens_at) return false;
  if (spec.closes_at && now >= *spec.closes_at) return false;
  return true;
}

Outcome fromAttempt(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kCreated: return Outcome::kCreated;
    case AttemptOutcome::kDuplicate: return Outcome::kDuplicate;
    case AttemptOutcome::kSoldOut: return Outcome::kSoldOut;
    case AttemptOutcome::kInvalidToken: return Outcome::kInvalidToken;
    case AttemptOutcome::kTokenInFlight: return Outcome::kTokenInFlight;
    case AttemptOutcome::kSaleNotOpen: return Outcome::kSaleNotOpen;
    case AttemptOutcome::kBusy: return Outcome::kBusy;
  }
  return Outcome::kBusy;
}

Outcome fromLookupError(const absl::Status& s) {
  return absl::IsNotFound(s) ? Outcome::kUnknownOrder : Outcome::kUnavailable;
}

Outcome cancelledOutcome(const Order& o) {
  return o.cancel_reason == CancelReason::kExpired ? Outcome::kOrderExpired
                                                   : Outcome::kOrderCancelled;
}

}  // namespace

absl::Status SaleService::registerSales() {
  for (const auto& sale : catalog_.all()) {
    if (absl::Status s = store_.addSale(sale->spec); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void SaleService::describe(std::string_view sale_id, Callback<SaleReply> done) {
  std::shared_ptr<const Sale> sale = catalog_.findShared(sale_id);
  if (sale == nullptr) {
    std::move(done)(SaleReply{.outcome = Outcome::kUnknownSale});
    return;
  }
  store_.stockLeft(sale_id, [this, sale = std::move(sale), done = std::move(done)](
                                absl::StatusOr<int64_t> left) mutable {
    if (!left.ok()) {
      std::move(done)(SaleReply{.outcome = Outcome::kUnavailable});
      return;
    }
    const SaleState state = saleStateAt(sale->spec, clock_.now(), *left);
    std::move(done)(SaleReply{
        .outcome = Outcome::kOk, .sale = std::move(sale), .stock_left = *left, .state = state});
  });
}

void SaleService::issueToken(std::string_view sale_id, std::string_view user_id,
                             Callback<TokenReply> done) {
  const Sale* sale = catalog_.find(sale_id);
  if (sale == nullptr) {
    std::move(done)(TokenReply{.outcome = Outcome::kUnknownSale});
    return;
  }
  absl::Time now = clock_.now();
  if (sale->spec.closes_at && now >= *sale->spec.closes_at) {
    std::move(done)(TokenReply{.outcome = Outcome::kSaleNotOpen});
    return;
  }
  // A token for a sold-out sale could only ever buy "sold out".
  if (sale->runtime->sold_out.isSet()) {
    std::move(done)(TokenReply{.outcome = Outcome::kSoldOut});
    return;
  }
  absl::Duration ttl = sale->spec.token_ttl;
  store_.issueToken(sale_id, user_id, now + ttl,
                    [ttl, done = std::move(done)](absl::StatusOr<std::string> token) mutable {
                      if (!token.ok()) {
                        std::move(done)(TokenReply{.outcome = Outcome::kUnavailable});
                        return;
                      }
                      std::move(done)(TokenReply{
                          .outcome = Outcome::kOk, .token = *std::move(token), .ttl = ttl});
                    });
}

void SaleService::placeOrder(std::string_view sale_id, std::string_view user_id,
                             std::string_view token, Callback<OrderReply> done) {
  const Sale* sale = catalog_.find(sale_id);
  if (sale == nullptr) {
    std::move(done)(OrderReply{.outcome = Outcome::kUnknownSale});
    return;
  }
  const SaleSpec& spec = sale->spec;
  SaleRuntime* rt = sale->runtime;  // outlives the catalog snapshot `sale` comes from
  absl::Time now = clock_.now();
  bool open = windowOpen(spec, now);
  if (!open && token.empty()) {
    std::move(done)(OrderReply{.outcome = Outcome::kSaleNotOpen});
    return;
  }

  // Layer by layer: the counter gate drops what the stock cannot serve before
  // the store sees it. A presented token still reaches the store, but only to
  // replay its first answer (window_open = false), never to create an order.
  using Entry = CounterGate::Entry;
  Entry entry = Entry::kClosed;  // kClosed here: no gate, or the gate was not entered
  bool gate_closed = false;      // sold out here: the store may only replay a token
  if (open && rt->sold_out.isSet()) {
    if (token.empty()) {
      std::move(done)(OrderReply{.outcome = Outcome::kSoldOut});
      return;
    }
    gate_closed = true;
  }
  if (open && !gate_closed && rt->gate) {
    entry = rt->gate->enter();
    if (entry == Entry::kClosed) {
      if (token.empty()) {
        std::move(done)(OrderReply{.outcome = Outcome::kSoldOut});
        return;
      }
      gate_closed = true;
    }
  }
  const bool gated = entry != Entry::kClosed;  // finish() must follow

  CallGuard* guard = store_guard_;
  if (guard != nullptr && !guard->allow(now)) {
    if (gated) rt->gate->finish(entry, /*created=*/false);
    std::move(done)(
        OrderReply{.outcome = Outcome::kCircuitOpen, .retry_after = guard->retryAfter(now)});
    return;
  }

  OrderAttempt attempt;
  attempt.order.id = ids_.next(spec.id);
  attempt.order.sale_id = spec.id;
  attempt.order.user_id = std::string(user_id);
  attempt.order.state = OrderState::kPendingPayment;
  attempt.order.created_at = now;
  attempt.order.updated_at = now;
  attempt.order.pay_before = now + spec.pay_timeout;
  attempt.token = std::string(token);
  attempt.require_token = spec.require_token;
  attempt.window_open = open && !gate_closed;
  attempt.dedup_ttl = spec.dedup_ttl;
  // Read before the store call: a unit returned meanwhile must win over this
  // attempt's "sold out".
  const uint64_t epoch = rt->sold_out.epoch();

  store_.attemptOrder(
      std::move(attempt), now,
      [this, rt, gated, entry, gate_closed, guard, now, epoch, done = std::move(done)](
          absl::StatusOr<AttemptResult> result) mutable {
        if (guard != nullptr) {
          absl::Time end = clock_.now();
          guard->record(end, result.ok(), end - now);
        }
        if (!result.ok()) {
          if (gated) rt->gate->finish(entry, /*created=*/false);
          std::move(done)(OrderReply{.outcome = Outcome::kUnavailable});
          return;
        }
        bool took_unit = result->outcome == AttemptOutcome::kCreated && !result->replayed;
        if (gated) rt->gate->finish(entry, took_unit);
        if (took_unit) created_.add();
        Outcome outcome = fromAttempt(result->outcome);
        if (gate_closed && outcome == Outcome::kSaleNotOpen) outcome = Outcome::kSoldOut;
        if (result->outcome == AttemptOutcome::kSoldOut && !result->replayed &&
            rt->sold_out.setIfUnchanged(epoch) && events_ != nullptr) {
          events_->soldOut(rt->id);
        }
        std::move(done)(OrderReply{
            .outcome = outcome, .order = std::move(result->order), .replayed = result->replayed});
      });
}

void OrderLifecycle::pay(std::string_view order_id, std::string_view user_id,
                         Callback<OrderReply> done) {
  absl::Time start;
  if (denied(done, start)) return;
  orders_.get(order_id, [this, start, user = std::string(user_id), done = std::move(done)](
                            absl::StatusOr<Order> found) mutable {
    recordOrderCall(start, found.status());
    if (!found.ok()) {
      std::move(done)(OrderReply{.outcome = fromLookupError(found.status())});
      return;
    }
    Order order = *std::move(found);
    if (order.user_id != user) {
      std::move(done)(OrderReply{.outcome = Outcome::kForbidden});
      return;
    }
    if (order.state == OrderState::kPaid) {
      std::move(done)(OrderReply{.outcome = Outcome::kAlreadyPaid, .order = std::move(order)});
      return;
    }
    if (order.state == OrderState::kCancelled) {
      Outcome o = cancelledOutcome(order);
      std::move(done)(OrderReply{.outcome = o, .order = std::move(order)});
      return;
    }
    absl::Time now = clock_.now();
    if (now >= order.pay_before) {
      expireThenAnswer(std::move(order), std::move(done));
      return;
    }
    // Conditional on pending AND before pay_before: a racing cancel or expiry
    // and this pay cannot both apply.
    orders_.transition(
        order.id, OrderState::kPendingPayment, OrderState::kPaid, CancelReason::kNone, now,
        order.pay_before,
        [this, done = std::move(done)](absl::StatusOr<Transition> t) mutable {
          if (!t.ok()) {
            std::move(done)(OrderReply{.outcome = fromLookupError(t.status())});
            return;
          }
          if (t->applied) {
            paid_.add();
            std::move(done)(OrderReply{.outcome = Outcome::kOk, .order = std::move(t->order)});
            return;
          }
          switch (t->order.state) {
            case OrderState::kPaid:
              std::move(done)(
                  OrderReply{.outcome = Outcome::kAlreadyPaid, .order = std::move(t->order)});
              return;
            case OrderState::kCancelled: {
              Outcome o = cancelledOutcome(t->order);
              std::move(done)(OrderReply{.outcome = o, .order = std::move(t->order)});
              return;
            }
            case OrderState::kPendingPayment:
              // pay_before passed between the read and the transition.
              expireThenAnswer(std::move(t->order), std::move(done));
              return;
          }
        });
  });
}

void OrderLifecycle::expireThenAnswer(Order pending, Callback<OrderReply> done) {
  cancelPending(std::move(pending), CancelReason::kExpired,
                [done = std::move(done)](absl::StatusOr<Transition> t) mutable {
                  if (!t.ok()) {
                    std::move(done)(OrderReply{.outcome = fromLookupError(t.status())});
                    return;
                  }
                  Outcome o = t->order.state == OrderState::kPaid ? Outcome::kAlreadyPaid
                              : t->applied ? Outcome::kOrderExpired
                                           : cancelledOutcome(t->order);
                  std::move(done)(OrderReply{.outcome = o, .order = std::move(t->order)});
                });
}

void OrderLifecycle::cancel(std::string_view order_id, std::string_view user_id,
                         Callback<OrderReply> done) {
  absl::Time start;
  if (denied(done, start)) return;
  orders_.get(order_id, [this, start, user = std::string(user_id), done = std::move(done)](
                            absl::StatusOr<Order> found) mutable {
    recordOrderCall(start, found.status());
    if (!found.ok()) {
      std::move(done)(OrderReply{.outcome = fromLookupError(found.status())});
      return;
    }
    Order order = *std::move(found);
    if (order.user_id != user) {
      std::move(done)(OrderReply{.outcome = Outcome::kForbidden});
      return;
    }
    if (order.state == OrderState::kPaid) {
      std::move(done)(OrderReply{.outcome = Outcome::kAlreadyPaid, .order = std::move(order)});
      return;
    }
    if (order.state == OrderState::kCancelled) {
      std::move(done)(OrderReply{.outcome = Outcome::kOk, .order = std::move(order)});
      return;
    }
    cancelPending(std::move(order), CancelReason::kShopper,
                  [done = std::move(done)](absl::StatusOr<Transition> t) mutable {
                    if (!t.ok()) {
                      std::move(done)(OrderReply{.outcome = fromLookupError(t.status())});
                      return;
                    }
                    Outcome o = t->order.state == OrderState::kPaid ? Outcome::kAlreadyPaid
                                                                    : Outcome::kOk;
                    std::move(done)(OrderReply{.outcome = o, .order = std::move(t->order)});
                  });
  });
}

void OrderLifecycle::get(std::string_view order_id, std::string_view user_id,
                         Callback<OrderReply> done) {
  absl::Time start;
  if (denied(done, start)) return;
  orders_.get(order_id, [this, start, user = std::string(user_id), done = std::move(done)](
                            absl::StatusOr<Order> found) mutable {
    recordOrderCall(start, found.status());
    if (!found.ok()) {
      std::move(done)(OrderReply{.outcome = fromLookupError(found.status())});
      return;
    }
    if (found->user_id != user) {
      std::move(done)(OrderReply{.outcome = Outcome::kForbidden});
      return;
    }
    std::move(done)(OrderReply{.outcome = Outcome::kOk, .order = *std::move(found)});
  });
}

void OrderLifecycle::expire(std::string_view order_id, Callback<absl::Status> done) {
  orders_.get(order_id, [this, done = std::move(done)](absl::StatusOr<Order> found) mutable {
    if (!found.ok()) {
      // An order that does not exist has nothing to expire.
      std::move(done)(absl::IsNotFound(found.status()) ? absl::OkStatus() : found.status());
      return;
    }
    Order order = *std::move(found);
    switch (order.state) {
      case OrderState::kPaid:
        std::move(done)(absl::OkStatus());
        return;
      case OrderState::kCancelled: {
        // Heal a cancel whose unit release failed earlier: releaseUnit returns
        // the unit only while this order still holds the key, so this is safe.
        std::string sale_id = order.sale_id;
        std::string user_id = order.user_id;
        std::string id = order.id;
        store_.releaseUnit(sale_id, user_id, id,
                           [this, sale_id, done = std::move(done)](
                               absl::StatusOr<bool> released) mutable {
                             if (!released.ok()) {
                               std::move(done)(released.status());
                               return;
                             }
                             if (*released) unitReturned(sale_id);
                             std::move(done)(absl::OkStatus());
                           });
        return;
      }
      case OrderState::kPendingPayment:
        break;
    }
    if (clock_.now() < order.pay_before) {
      std::move(done)(absl::FailedPreconditionError("order " + order.id + " is not due yet"));
      return;
    }
    cancelPending(std::move(order), CancelReason::kExpired,
                  [done = std::move(done)](absl::StatusOr<Transition> t) mutable {
                    std::move(done)(t.ok() ? absl::OkStatus() : t.status());
                  });
  });
}

void OrderLifecycle::cancelPending(Order order, CancelReason reason,
                                   Callback<absl::StatusOr<Transition>> done) {
  std::string id = order.id;
  orders_.transition(
      id, OrderState::kPendingPayment, OrderState::kCancelled, reason, clock_.now(), std::nullopt,
      [this, reason, done = std::move(done)](absl::StatusOr<Transition> t) mutable {
        if (!t.ok() || !t->applied) {
          std::move(done)(std::move(t));
          return;
        }
        (reason == CancelReason::kExpired ? cancelled_expired_ : cancelled_shopper_).add();
        // Only the call whose transition applied returns the unit.
        std::string sale_id = t->order.sale_id;
        std::string user_id = t->order.user_id;
        std::string order_id = t->order.id;
        store_.releaseUnit(
            sale_id, user_id, order_id,
            [this, sale_id, applied = *std::move(t), done = std::move(done)](
                absl::StatusOr<bool> released) mutable {
              if (!released.ok()) {
                // The order is cancelled but its unit is not back yet: report
                // the failure so the cancel message is redelivered; expire()
                // then retries the release.
                std::move(done)(released.status());
                return;
              }
              if (*released) unitReturned(sale_id);
              std::move(done)(std::move(applied));
            });
      });
}

bool OrderLifecycle::denied(Callback<OrderReply>& done, absl::Time& start) {
  start = clock_.now();
  if (orders_guard_ == nullptr || orders_guard_->allow(start)) return false;
  std::move(done)(OrderReply{.outcome = Outcome::kCircuitOpen,
                             .retry_after = orders_guard_->retryAfter(start)});
  return true;
}

void OrderLifecycle::recordOrderCall(absl::Time start, const absl::Status& status) {
  if (orders_guard_ == nullptr) return;
  absl::Time end = clock_.now();
  orders_guard_->record(end, status.ok() || absl::IsNotFound(status), end - start);
}

void OrderLifecycle::unitReturned(std::string_view sale_id) {
  const Sale* sale = catalog_.find(sale_id);
  if (sale == nullptr) return;
  if (sale->runtime->gate) sale->runtime->gate->giveBack();
  sale->runtime->sold_out.clear();
  if (events_ != nullptr) events_->restocked(sale_id);
}

}  // namespace seckill
