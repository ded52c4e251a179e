#include "engine/app/stats_collector.h"

#include <memory>
#include <utility>

namespace seckill::app {

void StatsCollector::collect(bool take_max, Callback<EngineStats> done) const {
  EngineStats s;
  s.at = sources_.clock.now();
  if (http::HttpMetrics* m = sources_.http ? sources_.http() : nullptr) m->fill(s, take_max);

  s.orders.created = sources_.sales.ordersCreated();
  s.orders.paid = sources_.lifecycle.ordersPaid();
  s.orders.cancelled_shopper = sources_.lifecycle.ordersCancelled(CancelReason::kShopper);
  s.orders.cancelled_expired = sources_.lifecycle.ordersCancelled(CancelReason::kExpired);
  s.cancel_acked = sources_.consumer.acked();
  sources_.backends.collect(s);

  std::shared_ptr<const ratelimit::RuleSet> set = sources_.rules.current();
  s.rules_version = set->version();
  s.rules.reserve(set->rules().size());
  for (const ratelimit::CompiledRule& r : set->rules()) {
    const ratelimit::RuleCounters& c = r.state->counters();
    s.rules.push_back(EngineStats::RuleCount{.key = reinterpret_cast<uintptr_t>(r.state.get()),
                                             .id = r.spec.id,
                                             .name = r.name,
                                             .passed = c.passed(),
                                             .queued = c.queued(),
                                             .limited = c.limited(),
                                             .shadow_limited = c.shadowLimited()});
  }
  s.rate_limit_backend_errors = sources_.limiter.backendErrors();
  s.distributed_failure = std::string(ratelimit::failurePolicyName(sources_.limiter.failurePolicy()));

  for (const ratelimit::CircuitBreaker* b : sources_.breakers) {
    EngineStats::Breaker out;
    out.name = b->name();
    out.state = std::string(ratelimit::breakerStateName(b->state()));
    out.mode = std::string(ratelimit::breakerModeName(b->mode()));
    for (size_t i = 0; i < ratelimit::CircuitBreaker::kStates; ++i) {
      const auto st = static_cast<ratelimit::CircuitBreaker::State>(i);
      out.transitions_into.emplace_back(std::string(ratelimit::breakerStateName(st)),
                                        b->transitionsInto(st));
    }
    s.breakers.push_back(std::move(out));
  }
  if (sources_.app) sources_.app(s);

  const absl::Time now = s.at;
  gatherSaleStock(sources_.catalog, sources_.store, now,
                  [s = std::move(s), done = std::move(done)](
                      std::vector<EngineStats::SaleStock> sales) mutable {
                    s.sales = std::move(sales);
                    std::move(done)(std::move(s));
                  });
}

}  // namespace seckill::app
