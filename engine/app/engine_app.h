#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/admin/admin_server.h"
#include "engine/admin/stats_history.h"
#include "engine/admin/token_auth.h"
#include "engine/app/backends.h"
#include "engine/app/config.h"
#include "engine/app/periodic_task.h"
#include "engine/app/sale_broadcast.h"
#include "engine/app/stats_collector.h"
#include "engine/app/stats_sampler.h"
#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/control/breaker_control.h"
#include "engine/core/control/rule_control.h"
#include "engine/core/control/sale_control.h"
#include "engine/core/order.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/http/server.h"
#include "engine/rls/rls_server.h"

namespace seckill::app {

struct EngineOptions {
  const Clock* clock = nullptr;  // default: the system clock
  std::string engine_version = "unknown";
};

// The engine as one process runs it, wired from an EngineConfig: the clock, the stores
// (Backends), the sale catalog, the sale and order services, the control plane (rules, breaker
// modes, sales: engine/core/control), the delayed-cancel consumer, the stats sampler and its
// history, the shopper HTTP server and the admin gRPC server. It holds no logic of its own.
//
// create() builds everything and binds the sockets (the admin listener serves at once);
// start() begins serving shoppers; stop() drains. start() and stop() are called from one owner
// thread (main).
class EngineApp {
 public:
  // InvalidArgument for a config the core refuses; the server's error, with the address, when
  // it cannot listen; the store's when the state cannot be read. `config_path` (empty: none) is
  // where reloadRules() and the file watch re-read the rules from.
  static absl::StatusOr<std::unique_ptr<EngineApp>> create(EngineConfig config,
                                                         std::string config_path = {},
                                                         EngineOptions options = {});

  ~EngineApp();  // stop()
  EngineApp(const EngineApp&) = delete;
  EngineApp& operator=(const EngineApp&) = delete;

  // Starts the HTTP workers, the cancel consumer, the sampler and the watches. Once only.
  void start();
  // Stops the admin and shopper listeners, then the background work. Idempotent.
  void stop();

  // The bound port (differs from the config's when it asked for port 0).
  uint16_t port() const;
  // "host:port" with the bound port.
  std::string listenAddress() const;
  // The admin listener's bound port; 0 when the admin API is off.
  int adminPort() const { return admin_ ? admin_->port() : 0; }
  // The rate-limit service's bound port; 0 when [rls] listen is not set.
  int rlsPort() const { return rls_ ? rls_->port() : 0; }
  const EngineConfig& config() const { return config_; }
  const std::string& nodeId() const { return node_id_; }

  // What is being served, one log line each: the listeners, the stores, every sale.
  std::vector<std::string> describe() const;

  // SIGHUP and the file watch: the config file's [[rule]] and [[override]] tables go through
  // the control plane, applied (as a new version) iff they changed since the file was last
  // applied. An invalid file changes nothing. Returns the running version. Other sections of
  // the file need a restart.
  absl::StatusOr<uint64_t> reloadRules();
  // SIGHUP: re-reads the admin tokens file; a file that fails to load keeps the old tokens.
  void reloadTokens();

  // In-process access for tests and tools.
  ratelimit::RuleRegistry& rules() { return rules_; }
  ratelimit::RateLimiter& limiter() { return limiter_; }
  ratelimit::CircuitBreaker& stockBreaker() { return *stock_breaker_; }
  ratelimit::CircuitBreaker& orderBreaker() { return *order_breaker_; }
  control::RuleControl& ruleControl() { return rule_control_; }
  admin::StatsHistory& statsHistory() { return history_; }

 private:
  EngineApp(EngineConfig config, std::string config_path, const Clock& clock,
            std::string node_id, std::unique_ptr<Backends> backends,
            std::unique_ptr<SaleCatalog> catalog, std::unique_ptr<control::SaleControl> sales,
            std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker,
            std::unique_ptr<ratelimit::CircuitBreaker> order_breaker);
  // The admin listener, if [admin] tokens is set. InvalidArgument for a tokens file refused.
  absl::Status startAdmin(const std::string& engine_version);
  // Envoy's rate-limit service, if [rls] listen is set: the same limiter as the HTTP edge.
  absl::Status startRls();
  // Reloads when the config file's modification time or size changed.
  void watchConfig();
  // A request a log-mode rule would have limited: counted, and logged at most
  // once a second (with how many were not logged).
  void onShadow(const ratelimit::Verdict& v);
  // Runs the consumer for what is due now; on the cancel timer thread.
  void runCancelConsumer();
  // The app's own counters, for the stats.
  void collectApp(EngineStats& out) const;

  const EngineConfig config_;
  const std::string config_path_;
  const Clock& clock_;
  const absl::Time started_at_;
  const std::string node_id_;
  OrderIdGenerator ids_;
  std::unique_ptr<Backends> backends_;
  std::unique_ptr<SaleCatalog> catalog_;
  std::unique_ptr<control::SaleControl> sale_control_;
  std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker_;
  std::unique_ptr<ratelimit::CircuitBreaker> order_breaker_;
  ratelimit::RuleRegistry rules_;
  ratelimit::RateLimiter limiter_;
  SaleService sales_;
  OrderLifecycle lifecycle_;
  CancelConsumer consumer_;  // driven only by cancel_task_'s thread
  control::RuleControl rule_control_;
  control::BreakerControl breaker_control_;
  admin::StatsHistory history_;
  std::unique_ptr<StatsCollector> collector_;
  std::unique_ptr<StatsSampler> sampler_;
  PeriodicTask cancel_task_;
  PeriodicTask watch_task_;  // config file watch; also evicts idle limiter keys
  absl::Mutex reload_mu_;    // one reload at a time (SIGHUP vs the watch)
  int64_t watched_mtime_ns_ ABSL_GUARDED_BY(reload_mu_) = 0;
  int64_t watched_size_ ABSL_GUARDED_BY(reload_mu_) = -1;
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> shadow_total_{0};
  std::atomic<int64_t> shadow_logged_at_{0};  // unix seconds of the last shadow log line
  std::atomic<uint64_t> shadow_unlogged_{0};
  // Redis only: the sold-out news between nodes, and its safety refresh.
  std::unique_ptr<SaleBroadcast> broadcast_;
  std::unique_ptr<PeriodicTask> sold_out_task_;
  std::unique_ptr<identity::ShopperIdentity> identity_;  // outlives server_
  std::unique_ptr<http::Server> server_;  // set by create()
  std::unique_ptr<admin::AdminTokens> tokens_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<rls::RlsServer> rls_;
  bool started_ = false;  // owner thread only
  bool stopped_ = false;  // owner thread only
};

}  // namespace seckill::app
