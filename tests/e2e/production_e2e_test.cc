// The production backends end to end: real seckill-engine processes on a real
// redis-server (and MariaDB, see mysql_e2e_test.cc), with crashes and outages.
// What must hold whatever happens: no oversell, one order per shopper, every
// order the engine answered 201 for still exists, and stock is conserved
// (initial = orders not cancelled + stock left).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/store/redis/redis_keys.h"
#include "tests/e2e/engine_process.h"
#include "tests/e2e/storm.h"
#include "tests/support/redis_server.h"

namespace seckill::e2e {
namespace {

using http::testing::Reply;
using http::testing::TestClient;
using seckill::testing::RedisServer;

// A generous reply timeout by default: test machines are slow and shared, and
// a late reply would fail a request (503) the test did not mean to fail.
std::string redisStore(int port, const std::string& extra = "timeout = \"5s\"") {
  return absl::StrCat("[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:", port, "\"\n",
                      extra, "\n");
}

std::string sale(const std::string& id, int stock, const std::string& extra = {}) {
  return absl::StrCat("[[sale]]\nid = \"", id, "\"\nstock = ", stock, "\n", extra, "\n");
}

int64_t redisInt(const RedisServer& redis, const std::vector<std::string>& argv) {
  absl::StatusOr<std::string> r = redis.query(argv);
  int64_t v = -1;
  if (!r.ok() || !absl::SimpleAtoi(*r, &v)) return -1;
  return v;
}

// The value of an unlabelled counter in /metrics text; -1 when absent.
int64_t metricValue(const std::string& metrics, const std::string& name) {
  const std::string line = "\n" + name + " ";
  size_t at = metrics.find(line);
  if (at == std::string::npos) return -1;
  at += line.size();
  int64_t v = -1;
  if (!absl::SimpleAtoi(metrics.substr(at, metrics.find('\n', at) - at), &v)) return -1;
  return v;
}

// Orders the engine has created for a sale, whatever their state: what the
// order script counted in sk:{S}:counts.
int64_t ordersInRedis(const RedisServer& redis, const std::string& sale) {
  int64_t total = 0;
  for (const char* state : {"pending", "paid", "cancelled"}) {
    absl::StatusOr<std::string> r = redis.query({"HGET", "sk:{" + sale + "}:counts", state});
    int64_t v = 0;
    if (r.ok()) (void)absl::SimpleAtoi(*r, &v);
    total += v;
  }
  return total;
}

class ProductionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_.enableAof();
    absl::Status s = redis_.start();
    ASSERT_TRUE(s.ok()) << s;
  }
  RedisServer redis_;
};

