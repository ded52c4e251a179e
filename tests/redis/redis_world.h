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
#include "tests/support/core_world.h"
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
class RedisWorld : public CoreWorld {
 public:
  RedisWorld(const RedisServer& redis, std::vector<SaleSpec> specs)
      : server(redis),
        client(std::make_unique<RedisClient>(clientOptionsFor(redis))),
        store(*client),
        orders(*client, fixedSaleIds(saleIds(specs))),
        cancels(*client, fixedSaleIds(saleIds(specs))) {
    assemble(std::move(specs), store, orders, cancels);
  }

  // The Redis threads stop first: their callbacks use the services.
  ~RedisWorld() {
    client->shutdown();
    disassemble();
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
  // Expects no buyer entry (the dedup) of (sale, user) in Redis.
  void expectNoDedupKey(std::string_view sale, std::string_view user) const {
    absl::StatusOr<std::string> exists = server.query({"HEXISTS", redis_keys::buyers(sale), std::string(user)});
    ASSERT_TRUE(exists.ok()) << exists.status();
    EXPECT_EQ(*exists, "0");
  }

  const RedisServer& server;
  std::unique_ptr<RedisClient> client;
  RedisSaleStore store;
  RedisOrderRepository orders;
  RedisDelayQueue cancels;
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
