#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/app/config.h"
#include "engine/app/periodic_task.h"
#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/order.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/http/server.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"

namespace seckill::app {

// The engine as one process runs it, wired from an EngineConfig: the system
// clock, the sale catalog, the memory stores, the sale and order services, the
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
  static absl::StatusOr<std::unique_ptr<EngineApp>> create(EngineConfig config);

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

 private:
  EngineApp(EngineConfig config, std::unique_ptr<SaleCatalog> catalog);

  // Runs the consumer for what is due now; on the cancel timer thread.
  void runCancelConsumer();
  // Appends the app's own Prometheus series to /metrics; on HTTP threads.
  void appendMetrics(std::string& out) const;

  const EngineConfig config_;
  SystemClock clock_;
  OrderIdGenerator ids_;
  std::unique_ptr<SaleCatalog> catalog_;
  MemoryOrderRepository orders_;
  MemoryDelayQueue cancels_;
  MemorySaleStore store_;
  SaleService sales_;
  OrderLifecycle lifecycle_;
  CancelConsumer consumer_;  // driven only by cancel_task_'s thread
  std::atomic<uint64_t> cancels_acked_{0};
  PeriodicTask cancel_task_;
  std::unique_ptr<http::Server> server_;  // set by create()
  bool started_ = false;                  // owner thread only
  bool stopped_ = false;                  // owner thread only
};

}  // namespace seckill::app
