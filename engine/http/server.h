#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/identity/identity.h"
#include "engine/core/clock.h"
#include "engine/core/engine_stats.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/core/sale_store.h"

namespace seckill::http {

class HttpMetrics;

struct ServerOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 8080;            // 0: pick a free port (see Server::port())
  int threads = 2;                 // one io_context (and acceptor, SO_REUSEPORT) per thread
  size_t max_connections = 10000;  // beyond this, new connections are closed at once
  // To receive a whole request (head and body) once its first byte arrived.
  absl::Duration header_timeout = absl::Seconds(10);
  // Keep-alive between requests; also how long a client may take to read an answer.
  absl::Duration idle_timeout = absl::Seconds(60);
  size_t max_header_bytes = 8 * 1024;  // larger: 431
  size_t max_body_bytes = 16 * 1024;   // larger: 413
  // On stop: how long requests in flight may take to be answered before connections close.
  absl::Duration drain_timeout = absl::Seconds(10);
};

// What the shopper API calls into. All references must outlive the Server.
struct ShopperApiDeps {
  const Clock& clock;
  const SaleCatalog& catalog;
  SaleService& sales;
  OrderLifecycle& orders;
  // Who the shopper is and the client's address ([identity]); nullptr: X-User-Id as sent and
  // the socket's address.
  const identity::ShopperIdentity* identity = nullptr;
  // The rate rules every request is checked against first; nullptr: none.
  const ratelimit::RateLimiter* limiter = nullptr;
  // Told about requests a log-mode (shadow) rule would have limited; may be empty.
  std::function<void(const ratelimit::Verdict&)> on_shadow;
  // What /metrics shows besides the edge's own counters (which the API adds): the engine's
  // EngineStats, delivered through the callback (possibly later, on another thread). Empty:
  // the edge's counters alone.
  std::function<void(Callback<EngineStats>)> collect_stats;
};

// The shopper HTTP edge (Boost.Beast): parses requests, calls the core,
// formats JSON. Thread-safe start/stop; stop() is idempotent and must not be
// called from a core callback running on a worker thread (it joins them).
// Core completions that arrive after stop() are dropped.
class Server {
 public:
  // Binds the listening sockets; fails (e.g. address in use) without starting.
  static absl::StatusOr<std::unique_ptr<Server>> create(ServerOptions options, ShopperApiDeps deps);
  virtual ~Server() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Starts the worker threads and returns at once.
  virtual void start() = 0;
  // Stops accepting, closes connections, joins the workers.
  virtual void stop() = 0;
  // Graceful stop, first half: stops accepting, closes idle connections, lets every request in
  // flight be answered (its connection then closes), and returns once no connection is left or
  // `timeout` passed. stop() then closes whatever remains.
  virtual void drain(absl::Duration timeout) = 0;
  // The edge's counters (for the stats sampler).
  virtual HttpMetrics& metrics() = 0;
};

}  // namespace seckill::http
