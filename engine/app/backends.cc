#include "engine/app/backends.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
#include "engine/store/redis/redis_rule_store.h"
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
  std::unique_ptr<RedisRuleStore> rule_store;
};

namespace {

std::vector<std::string> saleIds(const EngineConfig& config) {
  std::vector<std::string> ids;
  for (const SaleSpec& s : config.sales) ids.push_back(s.id);
  return ids;
}

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

absl::StatusOr<std::unique_ptr<Backends>> Backends::create(const EngineConfig& config) {
  std::unique_ptr<Backends> b(new Backends(config));
  if (config.store.kind == StoreConfig::Kind::kMemory) {
    auto orders = std::make_unique<MemoryOrderRepository>();
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
  b->impl_->limits_redis = std::make_unique<RedisClient>(std::move(limits_options));
  b->impl_->rate_limiter = std::make_unique<RedisRateLimiter>(*b->impl_->limits_redis);
  if (config.limits.rule_store == LimitsConfig::RuleStore::kRedis) {
    RedisRuleStoreOptions rule_options;
    rule_options.poll_interval = config.limits.rule_poll;
    rule_options.on_error = [](const absl::Status& s) {
      spdlog::error("rules in Redis: {}", std::string_view(s.message().data(), s.message().size()));
    };
    b->impl_->rule_store =
        std::make_unique<RedisRuleStore>(*b->impl_->limits_redis, std::move(rule_options));
  }
  options.scripts = storeScripts();
  b->redis_ = std::make_unique<RedisClient>(std::move(options));
  // Nothing can be served until Redis answers once: the sales are registered there.
  const std::vector<std::string> ids = saleIds(config);
  RedisSaleStore::Options store_options;
  store_options.stream_orders = config.orders.kind == OrdersConfig::Kind::kMysql;
  auto store = std::make_unique<RedisSaleStore>(*b->redis_, std::move(store_options));
  b->impl_->redis_store = store.get();
  b->store_ = store.get();
  b->owned_store_ = std::move(store);
  auto cancels = std::make_unique<RedisDelayQueue>(*b->redis_, ids);
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
    writer.sale_ids = ids;
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
  auto orders = std::make_unique<RedisOrderRepository>(*b->redis_, ids);
  b->orders_ = orders.get();
  b->owned_orders_ = std::move(orders);
  b->metrics_orders_ = std::make_unique<CachedCountsRepository>(*b->orders_);
  return b;
}

ratelimit::RemoteLimiterBackend* Backends::rateLimitBackend() {
  return impl_->rate_limiter.get();
}

RedisRuleStore* Backends::ruleStore() { return impl_->rule_store.get(); }

void Backends::start() {
  if (impl_->writer) impl_->writer->start();
}

void Backends::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (impl_->memory_store != nullptr) impl_->memory_store->shutdown();
  if (impl_->rule_store) impl_->rule_store->stop();
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

void Backends::appendMetrics(std::string& out) const {
  if (!redis_) return;
  absl::StrAppend(&out,
                  "# HELP seckill_redis_connections_up Redis connections currently up.\n"
                  "# TYPE seckill_redis_connections_up gauge\n"
                  "seckill_redis_connections_up ",
                  redis_->connectedCount(),
                  "\n# HELP seckill_redis_commands_total Commands written to Redis.\n"
                  "# TYPE seckill_redis_commands_total counter\n"
                  "seckill_redis_commands_total ",
                  redis_->commandsSent(),
                  "\n# HELP seckill_redis_order_groups_total Order scripts sent (group commit: "
                  "one per group of attempts).\n"
                  "# TYPE seckill_redis_order_groups_total counter\n"
                  "seckill_redis_order_groups_total ",
                  impl_->redis_store->attemptGroups(),
                  "\n# HELP seckill_redis_order_attempts_total Order attempts those scripts "
                  "carried.\n# TYPE seckill_redis_order_attempts_total counter\n"
                  "seckill_redis_order_attempts_total ",
                  impl_->redis_store->attemptsGrouped(), "\n");
  if (const OrderWriter* w = impl_->writer.get()) {
    absl::StrAppend(
        &out,
        "# HELP seckill_order_writer_persisted_total Orders written to the database.\n"
        "# TYPE seckill_order_writer_persisted_total counter\n"
        "seckill_order_writer_persisted_total ",
        w->persisted(),
        "\n# HELP seckill_order_writer_batches_total Batches committed.\n"
        "# TYPE seckill_order_writer_batches_total counter\n"
        "seckill_order_writer_batches_total ",
        w->batches(),
        "\n# HELP seckill_order_writer_duplicates_dropped_total Orders refused by the unique "
        "(sale, user) key.\n# TYPE seckill_order_writer_duplicates_dropped_total counter\n"
        "seckill_order_writer_duplicates_dropped_total ",
        w->duplicatesDropped(),
        "\n# HELP seckill_order_writer_errors_total Failed database or Redis operations "
        "(retried).\n# TYPE seckill_order_writer_errors_total counter\n"
        "seckill_order_writer_errors_total ",
        w->errors(),
        "\n# HELP seckill_order_writer_claimed_total Entries taken over from a dead writer.\n"
        "# TYPE seckill_order_writer_claimed_total counter\n"
        "seckill_order_writer_claimed_total ",
        w->claimed(),
        "\n# HELP seckill_order_writer_lag Orders in the streams not yet in the database.\n"
        "# TYPE seckill_order_writer_lag gauge\n"
        "seckill_order_writer_lag ",
        w->lag(), "\n");
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
