#include "engine/app/backends.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/store/file/file_control_store.h"
#include "engine/store/memory/memory_control_store.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "engine/store/mysql/mysql_order_repository.h"
#include "engine/store/mysql/mysql_pool.h"
#include "engine/store/mysql/mysql_schema.h"
#include "engine/store/mysql/mysql_url.h"
#include "engine/store/mysql/order_writer.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_delay_queue.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_order_repository.h"
#include "engine/store/redis/redis_rate_limiter.h"
#include "engine/store/redis/redis_control_store.h"
#include "engine/store/redis/redis_sale_store.h"
#include "spdlog/spdlog.h"

namespace seckill::app {

OrderCounts CachedCountsRepository::counts() const {
  return OrderCounts{.pending_payment = pending_.load(std::memory_order_relaxed),
                     .paid = paid_.load(std::memory_order_relaxed),
                     .cancelled = cancelled_.load(std::memory_order_relaxed)};
}

void CachedCountsRepository::refresh() {
  OrderCounts c = inner_.counts();
  pending_.store(c.pending_payment, std::memory_order_relaxed);
  paid_.store(c.paid, std::memory_order_relaxed);
  cancelled_.store(c.cancelled, std::memory_order_relaxed);
}

// What only some configurations have.
struct Backends::Impl {
  MemorySaleStore* memory_store = nullptr;  // owned by owned_store_
  MemoryOrderRepository* memory_orders = nullptr;  // owned by owned_orders_
  RedisSaleStore* redis_store = nullptr;    // owned by owned_store_
  // [orders] kind = "mysql"; destroyed before the Redis client.
  std::unique_ptr<MysqlPool> pool;
  std::unique_ptr<RedisClient> writer_redis;
  std::unique_ptr<OrderWriter> writer;
  MysqlOrderRepository* mysql_orders = nullptr;  // owned by owned_orders_
  std::string mysql_url;                          // redacted, for messages
  // Distributed rate rules and the shared rule set: their own connections,
  // with the short [limits] distributed_timeout.
  std::unique_ptr<RedisClient> limits_redis;
  std::unique_ptr<RedisRateLimiter> rate_limiter;
  // The control state shared by every node ([limits] rule_store = "redis"): its own client.
  std::unique_ptr<RedisClient> control_redis;
};

namespace {

// The batch writer's consumer name: stable across restarts of this node, so a
// restarted engine re-reads its own unacknowledged entries at once, and
// distinct for two engines on one host (their HTTP ports differ).
std::string writerName(const EngineConfig& config) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "engine");
  return absl::StrCat(host, ":", config.http.port);
}

std::string formatAddresses(const std::vector<RedisEndpoint>& addresses) {
  return absl::StrJoin(addresses, ", ", [](std::string* out, const RedisEndpoint& a) {
    out->append(a.toString());
  });
}

}  // namespace

Backends::Backends(const EngineConfig& config)
    : store_config_(config.store), orders_config_(config.orders), impl_(std::make_unique<Impl>()) {}

Backends::~Backends() { shutdown(); }