TEST_F(ProductionE2eTest, TwoEnginesShareOneStockAndTheSoldOutNews) {
  // cancel_poll is long: no cancel-consumer script runs during the count below.
  const std::string body = redisStore(redis_.port()) + "[orders]\ncancel_poll = \"1h\"\n" +
                           sale("drop", 300, "pay_timeout = \"1h\"");
  EngineProcess a, b;
  ASSERT_TRUE(a.start(body));
  ASSERT_TRUE(b.start(body));

  StormResult storm = runStorm({a.port(), b.port()}, "drop", /*threads=*/8, /*users=*/800,
                               /*attempts_per_user=*/2);
  EXPECT_EQ(storm.other, 0) << storm.first_other;
  EXPECT_EQ(storm.created(), 300);
  EXPECT_EQ(storm.created() + storm.sold_out + storm.duplicate, 1600);
  EXPECT_EQ(redisInt(redis_, {"GET", "sk:{drop}:stock"}), 0);
  EXPECT_EQ(ordersInRedis(redis_, "drop"), 300);
  // Orders live in Redis here ([orders] follows [store]): no writer reads an
  // order stream, so none is written.
  EXPECT_EQ(redisInt(redis_, {"EXISTS", "sk:{drop}:orders"}), 0);
  // Each engine counts its order-script calls and the attempts they carried
  // (group commit: one call may carry several).
  int64_t attempts_sent = 0;
  for (EngineProcess* e : {&a, &b}) {
    const std::string m = metricsOf(e->port());
    const int64_t groups = metricValue(m, "seckill_redis_order_groups_total");
    const int64_t attempts = metricValue(m, "seckill_redis_order_attempts_total");
    EXPECT_GE(groups, 1) << m;
    EXPECT_GE(attempts, groups);
    attempts_sent += attempts;
  }
  EXPECT_GE(attempts_sent, 300 + storm.duplicate);  // every 201 and 409 came from a script

  // Both nodes know the sale is sold out (their own answer or the broadcast),
  // and from now on no request reaches Redis.
  for (EngineProcess* e : {&a, &b}) {
    EXPECT_TRUE(eventually([&] {
      return metricsOf(e->port()).find("seckill_sale_sold_out_local{sale=\"drop\"} 1\n") !=
             std::string::npos;
    }));
  }
  // From here on no order script may run. Other scripts may: each engine's stats sampler
  // reads the stock once a second with set_stock_total's "get" (a late storm that spans a
  // second boundary saw exactly those two). So every command goes to the slow log, and the
  // order script is told by its SHA.
  const absl::StatusOr<std::string> order_sha = redis_.query(
      {"SCRIPT", "LOAD", storeScripts().at(kScriptAttemptOrders).body});
  ASSERT_TRUE(order_sha.ok() && order_sha->size() == 40) << order_sha.status();
  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "slowlog-max-len", "10000"}), "OK");
  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "OK");
  ASSERT_EQ(*redis_.query({"SLOWLOG", "RESET"}), "OK");
  int64_t groups_before = 0;
  for (EngineProcess* e : {&a, &b}) {
    groups_before += metricValue(metricsOf(e->port()), "seckill_redis_order_groups_total");
  }
  StormResult after = runStorm({a.port(), b.port()}, "drop", 4, 500, 1, "late-");
  EXPECT_EQ(after.sold_out, 500);
  const std::string slowlog = redis_.query({"SLOWLOG", "GET", "10000"}).value_or("?");
  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "slowlog-log-slower-than", "10000"}), "OK");
  size_t order_scripts = 0;
  for (size_t at = slowlog.find(*order_sha); at != std::string::npos;
       at = slowlog.find(*order_sha, at + 1)) {
    ++order_scripts;
  }
  EXPECT_EQ(order_scripts, 0u) << "order scripts ran after the sale sold out; the slow log:\n"
                               << slowlog.substr(0, 8000);
  int64_t groups_after = 0;
  for (EngineProcess* e : {&a, &b}) {
    groups_after += metricValue(metricsOf(e->port()), "seckill_redis_order_groups_total");
  }
  EXPECT_EQ(groups_after, groups_before);

  // A unit returned on A reopens the sale on B.
  const auto& [user, order_id] = *storm.order_of_user.begin();
  TestClient ca(a.port());
  Reply cancelled = ca.post("/api/v1/orders/" + order_id + "/cancel", user);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_TRUE(eventually([&] {
    return metricsOf(b.port()).find("seckill_sale_sold_out_local{sale=\"drop\"} 0\n") !=
           std::string::npos;
  }));
  TestClient cb(b.port());
  EXPECT_EQ(cb.post("/api/v1/sales/drop/orders", "newcomer").status, 201);
  EXPECT_EQ(redisInt(redis_, {"GET", "sk:{drop}:stock"}), 0);
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
}

// A Redis that requires a password (an ACL user here): both engines sell
// through it and hear each other's sold-out news over pub/sub; an engine with
// the wrong password does not start, and says why without the password.
TEST_F(ProductionE2eTest, EnginesAuthenticateToAPasswordProtectedRedis) {
  ASSERT_EQ(*redis_.query({"ACL", "SETUSER", "seckill", "on", ">p@ss:w0rd", "~*", "&*", "+@all"}),
            "OK");
  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "requirepass", "admin-only"}), "OK");
  auto store = [&](const std::string& credentials) {
    return absl::StrCat("[store]\nkind = \"redis\"\nredis = \"redis://", credentials,
                        "@127.0.0.1:", redis_.port(), "\"\ntimeout = \"5s\"\n");
  };
  const std::string tail = "[orders]\ncancel_poll = \"1h\"\n" + sale("drop", 20);

  EngineProcess wrong;
  ::testing::AssertionResult refused = wrong.start(store("seckill:guess") + tail);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("WRONGPASS"));
  EXPECT_THAT(wrong.stderrText(), ::testing::Not(::testing::HasSubstr("guess")));

  EngineProcess a, b;
  ASSERT_TRUE(a.start(store("seckill:p%40ss%3Aw0rd") + tail));
  ASSERT_TRUE(b.start(store("seckill:p%40ss%3Aw0rd") + tail));
  StormResult storm = runStorm({a.port()}, "drop", 4, 40, 1);
  EXPECT_EQ(storm.other, 0) << storm.first_other;
  EXPECT_EQ(storm.created(), 20);
  EXPECT_EQ(storm.sold_out, 20);
  // B sold nothing: it learns of the sell-out from A's broadcast, which it
  // hears on its own authenticated subscriber connection.
  EXPECT_TRUE(eventually([&] {
    return metricsOf(b.port()).find("seckill_sale_sold_out_local{sale=\"drop\"} 1\n") !=
           std::string::npos;
  }));
  TestClient cb(b.port());
  EXPECT_EQ(cb.post("/api/v1/sales/drop/orders", "late").status, 410);
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
}

