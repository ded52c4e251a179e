#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_delay_queue.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_order_repository.h"
#include "engine/store/redis/redis_sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/redis_server.h"

namespace seckill::testing {

inline RedisClientOptions clientOptionsFor(const RedisServer& server) {
  RedisClientOptions o;
  o.port = server.port();
  o.connections = 2;
  o.scripts = storeScripts();
  return o;
}

inline std::vector<std::string> saleIds(const std::vector<SaleSpec>& specs) {
  std::vector<std::string> ids;
  for (const SaleSpec& s : specs) ids.push_back(s.id);
  return ids;
}

// The whole engine core on the Redis stores and a ManualClock, against a real
// redis-server: SaleWorld's twin (tests/support/sale_fixture.h).
class RedisWorld {
 public:
  RedisWorld(const RedisServer& redis, std::vector<SaleSpec> specs)
      : server(redis),
        client(std::make_unique<RedisClient>(clientOptionsFor(redis))),
        store(*client),
        orders(*client, saleIds(specs)),
        cancels(*client, saleIds(specs)) {
    auto created = SaleCatalog::create(std::move(specs));
    EXPECT_TRUE(created.ok()) << created.status();
    catalog = *std::move(created);
    sales = std::make_unique<SaleService>(clock, *catalog, store, ids);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, store, orders);
    consumer = std::make_unique<CancelConsumer>(cancels, *lifecycle);
    absl::Status s = sales->registerSales();
    EXPECT_TRUE(s.ok()) << s;
  }

  // The Redis threads stop first: their callbacks use the services below.
  ~RedisWorld() { client->shutdown(); }

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
        [&](Callback<absl::StatusOr<int64_t>> done) { store.stockLeft(sale, std::move(done)); });
  }
  int64_t stockLeft(std::string_view sale) {
    auto r = tryStockLeft(sale);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }

  // For the shared sale flows (tests/support/sale_flow_suite.h). Calls
  // complete on the client's threads: chained completions (the cancel
  // consumer's acks) may land after the call that started them returned.
  static constexpr bool kCompletesInline = false;
  // Expects `count` entries in `sale`'s order stream, for the batch writer.
  void expectQueuedForWriter(std::string_view sale, int64_t count) const {
    absl::StatusOr<std::string> len = server.query({"XLEN", redis_keys::orderStream(sale)});
    ASSERT_TRUE(len.ok()) << len.status();
    EXPECT_EQ(*len, std::to_string(count));
  }
  // Expects no (sale, user) dedup key in Redis.
  void expectNoDedupKey(std::string_view sale, std::string_view user) const {
    absl::StatusOr<std::string> exists = server.query({"EXISTS", redis_keys::dedup(sale, user)});
    ASSERT_TRUE(exists.ok()) << exists.status();
    EXPECT_EQ(*exists, "0");
  }

  const RedisServer& server;
  ManualClock clock;
  OrderIdGenerator ids{42};
  std::unique_ptr<RedisClient> client;
  RedisSaleStore store;
  RedisOrderRepository orders;
  RedisDelayQueue cancels;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
  std::unique_ptr<OrderLifecycle> lifecycle;
  std::unique_ptr<CancelConsumer> consumer;
};

// Starts a fresh redis-server per test; fails the test if it cannot.
class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = server.start();
    ASSERT_TRUE(s.ok()) << s;
  }
  RedisServer server;
};

}  // namespace seckill::testing
