#include "engine/core/engine_stats.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/container/flat_hash_map.h"

namespace seckill {
namespace {

uint64_t grew(uint64_t before, uint64_t now) { return now >= before ? now - before : now; }

template <class T>
size_t vectorBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

size_t stringBytes(const std::string& s) {
  // Characters beyond the small-string buffer live on the heap.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

size_t StatsSample::bytes() const {
  size_t n = sizeof(*this) + vectorBytes(routes) + vectorBytes(rules) + vectorBytes(sales) +
             vectorBytes(breakers);
  for (const Route& r : routes) n += stringBytes(r.route);
  for (const Rule& r : rules) n += stringBytes(r.id);
  for (const Sale& s : sales) n += stringBytes(s.id) + stringBytes(s.state);
  for (const Breaker& b : breakers) n += stringBytes(b.name) + stringBytes(b.state) + stringBytes(b.mode);
  return n;
}

void gatherSaleStock(const SaleCatalog& catalog, SaleStore& store, absl::Time now,
                     Callback<std::vector<EngineStats::SaleStock>> done) {
  struct Gather {
    std::vector<std::shared_ptr<const Sale>> sales;
    std::vector<EngineStats::SaleStock> out;
    std::atomic<size_t> pending{0};
    absl::Time now;
    Callback<std::vector<EngineStats::SaleStock>> done;
    void arrive() {
      if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      for (size_t i = 0; i < sales.size(); ++i) {
        const Sale& sale = *sales[i];
        EngineStats::SaleStock& s = out[i];
        s.id = sale.spec.id;
        if (s.total == 0) s.total = sale.spec.stock;
        s.state = std::string(saleStateName(
            saleStateAt(sale.spec, now, s.left < 0 ? sale.spec.stock : s.left)));
        s.sold_out_local = sale.runtime->sold_out.isSet();
      }
      std::move(done)(std::move(out));
    }
  };
  auto g = std::make_shared<Gather>();
  g->sales = catalog.all();
  g->out.resize(g->sales.size());
  g->now = now;
  g->done = std::move(done);
  g->pending.store(g->sales.size() + 1, std::memory_order_relaxed);
  for (size_t i = 0; i < g->sales.size(); ++i) {
    store.stockLevel(g->sales[i]->spec.id, [g, i](absl::StatusOr<StockLevel> level) {
      if (level.ok()) {
        g->out[i].total = level->total;
        g->out[i].left = level->left;
      }
      g->arrive();
    });
  }
  g->arrive();
}

void diffStats(const EngineStats& prev, const EngineStats& cur, uint64_t seq, StatsSample& out) {
  out.at = cur.at;
  out.seq = seq;

  // Requests by route and status class.
  absl::flat_hash_map<std::pair<std::string, int>, uint64_t> before;
  for (const EngineStats::RouteCount& r : prev.requests) before[{r.route, r.status}] = r.count;
  size_t routes = 0;
  out.requests = 0;
  for (const EngineStats::RouteCount& r : cur.requests) {
    auto it = before.find(std::make_pair(r.route, r.status));
    const uint64_t n = grew(it == before.end() ? 0 : it->second, r.count);
    if (n == 0) continue;
    out.requests += n;
    StatsSample::Route* route = nullptr;
    for (size_t i = 0; i < routes; ++i) {
      if (out.routes[i].route == r.route) route = &out.routes[i];
    }
    if (route == nullptr) {
      if (routes == out.routes.size()) out.routes.emplace_back();
      route = &out.routes[routes++];
      route->route.assign(r.route);
      route->requests = route->status_2xx = route->status_4xx = route->status_5xx =
          route->status_429 = route->status_503 = 0;
    }
    route->requests += n;
    if (r.status >= 200 && r.status < 300) route->status_2xx += n;
    if (r.status >= 400 && r.status < 500) route->status_4xx += n;
    if (r.status >= 500) route->status_5xx += n;
    if (r.status == 429) route->status_429 += n;
    if (r.status == 503) route->status_503 += n;
  }
  out.routes.resize(routes);

  // Admission.
  const EngineStats::Admission& a = prev.admission;
  const EngineStats::Admission& b = cur.admission;
  out.rejected = grew(a.rejected, b.rejected);
  out.queued = grew(a.queued, b.queued);
  out.shadow_limited = grew(a.shadow, b.shadow);
  out.shed = grew(a.shed, b.shed);
  out.admitted = grew(a.allowed, b.allowed) + out.queued + out.shadow_limited;

  // Orders.
  out.orders_created = grew(prev.orders.created, cur.orders.created);
  out.orders_paid = grew(prev.orders.paid, cur.orders.paid);
  out.orders_cancelled_shopper = grew(prev.orders.cancelled_shopper, cur.orders.cancelled_shopper);
  out.orders_cancelled_expired = grew(prev.orders.cancelled_expired, cur.orders.cancelled_expired);
  out.orders_cancelled_duplicate =
      grew(prev.orders.cancelled_duplicate, cur.orders.cancelled_duplicate);

  // Latency of the requests answered in between.
  std::array<uint64_t, FineLatency::kBuckets> fine;
  for (size_t i = 0; i < fine.size(); ++i) fine[i] = grew(prev.latency.fine[i], cur.latency.fine[i]);
  out.latency_p50_ms = FineLatency::quantileMicros(fine, 0.50) / 1000.0;
  out.latency_p99_ms = FineLatency::quantileMicros(fine, 0.99) / 1000.0;
  out.latency_max_ms = static_cast<double>(cur.latency_max_micros) / 1000.0;
  out.rules_version = cur.rules_version;

  // Rules: the busiest kTopRules, the rest summed.
  absl::flat_hash_map<uintptr_t, const EngineStats::RuleCount*> rules_before;
  for (const EngineStats::RuleCount& r : prev.rules) rules_before[r.key] = &r;
  std::vector<StatsSample::Rule> all;
  all.reserve(cur.rules.size());
  for (const EngineStats::RuleCount& r : cur.rules) {
    auto it = rules_before.find(r.key);
    const EngineStats::RuleCount zero;
    const EngineStats::RuleCount& p = it == rules_before.end() ? zero : *it->second;
    StatsSample::Rule d;
    d.passed = grew(p.passed, r.passed);
    d.limited = grew(p.limited, r.limited);
    d.queued = grew(p.queued, r.queued);
    d.shadow_limited = grew(p.shadow_limited, r.shadow_limited);
    if (d.total() == 0) continue;
    d.id = r.id;
    all.push_back(std::move(d));
  }
  std::stable_sort(all.begin(), all.end(), [](const StatsSample::Rule& x, const StatsSample::Rule& y) {
    return x.total() > y.total();
  });
  const size_t top = std::min(all.size(), StatsSample::kTopRules);
  out.rules.resize(top);
  for (size_t i = 0; i < top; ++i) {
    out.rules[i].id.assign(all[i].id);
    out.rules[i].passed = all[i].passed;
    out.rules[i].limited = all[i].limited;
    out.rules[i].queued = all[i].queued;
    out.rules[i].shadow_limited = all[i].shadow_limited;
  }
  out.rules_other = StatsSample::Rule{};
  for (size_t i = top; i < all.size(); ++i) {
    out.rules_other.passed += all[i].passed;
    out.rules_other.limited += all[i].limited;
    out.rules_other.queued += all[i].queued;
    out.rules_other.shadow_limited += all[i].shadow_limited;
  }

  // Gauges.
  const size_t sales = std::min(cur.sales.size(), StatsSample::kMaxSales);
  out.sales.resize(sales);
  for (size_t i = 0; i < sales; ++i) {
    out.sales[i].id.assign(cur.sales[i].id);
    out.sales[i].left = cur.sales[i].left;
    out.sales[i].total = cur.sales[i].total;
    out.sales[i].state.assign(cur.sales[i].state);
  }
  out.breakers.resize(cur.breakers.size());
  for (size_t i = 0; i < cur.breakers.size(); ++i) {
    out.breakers[i].name.assign(cur.breakers[i].name);
    out.breakers[i].state.assign(cur.breakers[i].state);
    out.breakers[i].mode.assign(cur.breakers[i].mode);
  }

  out.requests_total = 0;
  for (const EngineStats::RouteCount& r : cur.requests) out.requests_total += r.count;
  out.orders_created_total = cur.orders.created;
}

}  // namespace seckill
