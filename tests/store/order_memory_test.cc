// Memory per pending order on the embedded stores (issue 19's target: at most 256 bytes, with
// its dedup entry, its delayed cancel and, on a token sale, its submission token). Counted as
// heap bytes in use (glibc's mallinfo2), which does not depend on the machine's load; the
// RSS figure for a million orders is bench/memory/order_memory_bench's (docs/benchmarks.md).
#include <malloc.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/support/sale_fixture.h"

namespace seckill {
namespace {

using testing::SaleWorld;

constexpr int kOrders = 200'000;
constexpr double kBudgetBytes = 256;

int64_t heapInUse() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

std::string shopper(int i) { return absl::StrFormat("shopper-%07d", i); }

// Places kOrders orders from distinct shoppers (each through a token when `tokens`), checks
// each was created and pending, and returns the heap bytes they hold, per order.
double bytesPerPendingOrder(bool tokens) {
  SaleSpec spec = SaleWorld::spec("flash-2026", kOrders);
  spec.require_token = tokens;
  SaleWorld w({spec});
  // The maps' first growth and the thread caches out of the way.
  const int64_t before = heapInUse();
  for (int i = 0; i < kOrders; ++i) {
    std::string token;
    if (tokens) {
      TokenReply t = w.token("flash-2026", shopper(i));
      if (t.outcome != Outcome::kOk) {
        ADD_FAILURE() << "token " << i << ": " << outcomeError(t.outcome);
        return -1;
      }
      token = std::move(t.token);
    }
    OrderReply r = w.order("flash-2026", shopper(i), token);
    if (r.outcome != Outcome::kCreated) {
      ADD_FAILURE() << "order " << i << ": " << outcomeError(r.outcome);
      return -1;
    }
  }
  const int64_t after = heapInUse();
  EXPECT_EQ(w.orders.counts().pending_payment, kOrders);
  EXPECT_EQ(w.cancels.pending(), static_cast<size_t>(kOrders));
  EXPECT_EQ(w.stockLeft("flash-2026"), 0);
  return static_cast<double>(after - before) / kOrders;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_SANITIZER() GTEST_SKIP() << "the sanitizer's allocator keeps its own books"
#else
#define SKIP_UNDER_SANITIZER() (void)0
#endif

TEST(OrderMemoryTest, PendingOrderWithoutTokenFitsTheBudget) {
  SKIP_UNDER_SANITIZER();
  const double bytes = bytesPerPendingOrder(/*tokens=*/false);
  RecordProperty("bytes_per_order", std::to_string(bytes));
  EXPECT_GT(bytes, 0);
  EXPECT_LE(bytes, kBudgetBytes) << "heap bytes per pending order (record, dedup key, cancel)";
}

TEST(OrderMemoryTest, PendingOrderWithTokenFitsTheBudget) {
  SKIP_UNDER_SANITIZER();
  const double bytes = bytesPerPendingOrder(/*tokens=*/true);
  RecordProperty("bytes_per_order", std::to_string(bytes));
  EXPECT_GT(bytes, 0);
  EXPECT_LE(bytes, kBudgetBytes) << "heap bytes per pending order (with its used token)";
}

}  // namespace
}  // namespace seckill
