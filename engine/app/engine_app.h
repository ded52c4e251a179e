#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/app/backends.h"
#include "engine/app/config.h"
#include "engine/app/periodic_task.h"
#include "engine/app/sale_broadcast.h"
#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/order.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/http/server.h"

namespace seckill::app {

// The engine as one process runs it, wired from an EngineConfig: the system
// clock, the sale catalog, the stores (Backends: memory, or Redis and MySQL),
// the sale and order services, the
// delayed-cancel consumer on its timer thread, and the shopper HTTP server.
// It holds no logic of its own.
//
// create() builds everything and binds the sockets; start() begins serving;
// stop() drains. start() and stop() are called from one owner thread (main).
class EngineApp {
 public:
  // Builds the engine and binds the listening sockets; nothing runs yet.
  // InvalidArgument for a config the core refuses; the server's error, with
  // the address, when it cannot listen (e.g. address in use).
  // `config_path` (empty: none) is where reloadRules() and the file watch
  // re-read the rate rules from.
  static absl::StatusOr<std::unique_ptr<EngineApp>> create(EngineConfig config,
                                                         std::string config_path = {});

  ~EngineApp();  // stop()
  EngineApp(const EngineApp&) = delete;
  EngineApp& operator=(const EngineApp&) = delete;

  // Starts the HTTP workers and the cancel consumer's timer. Once only.
  void start();
  // Stops accepting and closes connections, then stops the cancel consumer and
  // the store's workers. Idempotent.
  void stop();

  // The bound port (differs from the config's when it asked for port 0).
  uint16_t port() const;
  // "host:port" with the bound port.
  std::string listenAddress() const;
  const EngineConfig& config() const { return config_; }

  // What is being served, one log line each: the listener, then every sale.
  std::vector<std::string> describe() const;

  // Re-reads the config file and swaps in its [[rule]] set and [[override]]
  // list (SIGHUP, the file watch). An invalid file changes nothing: the
  // running set stays and the error is returned. Returns the new version.
  // Other sections of the file need a restart; a change there is ignored.
  absl::StatusOr<uint64_t> reloadRules();
  // The in-process traffic-control API (the gRPC admin service's backend).
  ratelimit::RuleRegistry& rules() { return rules_; }
  ratelimit::RateLimiter& limiter() { return limiter_; }
  ratelimit::CircuitBreaker& stockBreaker() { return *stock_breaker_; }
  ratelimit::CircuitBreaker& orderBreaker() { return *order_breaker_; }

 private:
  EngineApp(EngineConfig config, std::string config_path, std::unique_ptr<SaleCatalog> catalog,
            std::unique_ptr<Backends> backends,
            std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker,
            std::unique_ptr<ratelimit::CircuitBreaker> order_breaker);
  void applyOverrides(const std::vector<ratelimit::Override>& overrides);
  // The rule set at start: the file's, or (rule_store = "redis") the shared set
  // in Redis, seeded from the file when Redis has none, then followed.
  absl::Status loadRules();
  // Reloads when the config file's modification time or size changed.
  void watchConfig();
  // A request a log-mode rule would have limited: counted, and logged at most
  // once a second (with how many were not logged).
  void onShadow(const ratelimit::Verdict& v);

  // Runs the consumer for what is due now; on the cancel timer thread.
  void runCancelConsumer();
  // Appends the app's own Prometheus series to /metrics; on HTTP threads.
  void appendMetrics(std::string& out) const;

  const EngineConfig config_;
  const std::string config_path_;
  SystemClock clock_;
  OrderIdGenerator ids_;
  std::unique_ptr<SaleCatalog> catalog_;
  std::unique_ptr<Backends> backends_;
  std::unique_ptr<ratelimit::CircuitBreaker> stock_breaker_;
  std::unique_ptr<ratelimit::CircuitBreaker> order_breaker_;
  ratelimit::RuleRegistry rules_;
  ratelimit::RateLimiter limiter_;
  SaleService sales_;
  OrderLifecycle lifecycle_;
  CancelConsumer consumer_;  // driven only by cancel_task_'s thread
  PeriodicTask cancel_task_;
  PeriodicTask watch_task_;  // config file watch; also evicts idle limiter keys
  absl::Mutex reload_mu_;    // one reload at a time (SIGHUP vs the watch)
  int64_t watched_mtime_ns_ ABSL_GUARDED_BY(reload_mu_) = 0;
  int64_t watched_size_ ABSL_GUARDED_BY(reload_mu_) = -1;
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<uint64_t> shadow_total_{0};
  std::atomic<int64_t> shadow_logged_at_{0};    // unix seconds of the last shadow log line
  std::atomic<uint64_t> shadow_unlogged_{0};
  // Redis only: the sold-out news between nodes, and its safety refresh.
  std::unique_ptr<SaleBroadcast> broadcast_;
  std::unique_ptr<PeriodicTask> sold_out_task_;
  std::unique_ptr<http::Server> server_;  // set by create()
  bool started_ = false;                  // owner thread only
  bool stopped_ = false;                  // owner thread only
};

}  // namespace seckill::app
