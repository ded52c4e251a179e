// The circuit-breaker seam of the core: a CallGuard in front of the stock
// store (placeOrder) and the order store (pay, cancel, get).
#include <atomic>
#include <vector>

#include "engine/core/call_guard.h"
#include "gtest/gtest.h"
#include "tests/support/forwarding_sale_store.h"
#include "tests/support/sale_fixture.h"

namespace seckill {
namespace {

using testing::await;
using testing::SaleWorld;

class FakeGuard final : public CallGuard {
 public:
  bool allow(absl::Time) override {
    ++asked;
    return open == false;
  }
  void record(absl::Time, bool ok, absl::Duration) override { results.push_back(ok); }
  absl::Duration retryAfter(absl::Time) const override { return absl::Seconds(7); }

  bool open = false;
  int asked = 0;
  std::vector<bool> results;
};

// A store whose order attempts fail (unreachable backend) while `down`.
class FlakyStore final : public testing::ForwardingSaleStore {
 public:
  using ForwardingSaleStore::ForwardingSaleStore;
  void attemptOrder(OrderAttempt a, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override {
    ++attempts;
    if (down) {
      std::move(done)(absl::UnavailableError("store down"));
      return;
    }
    inner_.attemptOrder(std::move(a), now, std::move(done));
  }
  bool down = false;
  int attempts = 0;
};

struct GuardedWorld {
  explicit GuardedWorld(StockStrategy strategy = StockStrategy::kAtomic)
      : store(orders, cancels), flaky(store) {
    catalog = *SaleCatalog::create({SaleWorld::spec("drop", 5, strategy)});
    sales = std::make_unique<SaleService>(clock, *catalog, flaky, ids, &stock_guard);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, flaky, orders, &orders_guard);
    EXPECT_TRUE(sales->registerSales().ok());
  }
  OrderReply order(std::string_view user) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { sales->placeOrder("drop", user, "", std::move(done)); });
  }
  ManualClock clock;
  OrderIdGenerator ids{1};
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore store;
  FlakyStore flaky;
  FakeGuard stock_guard, orders_guard;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
  std::unique_ptr<OrderLifecycle> lifecycle;
};

TEST(CallGuardTest, OpenStockBreakerAnswersCircuitOpenWithoutTouchingTheStore) {
  GuardedWorld w;
  w.stock_guard.open = true;
  OrderReply r = w.order("alice");
  EXPECT_EQ(r.outcome, Outcome::kCircuitOpen);
  EXPECT_EQ(r.retry_after, absl::Seconds(7));
  EXPECT_EQ(w.flaky.attempts, 0);
  EXPECT_TRUE(w.stock_guard.results.empty());
  w.stock_guard.open = false;
  EXPECT_EQ(w.order("alice").outcome, Outcome::kCreated);
  EXPECT_EQ(w.stock_guard.results, std::vector<bool>{true});
}

TEST(CallGuardTest, StoreErrorsAreRecordedAsFailuresButBusinessOutcomesAreNot) {
  GuardedWorld w;
  w.flaky.down = true;
  EXPECT_EQ(w.order("alice").outcome, Outcome::kUnavailable);
  w.flaky.down = false;
  EXPECT_EQ(w.order("alice").outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("alice").outcome, Outcome::kDuplicate);
  EXPECT_EQ(w.stock_guard.results, (std::vector<bool>{false, true, true}));
}

TEST(CallGuardTest, CounterGatePermitComesBackWhenTheBreakerDenies) {
  GuardedWorld w(StockStrategy::kCounterGate);
  w.stock_guard.open = true;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(w.order("u" + std::to_string(i)).outcome, Outcome::kCircuitOpen);
  EXPECT_EQ(w.catalog->find("drop")->runtime->gate->permits(), 5);
}

TEST(CallGuardTest, OpenOrderBreakerGuardsPayCancelAndGet) {
  GuardedWorld w;
  OrderReply o = w.order("alice");
  ASSERT_EQ(o.outcome, Outcome::kCreated);
  w.orders_guard.open = true;
  auto pay = await<OrderReply>(
      [&](Callback<OrderReply> d) { w.lifecycle->pay(o.order.id, "alice", std::move(d)); });
  auto cancel = await<OrderReply>(
      [&](Callback<OrderReply> d) { w.lifecycle->cancel(o.order.id, "alice", std::move(d)); });
  auto get = await<OrderReply>(
      [&](Callback<OrderReply> d) { w.lifecycle->get(o.order.id, "alice", std::move(d)); });
  EXPECT_EQ(pay.outcome, Outcome::kCircuitOpen);
  EXPECT_EQ(cancel.outcome, Outcome::kCircuitOpen);
  EXPECT_EQ(get.outcome, Outcome::kCircuitOpen);
  EXPECT_EQ(w.orders.counts().pending_payment, 1);
  w.orders_guard.open = false;
  auto paid = await<OrderReply>(
      [&](Callback<OrderReply> d) { w.lifecycle->pay(o.order.id, "alice", std::move(d)); });
  EXPECT_EQ(paid.outcome, Outcome::kOk);
  auto missing = await<OrderReply>(
      [&](Callback<OrderReply> d) { w.lifecycle->get("nope-1-drop", "alice", std::move(d)); });
  EXPECT_EQ(missing.outcome, Outcome::kUnknownOrder);
  // An unknown order is an answer, not a failure of the order store.
  EXPECT_EQ(w.orders_guard.results, (std::vector<bool>{true, true}));
}

}  // namespace
}  // namespace seckill
