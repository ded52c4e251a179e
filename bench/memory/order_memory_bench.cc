// Memory per pending order on the embedded stores: places N orders (default 1,000,000) from
// distinct shoppers through the core (SaleService on the memory stores, as the engine wires
// them) and reports what they hold per order: RSS growth (VmRSS, /proc/self/status) and heap
// bytes in use (glibc's mallinfo2). With and without a submission token per order.
//
//   build/bench/memory/seckill_order_memory_bench [ORDERS]
//
// docs/benchmarks.md "Memory per order" records the figures; issue 19's target is 256 bytes.
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
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

int64_t rssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

int64_t heapInUse() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

struct Figures {
  double rss_per_order = 0;
  double heap_per_order = 0;
};

int run(int64_t orders, bool tokens, Figures& out) {
  ManualClock clock;
  OrderIdGenerator ids(0x5eed5eed5eedull);
  SaleSpec spec;
  spec.id = "flash-2026";
  spec.name = spec.id;
  spec.stock = orders;
  spec.require_token = tokens;
  std::vector<SaleSpec> specs{spec};
  auto catalog = SaleCatalog::create(std::move(specs));
  if (!catalog.ok()) {
    std::fprintf(stderr, "catalog: %s\n", catalog.status().ToString().c_str());
    return 1;
  }
  MemoryOrderRepository repo;
  MemoryDelayQueue cancels;
  MemorySaleStore store(repo, cancels);
  SaleService service(clock, **catalog, store, ids);
  if (absl::Status s = service.registerSales(); !s.ok()) {
    std::fprintf(stderr, "register: %s\n", s.ToString().c_str());
    return 1;
  }
  malloc_trim(0);
  const int64_t rss0 = rssBytes();
  const int64_t heap0 = heapInUse();
  int64_t created = 0;
  for (int64_t i = 0; i < orders; ++i) {
    const std::string user = absl::StrFormat("shopper-%07d", i);
    std::string token;
    if (tokens) {
      service.issueToken(spec.id, user, [&](TokenReply r) { token = std::move(r.token); });
    }
    service.placeOrder(spec.id, user, token, [&](OrderReply r) {
      if (r.outcome == Outcome::kCreated) ++created;
    });
    if ((i & 1023) == 0) clock.advance(absl::Microseconds(1));
  }
  if (created != orders) {
    std::fprintf(stderr, "only %lld of %lld orders were created\n",
                 static_cast<long long>(created), static_cast<long long>(orders));
    return 1;
  }
  out.rss_per_order = static_cast<double>(rssBytes() - rss0) / static_cast<double>(orders);
  out.heap_per_order = static_cast<double>(heapInUse() - heap0) / static_cast<double>(orders);
  return 0;
}

}  // namespace
}  // namespace seckill

int main(int argc, char** argv) {
  int64_t orders = 1'000'000;
  if (argc > 1) orders = std::atoll(argv[1]);
  if (orders <= 0) {
    std::fprintf(stderr, "usage: %s [ORDERS > 0]\n", argv[0]);
    return 2;
  }
  std::printf("pending orders: %lld, shoppers \"shopper-NNNNNNN\", sale \"flash-2026\"\n",
              static_cast<long long>(orders));
  for (bool tokens : {false, true}) {
    seckill::Figures f;
    if (int rc = seckill::run(orders, tokens, f); rc != 0) return rc;
    std::printf("%-13s RSS %7.1f bytes/order   heap %7.1f bytes/order\n",
                tokens ? "with token" : "without token", f.rss_per_order, f.heap_per_order);
  }
  return 0;
}
