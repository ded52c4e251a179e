// Sustained OrderWriter throughput: preloads N orders into the order streams
// of a few sales (entries and order hashes, as attempt_orders.lua writes them),
// then runs the writer until every order is a committed row and every entry
// acked, and prints orders/s. Run by bench/run-mysql-writer, which starts
// redis-server and mariadbd; see docs/mysql.md.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/store/mysql/mysql_pool.h"
#include "engine/store/mysql/mysql_schema.h"
#include "engine/store/mysql/mysql_url.h"
#include "engine/store/mysql/order_writer.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {
namespace {

struct Args {
  int redis_port = 6379;
  std::string mysql = "mysql://root@127.0.0.1:3306/seckill";
  int orders = 200000;
  int sales = 4;
  int batch = 1000;
  int workers = 2;
  int pool = 4;
  bool keep_records = false;
};

// Sends every command asynchronously (pipelined by the client), `window` at a
// time; false if any failed.
bool sendAll(RedisClient& redis, std::vector<std::pair<std::string, std::vector<std::string>>> cmds,
             size_t window) {
  std::atomic<bool> ok{true};
  for (size_t start = 0; start < cmds.size(); start += window) {
    size_t end = std::min(cmds.size(), start + window);
    auto left = std::make_shared<std::atomic<size_t>>(end - start);
    auto all = std::make_shared<std::promise<void>>();
    std::future<void> done = all->get_future();
    for (size_t i = start; i < end; ++i) {
      redis.command(cmds[i].first, std::move(cmds[i].second),
                    [left, all, &ok](absl::StatusOr<RedisReply> r) {
                      if (!r.ok()) ok = false;
                      if (left->fetch_sub(1) == 1) all->set_value();
                    });
    }
    done.wait();
    if (!ok) return false;
  }
  return true;
}

int run(const Args& a) {
  absl::StatusOr<MysqlUrl> url = parseMysqlUrl(a.mysql);
  if (!url.ok()) {
    std::fprintf(stderr, "%s\n", url.status().ToString().c_str());
    return 2;
  }
  MysqlPoolOptions po;
  po.url = *url;
  po.size = a.pool;
  MysqlPool pool(po);
  if (absl::Status s = migrateSchema(pool); !s.ok()) {
    std::fprintf(stderr, "schema: %s\n", s.ToString().c_str());
    return 1;
  }
  RedisClientOptions ro;
  ro.port = a.redis_port;
  ro.connections = 2;
  ro.command_timeout = absl::Seconds(5);
  RedisClient redis(ro);

  std::vector<std::string> sales;
  for (int s = 0; s < a.sales; ++s) sales.push_back(absl::StrCat("sale", s));
  const int64_t created = absl::ToUnixMicros(absl::Now());
  const int64_t pay_before = created + 15LL * 60 * 1000 * 1000;
  std::vector<std::pair<std::string, std::vector<std::string>>> cmds;
  cmds.reserve(static_cast<size_t>(a.orders) * 2);
  for (int i = 0; i < a.orders; ++i) {
    const std::string& sale = sales[i % a.sales];
    std::string id = absl::StrCat("benchnode-", i, "-", sale);
    std::string user = absl::StrCat("user", i);
    Order o;
    o.id = id;
    o.sale_id = sale;
    o.user_id = user;
    o.created_at = fromRedisMicros(created);
    o.pay_before = fromRedisMicros(pay_before);
    o.updated_at = o.created_at;
    cmds.push_back(
        {sale, {"HSET", redis_keys::orderRecords(sale), id, redis_internal::encodeOrderRecord(o)}});
    cmds.push_back({sale,
                    {"XADD", redis_keys::orderStream(sale), "*", "id", id, "user", user, "created",
                     std::to_string(created), "pay_before", std::to_string(pay_before)}});
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!sendAll(redis, std::move(cmds), 20000)) {
    std::fprintf(stderr, "preload failed (is redis-server on port %d?)\n", a.redis_port);
    return 1;
  }
  double preload_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("preloaded %d orders into %d sale streams in %.2f s\n", a.orders, a.sales, preload_s);

  RedisClientOptions wo = ro;  // the writer's own client, as in the engine
  RedisClient writer_redis(wo);
  OrderWriterOptions o;
  o.sale_ids = fixedSaleIds(sales);
  o.consumer = "bench";
  o.batch = a.batch;
  o.workers = a.workers;
  o.idle_sleep = absl::Milliseconds(5);
  o.delete_order_records = !a.keep_records;
  OrderWriter writer(writer_redis, pool, o);

  auto start = std::chrono::steady_clock::now();
  writer.start();
  uint64_t last = 0;
  auto last_t = start;
  double best = 0, worst = 1e18;
  while (writer.persisted() < static_cast<uint64_t>(a.orders)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto now = std::chrono::steady_clock::now();
    if (now - last_t >= std::chrono::seconds(1)) {
      uint64_t p = writer.persisted();
      double rate =
          static_cast<double>(p - last) / std::chrono::duration<double>(now - last_t).count();
      if (p < static_cast<uint64_t>(a.orders)) {  // full seconds only
        best = std::max(best, rate);
        worst = std::min(worst, rate);
      }
      std::printf("  t=%5.1fs persisted=%llu (%.0f/s)\n",
                  std::chrono::duration<double>(now - start).count(),
                  static_cast<unsigned long long>(p), rate);
      last = p;
      last_t = now;
    }
    if (writer.errors() > 0 && now - start > std::chrono::seconds(600)) break;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writer.stop();
  uint64_t persisted = writer.persisted();
  std::printf(
      "persisted=%llu batches=%llu duplicates=%llu errors=%llu seconds=%.2f rate=%.0f "
      "batch=%d workers=%d sales=%d\n",
      static_cast<unsigned long long>(persisted), static_cast<unsigned long long>(writer.batches()),
      static_cast<unsigned long long>(writer.duplicatesDropped()),
      static_cast<unsigned long long>(writer.errors()), secs, static_cast<double>(persisted) / secs,
      a.batch, a.workers, a.sales);
  if (best > 0) std::printf("per-second rates: min=%.0f max=%.0f\n", worst, best);
  redis.shutdown();
  writer_redis.shutdown();
  return persisted == static_cast<uint64_t>(a.orders) ? 0 : 1;
}

}  // namespace
}  // namespace seckill

int main(int argc, char** argv) {
  seckill::Args a;
  CLI::App app("OrderWriter throughput: Redis order streams -> MariaDB/MySQL");
  app.add_option("--redis-port", a.redis_port, "redis-server port on 127.0.0.1");
  app.add_option("--mysql", a.mysql, "mysql://user:password@host:port/db");
  app.add_option("--orders", a.orders, "orders to preload and persist");
  app.add_option("--sales", a.sales, "sales (streams) the orders are spread over");
  app.add_option("--batch", a.batch, "rows per INSERT (XREADGROUP COUNT)");
  app.add_option("--workers", a.workers, "writer threads");
  app.add_option("--pool", a.pool, "MySQL connections");
  app.add_flag("--keep-records", a.keep_records, "do not HDEL the order records after commit");
  CLI11_PARSE(app, argc, argv);
  return seckill::run(a);
}
