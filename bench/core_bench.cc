// Microbenchmarks of the order path: SaleService::placeOrder on the memory
// store, with a ManualClock, for each StockStrategy.
//
//   build/bench/seckill_core_bench [--benchmark_filter=REGEX]
//
// BM_PlaceOrder: every attempt is a fresh shopper against a stock that never
// runs out, so each one creates an order (window check, gate, dedup key, unit,
// order record, delayed cancel). BM_PlaceOrderSoldOut: every attempt after the
// last unit went. A run whose attempts did not all come out as expected is
// reported as an error instead of a figure.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/core/clock.h"
#include "engine/core/order.h"
#include "engine/core/outcome.h"
#include "engine/core/sale.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"

namespace seckill {
namespace {

constexpr int64_t kHugeStock = 2'000'000'000;  // within counter_gate's 2^31 - 1
constexpr char kSaleId[] = "bench";

constexpr StockStrategy kStrategies[] = {StockStrategy::kAtomic, StockStrategy::kFifo,
                                         StockStrategy::kOptimistic, StockStrategy::kCounterGate};

// The core wired to the memory store, as the app wires it, with one sale.
class Rig {
 public:
  Rig(StockStrategy strategy, int64_t stock) {
    SaleSpec spec;
    spec.id = kSaleId;
    spec.name = "bench";
    spec.stock = stock;
    spec.strategy = strategy;
    std::vector<SaleSpec> specs;
    specs.push_back(std::move(spec));
    auto catalog = SaleCatalog::create(std::move(specs));
    if (!catalog.ok()) {
      error_ = catalog.status().ToString();
      return;
    }
    catalog_ = *std::move(catalog);
    store_ = std::make_unique<MemorySaleStore>(orders_, cancels_);
    service_ = std::make_unique<SaleService>(clock_, *catalog_, *store_, ids_);
    if (absl::Status s = service_->registerSales(); !s.ok()) error_ = s.ToString();
  }

  // Empty when the rig is usable.
  const std::string& error() const { return error_; }
  SaleService& service() { return *service_; }

