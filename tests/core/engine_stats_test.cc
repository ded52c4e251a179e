#include "engine/core/engine_stats.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/forwarding_sale_store.h"

namespace seckill {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

TEST(FineLatencyTest, BucketsAreOrderedAndNarrow) {
  uint64_t previous_lower = 0;
  for (size_t b = 1; b < FineLatency::kBuckets; ++b) {
    const uint64_t lo = FineLatency::lowerBound(b);
    EXPECT_GT(lo, previous_lower);
    EXPECT_EQ(FineLatency::bucketOf(lo), b);
    EXPECT_EQ(FineLatency::bucketOf(lo - 1), b - 1);
    previous_lower = lo;
  }
  // About 6% wide: the midpoint of a bucket is within 4% of any value in it.
  for (uint64_t v : {17u, 100u, 999u, 12'345u, 1'000'000u, 77'777'777u}) {
    const size_t b = FineLatency::bucketOf(v);
    const double mid = (FineLatency::lowerBound(b) + FineLatency::lowerBound(b + 1)) / 2.0;
    EXPECT_NEAR(mid, static_cast<double>(v), 0.04 * static_cast<double>(v)) << v;
  }
  EXPECT_EQ(FineLatency::bucketOf(uint64_t{1} << 40), FineLatency::kBuckets - 1);
}

TEST(FineLatencyTest, QuantilesOfACountedDistribution) {
  std::array<uint64_t, FineLatency::kBuckets> counts{};
  EXPECT_EQ(FineLatency::quantileMicros(counts, 0.99), 0);
  counts[FineLatency::bucketOf(100)] = 98;     // 98 fast requests
  counts[FineLatency::bucketOf(50'000)] = 2;   // 2 slow ones
  EXPECT_NEAR(FineLatency::quantileMicros(counts, 0.50), 100, 4);
  EXPECT_NEAR(FineLatency::quantileMicros(counts, 0.98), 100, 4);
  EXPECT_NEAR(FineLatency::quantileMicros(counts, 0.99), 50'000, 2'000);
}

TEST(LatencyHistogramTest, TheMaximumIsTakenOnce) {
  LatencyHistogram h;
  h.observeMicros(10);
  h.observeMicros(900);
  h.observeMicros(40);
  EXPECT_EQ(h.takeMaxMicros(), 900u);
  EXPECT_EQ(h.takeMaxMicros(), 0u);
  h.observeMicros(5);
  EXPECT_EQ(h.takeMaxMicros(), 5u);
}

EngineStats statsAt(int64_t second) {
  EngineStats s;
  s.at = absl::FromUnixSeconds(second);
  return s;
}

TEST(DiffStatsTest, CountsTheSecondByRouteAndStatusClass) {
  EngineStats a = statsAt(100);
  a.requests = {{"order", 201, 10}, {"order", 410, 5}, {"sale", 200, 7}};
  EngineStats b = statsAt(101);
  b.requests = {{"order", 201, 13}, {"order", 410, 5}, {"order", 429, 4},
                {"order", 503, 1},  {"sale", 200, 9}};
  StatsSample s;
  diffStats(a, b, 7, s);
  EXPECT_EQ(s.seq, 7u);
  EXPECT_EQ(s.at, absl::FromUnixSeconds(101));
  EXPECT_EQ(s.requests, 3u + 4u + 1u + 2u);
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[0].route, "order");
  EXPECT_EQ(s.routes[0].requests, 8u);
  EXPECT_EQ(s.routes[0].status_2xx, 3u);
  EXPECT_EQ(s.routes[0].status_4xx, 4u);
  EXPECT_EQ(s.routes[0].status_429, 4u);
  EXPECT_EQ(s.routes[0].status_5xx, 1u);
  EXPECT_EQ(s.routes[0].status_503, 1u);
  EXPECT_EQ(s.routes[1].route, "sale");
  EXPECT_EQ(s.routes[1].status_2xx, 2u);
  EXPECT_EQ(s.requests_total, 13u + 5u + 4u + 1u + 9u);
}

TEST(DiffStatsTest, AdmissionOrdersAndLatencyOfTheSecond) {
  EngineStats a = statsAt(100);
  a.admission = {.allowed = 10, .queued = 1, .rejected = 2, .shadow = 3, .shed = 4};
  a.orders = {.created = 5, .paid = 1, .cancelled_shopper = 1, .cancelled_expired = 0};
  a.latency.fine[FineLatency::bucketOf(100)] = 1000;  // before this second: not counted
  EngineStats b = statsAt(101);
  b.admission = {.allowed = 30, .queued = 2, .rejected = 12, .shadow = 3, .shed = 4};
  b.orders = {.created = 9, .paid = 3, .cancelled_shopper = 1, .cancelled_expired = 2};
  b.latency.fine = a.latency.fine;
  b.latency.fine[FineLatency::bucketOf(2'000)] = 100;  // this second: all at 2 ms
  b.latency_max_micros = 2'500;
  StatsSample s;
  diffStats(a, b, 1, s);
  EXPECT_EQ(s.admitted, 20u + 1u + 0u);
  EXPECT_EQ(s.rejected, 10u);
  EXPECT_EQ(s.queued, 1u);
  EXPECT_EQ(s.shed, 0u);
  EXPECT_EQ(s.orders_created, 4u);
  EXPECT_EQ(s.orders_paid, 2u);
  EXPECT_EQ(s.orders_cancelled_expired, 2u);
  EXPECT_EQ(s.orders_created_total, 9u);
  EXPECT_NEAR(s.latency_p50_ms, 2.0, 0.1);
  EXPECT_NEAR(s.latency_p99_ms, 2.0, 0.1);
  EXPECT_DOUBLE_EQ(s.latency_max_ms, 2.5);
}

TEST(DiffStatsTest, KeepsTheBusiestRulesAndSumsTheRest) {
  EngineStats a = statsAt(100);
  EngineStats b = statsAt(101);
  for (int i = 0; i < 40; ++i) {
    const uintptr_t key = 1000 + i;
    a.rules.push_back({.key = key, .id = absl::StrCat("r", i), .passed = 100});
    // Rule i passes i requests this second (r0: none).
    b.rules.push_back({.key = key, .id = absl::StrCat("r", i), .passed = 100u + i});
  }
  StatsSample s;
  diffStats(a, b, 1, s);
  ASSERT_EQ(s.rules.size(), StatsSample::kTopRules);
  EXPECT_EQ(s.rules[0].id, "r39");
  EXPECT_EQ(s.rules[0].passed, 39u);
  EXPECT_EQ(s.rules[15].id, "r24");
  uint64_t rest = 0;
  for (int i = 1; i <= 23; ++i) rest += i;
  EXPECT_EQ(s.rules_other.passed, rest);
}

TEST(DiffStatsTest, ARuleIsFollowedByItsStateAndAResetCountsFromZero) {
  EngineStats a = statsAt(100);
  a.rules = {{.key = 1, .id = "old-name", .passed = 50, .limited = 9}};
  EngineStats b = statsAt(101);
  b.rules = {{.key = 1, .id = "new-name", .passed = 55, .limited = 9},  // renamed: same state
             {.key = 2, .id = "fresh", .passed = 3}};                   // new state
  StatsSample s;
  diffStats(a, b, 1, s);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].id, "new-name");
  EXPECT_EQ(s.rules[0].passed, 5u);
  EXPECT_EQ(s.rules[0].limited, 0u);
  EXPECT_EQ(s.rules[1].id, "fresh");
  EXPECT_EQ(s.rules[1].passed, 3u);

  EngineStats c = statsAt(102);
  c.rules = {{.key = 1, .id = "new-name", .passed = 2}};  // counters went down: a new start
  diffStats(b, c, 2, s);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].passed, 2u);
}

TEST(DiffStatsTest, ASampleReusesItsBuffersAndStaysBounded) {
  EngineStats a = statsAt(100);
  EngineStats b = statsAt(101);
  for (int i = 0; i < 1000; ++i) {
    b.sales.push_back({.id = absl::StrCat("sale-with-a-long-name-", i), .total = 10, .left = 5,
                       .state = "open"});
    b.rules.push_back({.key = static_cast<uintptr_t>(i + 1),
                       .id = absl::StrCat("a rule id long enough to live on the heap ", i),
                       .passed = 1});
  }
  StatsSample s;
  diffStats(a, b, 1, s);
  EXPECT_EQ(s.sales.size(), StatsSample::kMaxSales);
  EXPECT_EQ(s.rules.size(), StatsSample::kTopRules);
  EXPECT_EQ(s.rules_other.passed, 1000u - StatsSample::kTopRules);
  const size_t bytes = s.bytes();
  EXPECT_LT(bytes, 16u * 1024) << "a second's sample is bounded whatever the rules and sales";
  diffStats(a, b, 2, s);
  EXPECT_EQ(s.bytes(), bytes) << "the same shape again: no growth";
}

TEST(GatherSaleStockTest, AsksTheStoreForEverySaleAndMarksWhatFailed) {
  SaleSpec one;
  one.id = "one";
  one.name = "one";
  one.stock = 5;
  SaleSpec two = one;
  two.id = "two";
  two.stock = 0;
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create({one, two});
  ASSERT_TRUE(catalog.ok());
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore store(orders, cancels);
  ASSERT_TRUE(store.addSale(one).ok());
  ASSERT_TRUE(store.addSale(two).ok());

  std::vector<EngineStats::SaleStock> got =
      testing::await<std::vector<EngineStats::SaleStock>>([&](auto done) {
        gatherSaleStock(**catalog, store, absl::Now(), std::move(done));
      });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "one");
  EXPECT_EQ(got[0].left, 5);
  EXPECT_EQ(got[0].total, 5);
  EXPECT_EQ(got[0].state, "open");
  EXPECT_EQ(got[1].state, "sold_out");

  struct Failing : testing::ForwardingSaleStore {
    using ForwardingSaleStore::ForwardingSaleStore;
    void stockLevel(std::string_view sale, Callback<absl::StatusOr<StockLevel>> done) override {
      if (sale == "two") {
        std::move(done)(absl::UnavailableError("down"));
      } else {
        inner_.stockLevel(sale, std::move(done));
      }
    }
  } failing(store);
  got = testing::await<std::vector<EngineStats::SaleStock>>([&](auto done) {
    gatherSaleStock(**catalog, failing, absl::Now(), std::move(done));
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].left, 5);
  EXPECT_EQ(got[1].left, -1);
}

}  // namespace
}  // namespace seckill
