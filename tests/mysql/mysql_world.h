#pragma once

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "engine/core/clock.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/mysql/mysql_order_repository.h"
#include "engine/store/mysql/mysql_pool.h"
#include "engine/store/mysql/mysql_schema.h"
#include "engine/store/mysql/mysql_url.h"
#include "engine/store/mysql/order_writer.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_delay_queue.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/core_world.h"
#include "tests/support/mariadb_server.h"
#include "tests/support/redis_server.h"

namespace seckill::testing {

// Waits (bounded by `limit`) until `pred` holds: completions arrive on other
// threads (writer workers, Redis and repository threads).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// A duration from the environment (milliseconds), for the outage tests.
inline std::chrono::milliseconds envMillis(const char* name, int fallback) {
  int v = fallback;
  if (const char* s = std::getenv(name)) {
    if (!absl::SimpleAtoi(s, &v)) v = fallback;
  }
  return std::chrono::milliseconds(v);
}

// Starts a fresh redis-server and mariadbd (database "seckill") per test.
class MysqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = redis.start();
    ASSERT_TRUE(s.ok()) << s;
    s = db.start();
    ASSERT_TRUE(s.ok()) << s;
    s = db.createDatabase("seckill");
    ASSERT_TRUE(s.ok()) << s;
  }

  MysqlPoolOptions poolOptions(int size = 4) const {
    absl::StatusOr<MysqlUrl> url = parseMysqlUrl(db.url("seckill"));
    EXPECT_TRUE(url.ok()) << url.status();
    MysqlPoolOptions o;
    o.url = url.ok() ? *url : MysqlUrl();
    o.size = size;
    o.io_timeout = absl::Seconds(5);
    return o;
  }

  RedisClientOptions redisOptions(bool scripts) const {
    RedisClientOptions o;
    o.port = redis.port();
    o.connections = 2;
    if (scripts) o.scripts = storeScripts();
    return o;
  }

  // One SQL figure (COUNT(*) ...) as root; -1 if the server cannot answer.
  int64_t sqlCount(const std::string& sql) const {
    absl::StatusOr<std::string> v = db.scalar(sql, "seckill");
    int64_t n = -1;
    if (!v.ok() || !absl::SimpleAtoi(*v, &n)) return -1;
    return n;
  }
  int64_t redisInt(const std::vector<std::string>& argv) const {
    absl::StatusOr<std::string> v = redis.query(argv);
    int64_t n = -1;
    if (!v.ok() || !absl::SimpleAtoi(*v, &n)) return -1;
    return n;
  }
  // Entries read by the group but not acked (XPENDING summary count).
  int64_t pendingCount(const std::string& sale) const {
    absl::StatusOr<std::string> v =
        redis.query({"XPENDING", redis_keys::orderStream(sale), "seckill-writers"});
    if (!v.ok()) return -1;
    int64_t n = -1;
    std::string first = v->substr(0, v->find('\n'));
    if (!absl::SimpleAtoi(first, &n)) return -1;
    return n;
  }

  RedisServer redis;
  MariadbServer db;
};

// The engine core on RedisSaleStore + MysqlOrderRepository (+ OrderWriter),
// against real servers, on a ManualClock (call helpers: tests/support/core_world.h).
class MysqlWorld : public CoreWorld {
 public:
  MysqlWorld(const MysqlTest& t, const RedisClientOptions& store_redis,
             const RedisClientOptions& writer_redis, MysqlPoolOptions pool_options,
             std::vector<SaleSpec> specs, OrderWriterOptions writer_options = {})
      : client(std::make_unique<RedisClient>(store_redis)),
        writer_client(std::make_unique<RedisClient>(writer_redis)),
        pool(std::move(pool_options)),
        store(*client) {
    (void)t;
    absl::Status migrated = migrateSchema(pool);
    EXPECT_TRUE(migrated.ok()) << migrated;
    orders = std::make_unique<MysqlOrderRepository>(*client, pool);
    std::vector<std::string> ids_of_sales;
    for (const SaleSpec& s : specs) ids_of_sales.push_back(s.id);
    cancels = std::make_unique<RedisDelayQueue>(*client, fixedSaleIds(ids_of_sales));
    assemble(std::move(specs), store, *orders, *cancels);
    writer_options.sale_ids = fixedSaleIds(ids_of_sales);
    writer = std::make_unique<OrderWriter>(*writer_client, pool, std::move(writer_options));
  }

  // Writer and repository threads first (they use the clients), then Redis,
  // then the services.
  ~MysqlWorld() {
    writer->stop();
    orders->shutdown();
    client->shutdown();
    writer_client->shutdown();
    disassemble();
  }

  absl::StatusOr<Transition> transition(std::string_view order_id, OrderState from, OrderState to,
                                        std::optional<absl::Time> only_before = std::nullopt) {
    return await<absl::StatusOr<Transition>>([&](Callback<absl::StatusOr<Transition>> done) {
      orders->transition(order_id, from, to, CancelReason::kNone, clock.now(), only_before,
                         std::move(done));
    });
  }

  std::unique_ptr<RedisClient> client;         // the stores' client (with scripts)
  std::unique_ptr<RedisClient> writer_client;  // the writer's own client
  MysqlPool pool;
  RedisSaleStore store;
  std::unique_ptr<MysqlOrderRepository> orders;
  std::unique_ptr<RedisDelayQueue> cancels;
  std::unique_ptr<OrderWriter> writer;
};

}  // namespace seckill::testing