absl::StatusOr<std::unique_ptr<Backends>> Backends::create(const EngineConfig& config,
                                                          SaleIdList sale_ids) {
  std::unique_ptr<Backends> b(new Backends(config));
  // The control state of one node: a state directory, or memory.
  if (config.limits.rule_store != LimitsConfig::RuleStore::kRedis) {
    if (config.admin.state_dir.empty()) {
      b->control_ = std::make_unique<MemoryControlStore>();
    } else {
      absl::StatusOr<std::unique_ptr<FileControlStore>> files =
          FileControlStore::open(config.admin.state_dir);
      if (!files.ok()) {
        // A path that cannot be a state dir is the config's fault (exit 2, no restart loop); a
        // dir another engine holds is not (it may be gone in a moment).
        if (files.status().message().find("in use by another engine") ==
            std::string_view::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat("admin.state_dir: ", files.status().message()));
        }
        return files.status();
      }
      b->control_ = *std::move(files);
    }
  }
  if (config.store.kind == StoreConfig::Kind::kMemory) {
    auto orders = std::make_unique<MemoryOrderRepository>(config.orders.keep_finished);
    b->impl_->memory_orders = orders.get();
    auto cancels = std::make_unique<MemoryDelayQueue>();
    auto store = std::make_unique<MemorySaleStore>(*orders, *cancels);
    b->impl_->memory_store = store.get();
    b->store_ = store.get();
    b->orders_ = orders.get();
    b->cancels_ = cancels.get();
    b->owned_store_ = std::move(store);
    b->owned_orders_ = std::move(orders);
    b->owned_cancels_ = std::move(cancels);
    return b;
  }

  // Redis: one client (its connections, one thread each) shared by the stores.
  RedisClientOptions options;
  options.seeds = config.store.redis;
  options.auth = config.store.redis_auth;
  options.connections = config.store.connections;
  options.command_timeout = config.store.timeout;
  // The batch writer gets its own connections: its 1,000-entry stream reads
  // and acks must not queue behind (or in front of) shoppers' order scripts.
  RedisClientOptions writer_options = options;
  writer_options.connections = config.orders.writers;
  RedisClientOptions limits_options = options;
  limits_options.command_timeout = config.limits.distributed_timeout;
  limits_options.scripts = rateLimitScripts();
  RedisClientOptions control_options = options;
  control_options.connections = 1;
  control_options.scripts = controlScripts();
  b->impl_->limits_redis = std::make_unique<RedisClient>(std::move(limits_options));
  b->impl_->rate_limiter = std::make_unique<RedisRateLimiter>(*b->impl_->limits_redis);
  if (config.limits.rule_store == LimitsConfig::RuleStore::kRedis) {
    b->impl_->control_redis = std::make_unique<RedisClient>(std::move(control_options));
    RedisControlStoreOptions store_options;
    store_options.poll_interval = config.limits.rule_poll;
    b->control_ = std::make_unique<RedisControlStore>(*b->impl_->control_redis, store_options);
  }
  options.scripts = storeScripts();
  b->redis_ = std::make_unique<RedisClient>(std::move(options));
  RedisSaleStore::Options store_options;
  store_options.stream_orders = config.orders.kind == OrdersConfig::Kind::kMysql;
  auto store = std::make_unique<RedisSaleStore>(*b->redis_, std::move(store_options));
  b->impl_->redis_store = store.get();
  b->store_ = store.get();
  b->owned_store_ = std::move(store);
  auto cancels = std::make_unique<RedisDelayQueue>(*b->redis_, sale_ids);
  b->cancels_ = cancels.get();
  b->owned_cancels_ = std::move(cancels);
  if (config.orders.kind == OrdersConfig::Kind::kMysql) {
    absl::StatusOr<MysqlUrl> url = parseMysqlUrl(config.orders.mysql);
    if (!url.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("orders.mysql: ", url.status().message()));
    }
    b->impl_->mysql_url = redactedMysqlUrl(*url);
    MysqlPoolOptions pool_options;
    pool_options.url = *url;
    pool_options.size = config.orders.pool;
    b->impl_->pool = std::make_unique<MysqlPool>(std::move(pool_options));
    if (absl::Status s = migrateSchema(*b->impl_->pool); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("cannot prepare the orders schema on ",
                                                 b->impl_->mysql_url, ": ", s.message()));
    }
    auto orders = std::make_unique<MysqlOrderRepository>(*b->redis_, *b->impl_->pool);
    b->impl_->mysql_orders = orders.get();
    b->orders_ = orders.get();
    b->owned_orders_ = std::move(orders);
    OrderWriterOptions writer;
    writer.sale_ids = sale_ids;
    writer.consumer = writerName(config);
    writer.workers = config.orders.writers;
    writer.batch = config.orders.batch;
    writer.claim_idle = config.orders.claim_idle;
    b->impl_->writer_redis = std::make_unique<RedisClient>(std::move(writer_options));
    b->impl_->writer =
        std::make_unique<OrderWriter>(*b->impl_->writer_redis, *b->impl_->pool, std::move(writer));
    // counts() of the MySQL repository never blocks: no cache needed.
    return b;
  }
  auto orders = std::make_unique<RedisOrderRepository>(*b->redis_, sale_ids);
  b->orders_ = orders.get();
  b->owned_orders_ = std::move(orders);
  b->metrics_orders_ = std::make_unique<CachedCountsRepository>(*b->orders_);
  return b;
}

ratelimit::RemoteLimiterBackend* Backends::rateLimitBackend() {
  return impl_->rate_limiter.get();
}

void Backends::start() {
  if (impl_->writer) impl_->writer->start();
}

