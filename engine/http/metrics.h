#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/order_repository.h"
#include "engine/core/stats.h"
#include "engine/http/router.h"

namespace seckill::http {

// The HTTP edge's own metrics. Hot-path updates are per-thread sharded
// counters (no lock, no shared cache line); the connection gauge is one atomic
// touched only on connect and close. Thread-safe.
class HttpMetrics {
 public:
  // The status codes the edge answers with; any other is counted as 500.
  static constexpr std::array<int, 13> kStatusCodes = {200, 201, 400, 403, 404, 405, 409,
                                                       410, 413, 429, 431, 500, 503};

  // Counts one answered request and its latency (request parsed -> answer sent).
  void recordRequest(Route route, int status, uint64_t micros);
  void connectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }
  // Requests answered so far on `route` with `status`.
  uint64_t requests(Route route, int status) const;

  // Appends seckill_http_requests_total (non-zero series only),
  // seckill_http_request_duration_seconds and seckill_http_connections.
  void appendPrometheus(std::string& out) const;

 private:
  static size_t statusIndex(int status);

  std::array<ShardedCounter, kRouteCount * kStatusCodes.size()> requests_;
  LatencyHistogram latency_;
  std::atomic<int64_t> connections_{0};
};

// Appends seckill_orders{state="..."}.
void appendOrderMetrics(std::string& out, const OrderCounts& counts);

// Appends the HELP/TYPE lines of seckill_stock_left, then one sample per call
// of appendStockLeftSample.
void appendStockLeftHeader(std::string& out);
void appendStockLeftSample(std::string& out, std::string_view sale_id, int64_t units);

// A Prometheus label value, quoted and escaped ('\\', '"', newline).
void appendLabelValue(std::string& out, std::string_view v);

// Microseconds as decimal seconds without trailing zeros: 250 -> "0.00025".
void appendMicrosAsSeconds(std::string& out, uint64_t micros);

}  // namespace seckill::http
