#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/delay_queue.h"
#include "engine/core/order_repository.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/core/sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"

namespace seckill::testing {

// The engine core (catalog, services, cancel consumer) on a ManualClock over
// stores a subclass owns, with one-line blocking helpers for its calls: what
// SaleWorld (memory stores) and RedisWorld (Redis stores) share. A subclass
// builds its stores, then calls assemble(), and calls disassemble() first
// thing in its destructor (the services refer to its stores).
class CoreWorld {
 public:
  static SaleSpec spec(std::string id, int64_t stock,
                       StockStrategy strategy = StockStrategy::kAtomic) {
    SaleSpec s;
    s.id = std::move(id);
    s.name = s.id;
    s.stock = stock;
    s.strategy = strategy;
    return s;
  }

  OrderReply order(std::string_view sale, std::string_view user, std::string_view token = {}) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { sales->placeOrder(sale, user, token, std::move(done)); });
  }
  TokenReply token(std::string_view sale, std::string_view user) {
    return await<TokenReply>(
        [&](Callback<TokenReply> done) { sales->issueToken(sale, user, std::move(done)); });
  }
  SaleReply describe(std::string_view sale) {
    return await<SaleReply>(
        [&](Callback<SaleReply> done) { sales->describe(sale, std::move(done)); });
  }
  OrderReply pay(std::string_view order_id, std::string_view user) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { lifecycle->pay(order_id, user, std::move(done)); });
  }
  OrderReply cancel(std::string_view order_id, std::string_view user) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { lifecycle->cancel(order_id, user, std::move(done)); });
  }
  OrderReply get(std::string_view order_id, std::string_view user) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { lifecycle->get(order_id, user, std::move(done)); });
  }
  absl::Status expire(std::string_view order_id) {
    return await<absl::Status>(
        [&](Callback<absl::Status> done) { lifecycle->expire(order_id, std::move(done)); });
  }
  absl::StatusOr<int64_t> tryStockLeft(std::string_view sale) {
    return await<absl::StatusOr<int64_t>>(
        [&](Callback<absl::StatusOr<int64_t>> done) { store_->stockLeft(sale, std::move(done)); });
  }
  int64_t stockLeft(std::string_view sale) {
    absl::StatusOr<int64_t> r = tryStockLeft(sale);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }

  ManualClock clock;
  OrderIdGenerator ids{42};
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
  std::unique_ptr<OrderLifecycle> lifecycle;
  std::unique_ptr<CancelConsumer> consumer;

 protected:
  CoreWorld() = default;
  ~CoreWorld() = default;
  CoreWorld(const CoreWorld&) = delete;
  CoreWorld& operator=(const CoreWorld&) = delete;

  // Builds the core over the subclass's stores and registers the sales.
  void assemble(std::vector<SaleSpec> specs, SaleStore& store, OrderRepository& orders,
                DelayQueue& cancels) {
    store_ = &store;
    auto created = SaleCatalog::create(std::move(specs));
    EXPECT_TRUE(created.ok()) << created.status();
    catalog = *std::move(created);
    sales = std::make_unique<SaleService>(clock, *catalog, store, ids);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, store, orders);
    consumer = std::make_unique<CancelConsumer>(cancels, *lifecycle);
    absl::Status s = sales->registerSales();
    EXPECT_TRUE(s.ok()) << s;
  }

  // The services go before the stores they refer to.
  void disassemble() {
    consumer.reset();
    lifecycle.reset();
    sales.reset();
  }

 private:
  SaleStore* store_ = nullptr;
};

}  // namespace seckill::testing
