#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/core_world.h"

namespace seckill::testing {

// A whole embedded engine core on a ManualClock: catalog, memory stores,
// services and the cancel consumer, with one-line helpers for the calls
// (tests/support/core_world.h).
class SaleWorld : public CoreWorld {
 public:
  explicit SaleWorld(std::vector<SaleSpec> specs, MemorySaleStore::Options options = {})
      : store(orders, cancels, options) {
    assemble(std::move(specs), store, orders, cancels);
  }
  ~SaleWorld() { disassemble(); }

  // For the shared sale flows (tests/support/sale_flow_suite.h). Calls on
  // non-kFifo sales complete on the caller's thread, chained ones included.
  static constexpr bool kCompletesInline = true;
  // The memory store has no writer stream and keeps its dedup keys private:
  // these Redis-state checks have nothing to look at here.
  void expectQueuedForWriter(std::string_view /*sale*/, int64_t /*count*/) const {}
  void expectNoDedupKey(std::string_view /*sale*/, std::string_view /*user*/) const {}

  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore store;
};

}  // namespace seckill::testing