// At start the engine reads each Redis server's eviction and AOF settings and
// warns about the ones that can lose acknowledged orders.
TEST_F(ProductionE2eTest, RiskyRedisSettingsAreWarnedAboutAtStart) {
  const std::string body = redisStore(redis_.port()) + sale("drop", 10);
  EngineProcess safe;  // the fixture's Redis: AOF on, noeviction
  ASSERT_TRUE(safe.start(body));
  EXPECT_TRUE(safe.stop());
  EXPECT_THAT(safe.stderrText(), ::testing::Not(::testing::HasSubstr("warning redis")));

  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}), "OK");
  ASSERT_EQ(*redis_.query({"CONFIG", "SET", "appendonly", "no"}), "OK");
  EngineProcess risky;
  ASSERT_TRUE(risky.start(body));  // a warning, not a refusal: the sale is served
  TestClient c(risky.port());
  EXPECT_EQ(c.post("/api/v1/sales/drop/orders", "shopper").status, 201);
  EXPECT_TRUE(risky.stop());
  const std::string err = risky.stderrText();
  const std::string server = "redis 127.0.0.1:" + std::to_string(redis_.port());
  EXPECT_THAT(err, ::testing::HasSubstr(server + ": maxmemory-policy is allkeys-lru")) << err;
  EXPECT_THAT(err, ::testing::HasSubstr(server + ": appendonly is no")) << err;
}

TEST_F(ProductionE2eTest, RedisRestartMidSaleAnswers503ThenRecovers) {
  const std::string body =
      redisStore(redis_.port(), "timeout = \"300ms\"") + sale("drop", 200, "pay_timeout = \"1h\"");
  EngineProcess engine;
  ASSERT_TRUE(engine.start(body));
  StormResult first = runStorm({engine.port()}, "drop", 4, 80, 1, "first-");
  ASSERT_EQ(first.created(), 80) << first.first_other;

  redis_.stop();  // SIGKILL: a crash
  {
    TestClient c(engine.port());
    Reply r = c.post("/api/v1/sales/drop/orders", "during-outage");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.str("error"), "unavailable") << r.body;
    EXPECT_FALSE(r.header("Retry-After").empty());
    EXPECT_EQ(c.get("/healthz").status, 200);
  }
  ASSERT_TRUE(redis_.start().ok());  // same port, same append-only file

  // The engine reconnects by itself; the sale goes on where it stopped.
  EXPECT_TRUE(eventually([&] {
    TestClient c(engine.port());
    return c.get("/api/v1/sales/drop").status == 200;
  }));
  StormResult second = runStorm({engine.port()}, "drop", 4, 200, 1, "second-");
  EXPECT_EQ(second.other, 0) << second.first_other;
  EXPECT_EQ(first.created() + second.created(), 200);
  EXPECT_EQ(redisInt(redis_, {"GET", "sk:{drop}:stock"}), 0);
  EXPECT_EQ(ordersInRedis(redis_, "drop"), 200);
  // Every order answered 201 before the crash is still there.
  TestClient c(engine.port());
  for (const auto& [user, id] : first.order_of_user) {
    Reply r = c.get("/api/v1/orders/" + id, user);
    EXPECT_EQ(r.status, 200) << id << " " << r.body;
  }
  EXPECT_TRUE(engine.stop());
}

