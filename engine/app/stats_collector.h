#pragma once

#include <functional>
#include <vector>

#include "engine/app/backends.h"
#include "engine/core/callback.h"
#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/engine_stats.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/http/metrics.h"

namespace seckill::app {

// Where the engine's counters live. References outlive the collector.
struct StatsSources {
  const Clock& clock;
  const SaleCatalog& catalog;
  SaleStore& store;
  const SaleService& sales;
  const OrderLifecycle& lifecycle;
  const ratelimit::RuleRegistry& rules;
  const ratelimit::RateLimiter& limiter;
  std::vector<const ratelimit::CircuitBreaker*> breakers;
  const Backends& backends;
  const CancelConsumer& consumer;
  // The HTTP edge's counters (null before the server exists).
  std::function<http::HttpMetrics*()> http;
  // The app's own counters (rule reloads, shadow logging).
  std::function<void(EngineStats&)> app;
};

// Gathers one EngineStats from every part of the engine: the one source of both /metrics and
// the stats stream. Thread-safe; never blocks (the stores' stock answers come back through the
// callback).
class StatsCollector {
 public:
  explicit StatsCollector(StatsSources sources) : sources_(std::move(sources)) {}

  // Everything; `done` runs once the stores answered the stock (inline with the memory store).
  // With `take_max`, also the latency maximum since the previous such call (the sampler).
  void collect(bool take_max, Callback<EngineStats> done) const;

 private:
  const StatsSources sources_;
};

}  // namespace seckill::app
