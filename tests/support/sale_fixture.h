#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"

namespace seckill::testing {

// A whole embedded engine core on a ManualClock: catalog, memory stores,
// services and the cancel consumer, with one-line helpers for the calls.
class SaleWorld {
 public:
  explicit SaleWorld(std::vector<SaleSpec> specs, MemorySaleStore::Options options = {})
      : store(orders, cancels, options) {
    auto created = SaleCatalog::create(std::move(specs));
    EXPECT_TRUE(created.ok()) << created.status();
    catalog = *std::move(created);
    sales = std::make_unique<SaleService>(clock, *catalog, store, ids);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, store, orders);
    consumer = std::make_unique<CancelConsumer>(cancels, *lifecycle);
    absl::Status s = sales->registerSales();
    EXPECT_TRUE(s.ok()) << s;
  }

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
  int64_t stockLeft(std::string_view sale) {
    auto r = await<absl::StatusOr<int64_t>>([&](Callback<absl::StatusOr<int64_t>> done) {
      store.stockLeft(sale, std::move(done));
    });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }

  // For the shared sale flows (tests/support/sale_flow_suite.h). Calls on
  // non-kFifo sales complete on the caller's thread, chained ones included.
  static constexpr bool kCompletesInline = true;
  // The memory store has no writer stream and keeps its dedup keys private:
  // these Redis-state checks have nothing to look at here.
  void expectQueuedForWriter(std::string_view /*sale*/, int64_t /*count*/) const {}
  void expectNoDedupKey(std::string_view /*sale*/, std::string_view /*user*/) const {}

  ManualClock clock;
  OrderIdGenerator ids{42};
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore store;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
  std::unique_ptr<OrderLifecycle> lifecycle;
  std::unique_ptr<CancelConsumer> consumer;
};

}  // namespace seckill::testing