TEST_F(ProductionE2eTest, EngineKill9MidStormLosesNoAcknowledgedOrder) {
  const std::string body = redisStore(redis_.port()) + sale("drop", 400, "pay_timeout = \"1h\"");
  EngineProcess engine;
  ASSERT_TRUE(engine.start(body));

  // Killed by the storm's own progress: after the 150th 201.
  bool killed = false;
  StormResult storm = runStormKilledAfter(engine, "drop", 600, 150, killed);
  ASSERT_TRUE(killed);
  ASSERT_GT(storm.created(), 0);
  // The kill landed mid-storm: some shoppers were cut off, stock was left.
  EXPECT_GT(storm.unavailable, 0);
  EXPECT_LT(storm.created(), 400);

  ASSERT_TRUE(engine.start(body));  // restart on the same Redis: joins the running sale
  TestClient c(engine.port());
  for (const auto& [user, id] : storm.order_of_user) {
    Reply r = c.get("/api/v1/orders/" + id, user);
    EXPECT_EQ(r.status, 200) << "acknowledged order " << id << " lost: " << r.body;
  }
  // Conserved: created orders + stock left = initial (an attempt cut off by
  // the kill either created its order with its unit, or nothing).
  const int64_t left = redisInt(redis_, {"GET", "sk:{drop}:stock"});
  const int64_t orders = ordersInRedis(redis_, "drop");
  EXPECT_EQ(left + orders, 400);
  EXPECT_GE(orders, storm.created());
  // The sale goes on after the restart.
  StormResult rest = runStorm({engine.port()}, "drop", 4, 600, 1, "after-");
  EXPECT_EQ(rest.other, 0) << rest.first_other;
  EXPECT_EQ(rest.created(), left);
  EXPECT_EQ(redisInt(redis_, {"GET", "sk:{drop}:stock"}), 0);
  EXPECT_TRUE(engine.stop());
}

TEST_F(ProductionE2eTest, TwoEnginesShareDistributedLimitsAndRuleEdits) {
  // A global budget of 10 orders (an hourly refill is nothing within the
  // test), kept in Redis: both engines draw from it.
  const std::string tight =
      "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\nrate = 10\n"
      "per = \"h\"\nburst = 10\ndistributed = true\n";
  const std::string loose =
      "[[rule]]\npath = \"/api/v1/sales/*/orders\"\nmethod = \"POST\"\nrate = 100000\n"
      "burst = 100000\ndistributed = true\n";
  const std::string base = redisStore(redis_.port()) + sale("drop", 1000, "pay_timeout = \"1h\"");
  EngineProcess a, b;
  ASSERT_TRUE(a.start(base + tight));
  ASSERT_TRUE(b.start(base + tight));  // the same file: b joins the set a seeded in Redis

  int created = 0, limited = 0;
  TestClient ca(a.port()), cb(b.port());
  for (int i = 0; i < 40; ++i) {
    TestClient& c = i % 2 == 0 ? ca : cb;
    Reply r = c.post("/api/v1/sales/drop/orders", "shopper" + std::to_string(i));
    if (r.status == 201) {
      ++created;
    } else if (r.status == 429) {
      ++limited;
      EXPECT_FALSE(r.header("Retry-After").empty());
    } else {
      ADD_FAILURE() << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(created, 10);  // one budget over both engines, not 10 each
  EXPECT_EQ(limited, 30);
  EXPECT_NE(metricsOf(b.port()).find("seckill_rate_limit_backend_errors_total 0\n"),
            std::string::npos);

  // An edit on a (its file, then SIGHUP) reaches b through Redis.
  a.rewriteConfig(base + loose);
  a.signal(SIGHUP);
  EXPECT_TRUE(eventually(
      [&] { return cb.post("/api/v1/sales/drop/orders", "after-edit").status == 201; },
      std::chrono::seconds(3)))
      << "b still limits after the edit on a";
  EXPECT_EQ(ca.post("/api/v1/sales/drop/orders", "after-edit-a").status, 201);

  // Redis gone: distributed rules fail open (the default) and count it.
  redis_.stop();
  Reply r = cb.post("/api/v1/sales/drop/orders", "outage");
  EXPECT_EQ(r.status, 503) << r.body;  // the order itself needs Redis
  EXPECT_TRUE(eventually([&] {
    return metricsOf(b.port()).find("seckill_rate_limit_backend_errors_total 0\n") ==
           std::string::npos;
  }));
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
}

}  // namespace
}  // namespace seckill::e2e