void Backends::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (impl_->memory_store != nullptr) impl_->memory_store->shutdown();
  if (control_) control_->stop();
  if (impl_->control_redis) impl_->control_redis->shutdown();
  if (impl_->limits_redis) impl_->limits_redis->shutdown();
  // The writer finishes the batch it is writing; what it has not acked stays
  // in the stream for the next start (or another node).
  if (impl_->writer) impl_->writer->stop();
  if (impl_->writer_redis) impl_->writer_redis->shutdown();
  if (impl_->mysql_orders != nullptr) impl_->mysql_orders->shutdown();
  if (redis_) redis_->shutdown();
}

void Backends::refreshGauges() {
  cancels_pending_.store(cancels_->pending(), std::memory_order_relaxed);
  if (metrics_orders_) metrics_orders_->refresh();
}

size_t Backends::forgetFinishedOrders(absl::Time now) {
  return impl_->memory_orders != nullptr ? impl_->memory_orders->forgetFinished(now) : 0;
}

void Backends::collect(EngineStats& out) const {
  const OrderCounts c = metrics_orders_ ? metrics_orders_->counts() : orders_->counts();
  out.orders.pending_now = c.pending_payment;
  out.orders.paid_now = c.paid;
  out.orders.cancelled_now = c.cancelled;
  out.cancel_queue_pending = cancels_pending_.load(std::memory_order_relaxed);
  if (const MemoryOrderRepository* m = impl_->memory_orders) {
    out.extra.push_back(MetricFamily{
        "seckill_orders_forgotten_total",
        "Finished orders dropped from memory after [orders] keep_finished.",
        MetricFamily::Type::kCounter, {{"", m->forgotten()}}});
  }
  if (!redis_) return;
  using Type = MetricFamily::Type;
  auto family = [&out](const char* name, const char* help, Type type, int64_t value) {
    out.extra.push_back(MetricFamily{name, help, type, {{"", value}}});
  };
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  family("seckill_redis_connections_up", "Redis connections currently up.", Type::kGauge,
         redis_->connectedCount());
  family("seckill_redis_commands_total", "Commands written to Redis.", Type::kCounter,
         i64(redis_->commandsSent()));
  family("seckill_redis_order_groups_total",
         "Order scripts sent (group commit: one per group of attempts).", Type::kCounter,
         i64(impl_->redis_store->attemptGroups()));
  family("seckill_redis_order_attempts_total", "Order attempts those scripts carried.",
         Type::kCounter, i64(impl_->redis_store->attemptsGrouped()));
  if (const OrderWriter* w = impl_->writer.get()) {
    out.orders.cancelled_duplicate = w->duplicatesDropped();
    family("seckill_order_writer_persisted_total", "Orders written to the database.",
           Type::kCounter, i64(w->persisted()));
    family("seckill_order_writer_batches_total", "Batches committed.", Type::kCounter,
           i64(w->batches()));
    family("seckill_order_writer_duplicates_dropped_total",
           "Orders refused by the unique (sale, user) key.", Type::kCounter,
           i64(w->duplicatesDropped()));
    family("seckill_order_writer_errors_total",
           "Failed database or Redis operations (retried).", Type::kCounter, i64(w->errors()));
    family("seckill_order_writer_claimed_total", "Entries taken over from a dead writer.",
           Type::kCounter, i64(w->claimed()));
    family("seckill_order_writer_lag", "Orders in the streams not yet in the database.",
           Type::kGauge, w->lag());
  }
}

std::string Backends::describe() const {
  std::string s = store_config_.kind == StoreConfig::Kind::kMemory
                      ? "stores: memory (embedded)"
                      : absl::StrCat("stores: redis ", formatAddresses(store_config_.redis),
                                     ", ", store_config_.connections, " connection(s) per node");
  switch (orders_config_.kind) {
    case OrdersConfig::Kind::kMemory: absl::StrAppend(&s, "; orders: memory"); break;
    case OrdersConfig::Kind::kRedis: absl::StrAppend(&s, "; orders: redis"); break;
    case OrdersConfig::Kind::kMysql:
      absl::StrAppend(&s, "; orders: mysql ", impl_->mysql_url, " (pool ", orders_config_.pool,
                      ", ", orders_config_.writers, " writer(s), batch ", orders_config_.batch,
                      ")");
      break;
  }
  return s;
}

}  // namespace seckill::app
