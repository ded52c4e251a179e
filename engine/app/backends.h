#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/app/config.h"
#include "engine/core/control/control_store.h"
#include "engine/core/delay_queue.h"
#include "engine/core/engine_stats.h"
#include "engine/core/order_repository.h"
#include "engine/core/sale_ids.h"
#include "engine/core/sale_store.h"

namespace seckill {
class RedisClient;
namespace ratelimit {
class RemoteLimiterBackend;
}
}  // namespace seckill

namespace seckill::app {

// Forwards to an OrderRepository whose counts() would block (Redis, MySQL) and
// answers counts() from a copy that refresh() renews off the request path.
class CachedCountsRepository final : public OrderRepository {
 public:
  explicit CachedCountsRepository(OrderRepository& inner) : inner_(inner) {}
  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override {
    inner_.get(order_id, std::move(done));
  }
  void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) override {
    inner_.list(query, std::move(done));
  }
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override {
    inner_.transition(order_id, from, to, reason, at, only_before, std::move(done));
  }
  OrderCounts counts() const override;
  // Reads the inner counts (may block); call from a background thread.
  void refresh();

 private:
  OrderRepository& inner_;
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> paid_{0};
  std::atomic<int64_t> cancelled_{0};
};

// The stores the engine runs on, built from [store], [orders], [limits] and [admin]: the memory
// stores (the embedded default), or Redis for stock, dedup, tokens and the
// delayed cancels with orders in Redis or in MariaDB/MySQL; and where the control state lives
// (Redis, a state directory, or memory). Owns them and whatever they need (the Redis clients,
// the DB pool and batch writer).
class Backends {
 public:
  // Connects (Redis, MySQL: blocking, with the configured timeouts) and, for
  // MySQL, creates or migrates the schema; opens the state directory. Unavailable when a
  // server cannot be reached at start; InvalidArgument for a config the stores refuse.
  // `sale_ids` names the sales served at any moment (stores with per-sale structures follow it).
  static absl::StatusOr<std::unique_ptr<Backends>> create(const EngineConfig& config,
                                                          SaleIdList sale_ids);
  ~Backends();  // shutdown()
  Backends(const Backends&) = delete;
  Backends& operator=(const Backends&) = delete;

  // Starts background workers (the MySQL batch writer). Once.
  void start();
  // Stops workers and connections; calls still in flight fail. Idempotent.
  void shutdown();

  SaleStore& store() { return *store_; }
  // What the core transitions orders through.
  OrderRepository& orders() { return *orders_; }
  // The same, with counts() that never blocks: for /metrics.
  OrderRepository& ordersForMetrics() { return metrics_orders_ ? *metrics_orders_ : *orders_; }
  DelayQueue& cancels() { return *cancels_; }
  // nullptr with the memory stores.
  RedisClient* redis() { return redis_.get(); }
  // Where distributed rate rules keep their state; nullptr with the memory stores.
  ratelimit::RemoteLimiterBackend* rateLimitBackend();
  // Where the control state (rule versions, breaker modes, sales, audit) lives.
  control::ControlStore& control() { return *control_; }

  // The memory order store: drops finished orders past [orders] keep_finished (returns how
  // many); 0 with the other stores. Call periodically from a background thread.
  size_t forgetFinishedOrders(absl::Time now);
  // Renews what /metrics reads without blocking (cancel queue depth, order
  // counts); call from a background thread.
  void refreshGauges();
  size_t cancelsPending() const { return cancels_pending_.load(std::memory_order_relaxed); }
  // The backends' part of the engine's stats: order counts by state, the cancel queue, the
  // batch writer's duplicates, and their own series (Redis connections, batch writer). Never
  // blocks.
  void collect(EngineStats& out) const;
  // One log line: what the engine runs on.
  std::string describe() const;

 private:
  struct Impl;
  explicit Backends(const EngineConfig& config);

  const StoreConfig store_config_;
  const OrdersConfig orders_config_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<OrderRepository> owned_orders_;
  std::unique_ptr<DelayQueue> owned_cancels_;
  std::unique_ptr<SaleStore> owned_store_;
  SaleStore* store_ = nullptr;
  OrderRepository* orders_ = nullptr;
  DelayQueue* cancels_ = nullptr;
  std::unique_ptr<CachedCountsRepository> metrics_orders_;
  std::unique_ptr<control::ControlStore> control_;
  std::atomic<size_t> cancels_pending_{0};
  bool shut_down_ = false;
};

}  // namespace seckill::app
