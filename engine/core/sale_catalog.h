#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/core/strings.h"
#include "engine/core/sale.h"

namespace seckill {

// The counter gate of StockStrategy::kCounterGate: permits = units believed
// left. An attempt takes a permit before it reaches the store and gives it back
// unless it created an order; a cancelled order gives one back. Once permits
// run out, traffic is dropped as sold out without a store call. Lock-free.
class CounterGate {
 public:
  explicit CounterGate(int64_t permits) : permits_(permits) {}
  // Takes a permit; false (and nothing taken) when none is left.
  bool tryEnter() {
    int64_t v = permits_.load(std::memory_order_relaxed);
    while (v > 0) {
      if (permits_.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }
  void giveBack() { permits_.fetch_add(1, std::memory_order_acq_rel); }
  int64_t permits() const { return permits_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> permits_;
};

// A served sale: its spec and the core's per-sale runtime state.
struct Sale {
  SaleSpec spec;
  std::unique_ptr<CounterGate> gate;  // only for kCounterGate
};

// The sales the engine serves. Built once before serving and immutable after,
// so lookups take no lock.
class SaleCatalog {
 public:
  // Fails (naming the sale) on an invalid spec or a duplicate id.
  static absl::StatusOr<std::unique_ptr<SaleCatalog>> create(std::vector<SaleSpec> specs);

  // nullptr when unknown.
  Sale* find(std::string_view id) const;
  const std::vector<std::unique_ptr<Sale>>& all() const { return sales_; }

 private:
  SaleCatalog() = default;
  std::vector<std::unique_ptr<Sale>> sales_;
  absl::flat_hash_map<std::string, Sale*> by_id_;
};

}  // namespace seckill