 private:
  // Declaration order is destruction order reversed: the store (and its FIFO
  // consumers) goes before the repository and queue it writes to.
  ManualClock clock_;
  MemoryOrderRepository orders_;
  MemoryDelayQueue cancels_;
  OrderIdGenerator ids_{0x5eccu};
  std::unique_ptr<SaleCatalog> catalog_;
  std::unique_ptr<MemorySaleStore> store_;
  std::unique_ptr<SaleService> service_;
  std::string error_;
};

// Completions of one benchmark thread's attempts. Callbacks may run on a FIFO
// consumer thread, so the counts are atomic.
struct Completions {
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> expected{0};
  std::atomic<int> first_unexpected{-1};  // an Outcome, for the error message
};

// Shared by the threads of one multi-threaded run; built and torn down by thread 0
// outside the timed loop (the loop starts and ends at a barrier of all threads).
// The rig of the running benchmark: thread 0 builds it before the timed loop,
// every thread takes its own reference at its first iteration. It is replaced
// (and the previous one released) only by the next benchmark's set-up, after
// all threads of this one have finished, so no thread can see it destroyed.
std::shared_ptr<Rig> g_rig;
std::atomic<int64_t> g_in_flight{0};

// For messages: the error string, or "created"/"ok" for the successes.
std::string outcomeName(Outcome o) {
  if (o == Outcome::kCreated) return "created";
  if (o == Outcome::kOk) return "ok";
  return std::string(outcomeError(o));
}
std::string outcomeName(int o) { return outcomeName(static_cast<Outcome>(o)); }

void waitUntil(const std::atomic<int64_t>& v, int64_t at_most) {
  while (v.load(std::memory_order_acquire) > at_most) std::this_thread::yield();
}

// Runs placeOrder with a fresh user per iteration, keeping at most `window`
// attempts in flight (the memory store completes inline except for kFifo).
void runPlaceOrders(benchmark::State& state, StockStrategy strategy, int64_t stock,
                    bool sell_one_first, Outcome expect, int64_t window) {
  if (state.thread_index() == 0) {
    g_rig.reset();  // the previous benchmark's, first: one rig's threads at a time
    g_rig = std::make_shared<Rig>(strategy, stock);
    if (g_rig->error().empty() && sell_one_first) {
      std::atomic<bool> sold{false};
      std::atomic<bool> answered{false};
      g_rig->service().placeOrder(kSaleId, "first-buyer", "", [&](OrderReply r) {
        sold.store(r.outcome == Outcome::kCreated, std::memory_order_relaxed);
        answered.store(true, std::memory_order_release);
      });
      while (!answered.load(std::memory_order_acquire)) std::this_thread::yield();
      if (!sold.load()) state.SkipWithError("could not sell the only unit");
    }
  }
  // Every thread reads g_rig only after the start barrier inside the loop.
  Completions c;
  int64_t issued = 0;
  std::string user;
  const std::string prefix = absl::StrCat("u", state.thread_index(), "-");
  SaleService* service = nullptr;
  std::shared_ptr<Rig> rig;
  for (auto _ : state) {
    if (service == nullptr) {
      rig = g_rig;
      if (!rig->error().empty()) {
        state.SkipWithError(rig->error().c_str());
        break;
      }
      service = &rig->service();
    }
    user.assign(prefix);
    absl::StrAppend(&user, issued);
    ++issued;
    g_in_flight.fetch_add(1, std::memory_order_relaxed);
    service->placeOrder(kSaleId, user, "", [&c, expect](OrderReply r) {
      if (r.outcome == expect) {
        c.expected.fetch_add(1, std::memory_order_relaxed);
      } else {
        int none = -1;
        c.first_unexpected.compare_exchange_strong(none, static_cast<int>(r.outcome));
      }
      c.done.fetch_add(1, std::memory_order_release);
      g_in_flight.fetch_sub(1, std::memory_order_release);
    });
    if (issued - c.done.load(std::memory_order_acquire) >= window) {
      while (issued - c.done.load(std::memory_order_acquire) >= window) std::this_thread::yield();
    }
  }
  // Drain (untimed), then check every attempt came out as expected.
  while (c.done.load(std::memory_order_acquire) < issued) std::this_thread::yield();
  if (issued > 0 && c.expected.load() != issued) {
    std::string msg = absl::StrCat(issued - c.expected.load(), " of ", issued,
                                    " attempts did not answer ", outcomeName(expect),
                                    " (first: ", outcomeName(c.first_unexpected.load()), ")");
    state.SkipWithError(msg.c_str());
  }
  state.SetItemsProcessed(issued);
  state.SetLabel(std::string(stockStrategyName(strategy)));
  if (state.thread_index() == 0) waitUntil(g_in_flight, 0);
}

// Args: {strategy index, attempts in flight per thread}.
void BM_PlaceOrder(benchmark::State& state) {
  runPlaceOrders(state, kStrategies[state.range(0)], kHugeStock, /*sell_one_first=*/false,
                 Outcome::kCreated, state.range(1));
}

// Args: {strategy index}. Stock 1, sold before the timed loop.
void BM_PlaceOrderSoldOut(benchmark::State& state) {
  runPlaceOrders(state, kStrategies[state.range(0)], 1, /*sell_one_first=*/true,
                 Outcome::kSoldOut, /*window=*/1);
}

void placeOrderArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"strategy", "inflight"});
  for (int64_t s = 0; s < 4; ++s) {
    b->Args({s, 1});
    // Only kFifo completes off the caller's thread; let it pipeline too.
    if (kStrategies[s] == StockStrategy::kFifo) b->Args({s, 64});
  }
}

BENCHMARK(BM_PlaceOrder)->Apply(placeOrderArgs)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_PlaceOrderSoldOut)
    ->ArgName("strategy")
    ->DenseRange(0, 3)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace seckill

BENCHMARK_MAIN();
