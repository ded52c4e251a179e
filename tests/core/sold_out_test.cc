// The local sold-out flag: after the store has said "sold out" once, order
// attempts and token requests are answered without a store call, until a unit
// comes back; a "sold out" answer that raced with a returned unit sets nothing.
#include <memory>
#include <string>
#include <vector>

#include "engine/core/cancel_consumer.h"
#include "engine/core/clock.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_events.h"
#include "engine/core/sale_service.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/forwarding_sale_store.h"

namespace seckill {
namespace {

using testing::await;

TEST(SoldOutFlagTest, SetIfUnchangedLosesToAClearInBetween) {
  SoldOutFlag flag;
  EXPECT_FALSE(flag.isSet());
  const uint64_t before = flag.epoch();
  EXPECT_FALSE(flag.clear());  // was not set; the epoch still moves
  EXPECT_FALSE(flag.setIfUnchanged(before));
  EXPECT_FALSE(flag.isSet());
  EXPECT_TRUE(flag.setIfUnchanged(flag.epoch()));
  EXPECT_TRUE(flag.isSet());
  EXPECT_FALSE(flag.set());  // already set
  EXPECT_TRUE(flag.clear());
  EXPECT_FALSE(flag.isSet());
  EXPECT_TRUE(flag.set());
  EXPECT_TRUE(flag.isSet());
}

// Counts order attempts and can hold their answers back.
class CountingStore : public testing::ForwardingSaleStore {
 public:
  using ForwardingSaleStore::ForwardingSaleStore;
  void attemptOrder(OrderAttempt a, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override {
    ++attempts;
    if (!hold) {
      inner_.attemptOrder(std::move(a), now, std::move(done));
      return;
    }
    inner_.attemptOrder(std::move(a), now,
                        [this](absl::StatusOr<AttemptResult> r) { held.push_back(std::move(r)); });
    held_done.push_back(std::move(done));
  }
  void releaseHeld() {
    for (size_t i = 0; i < held.size(); ++i) std::move(held_done[i])(std::move(held[i]));
    held.clear();
    held_done.clear();
  }
  int attempts = 0;
  bool hold = false;
  std::vector<absl::StatusOr<AttemptResult>> held;
  std::vector<Callback<absl::StatusOr<AttemptResult>>> held_done;
};

class RecordingEvents : public SaleEvents {
 public:
  void soldOut(std::string_view sale) override { events.push_back("soldout " + std::string(sale)); }
  void restocked(std::string_view sale) override {
    events.push_back("restock " + std::string(sale));
  }
  std::vector<std::string> events;
};

class SoldOutTest : public ::testing::Test {
 protected:
  SoldOutTest() : memory(orders, cancels), store(memory) {
    SaleSpec s;
    s.id = "s1";
    s.name = "s1";
    s.stock = 2;
    catalog = *SaleCatalog::create({s});
    sales = std::make_unique<SaleService>(clock, *catalog, store, ids);
    lifecycle = std::make_unique<OrderLifecycle>(clock, *catalog, store, orders);
    sales->setEvents(&events);
    lifecycle->setEvents(&events);
    EXPECT_TRUE(sales->registerSales().ok());
  }
  OrderReply order(std::string_view user, std::string_view token = {}) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { sales->placeOrder("s1", user, token, std::move(done)); });
  }
  OrderReply cancel(const Order& o) {
    return await<OrderReply>(
        [&](Callback<OrderReply> done) { lifecycle->cancel(o.id, o.user_id, std::move(done)); });
  }

  ManualClock clock;
  OrderIdGenerator ids{7};
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore memory;
  CountingStore store;
  RecordingEvents events;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
  std::unique_ptr<OrderLifecycle> lifecycle;
};

TEST_F(SoldOutTest, AfterTheFirstSoldOutNoAttemptReachesTheStore) {
  EXPECT_EQ(order("u1").outcome, Outcome::kCreated);
  EXPECT_EQ(order("u2").outcome, Outcome::kCreated);
  EXPECT_EQ(order("u3").outcome, Outcome::kSoldOut);
  EXPECT_EQ(store.attempts, 3);
  EXPECT_EQ(events.events, std::vector<std::string>{"soldout s1"});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order("v" + std::to_string(i)).outcome, Outcome::kSoldOut);
  EXPECT_EQ(store.attempts, 3);
  // A token for a sold-out sale could only buy "sold out".
  TokenReply t = await<TokenReply>(
      [&](Callback<TokenReply> done) { sales->issueToken("s1", "w", std::move(done)); });
  EXPECT_EQ(t.outcome, Outcome::kSoldOut);
  EXPECT_EQ(events.events.size(), 1u);  // broadcast once, not per request
}

TEST_F(SoldOutTest, AReturnedUnitReopensTheSale) {
  OrderReply a = order("u1");
  ASSERT_EQ(a.outcome, Outcome::kCreated);
  ASSERT_EQ(order("u2").outcome, Outcome::kCreated);
  ASSERT_EQ(order("u3").outcome, Outcome::kSoldOut);
  ASSERT_EQ(cancel(a.order).outcome, Outcome::kOk);
  EXPECT_EQ(events.events.back(), "restock s1");
  EXPECT_FALSE(catalog->find("s1")->runtime->sold_out.isSet());
  EXPECT_EQ(order("u4").outcome, Outcome::kCreated);
  EXPECT_EQ(order("u5").outcome, Outcome::kSoldOut);
}

TEST_F(SoldOutTest, ASoldOutAnswerOlderThanAReturnedUnitSetsNothing) {
  OrderReply a = order("u1");
  ASSERT_EQ(order("u2").outcome, Outcome::kCreated);
  // u3's attempt is answered "sold out" by the store, but the answer is held
  // back while u1's order is cancelled and its unit returned.
  store.hold = true;
  OrderReply late;
  bool answered = false;
  sales->placeOrder("s1", "u3", "", [&](OrderReply r) {
    late = r;
    answered = true;
  });
  ASSERT_FALSE(answered);
  store.hold = false;
  ASSERT_EQ(cancel(a.order).outcome, Outcome::kOk);
  store.releaseHeld();
  ASSERT_TRUE(answered);
  EXPECT_EQ(late.outcome, Outcome::kSoldOut);
  // The stale answer did not close the sale: the returned unit is sellable.
  EXPECT_FALSE(catalog->find("s1")->runtime->sold_out.isSet());
  EXPECT_EQ(order("u4").outcome, Outcome::kCreated);
}

TEST_F(SoldOutTest, AReplayedTokenStillGetsItsOriginalAnswerAfterSellOut) {
  TokenReply t = await<TokenReply>(
      [&](Callback<TokenReply> done) { sales->issueToken("s1", "u1", std::move(done)); });
  ASSERT_EQ(t.outcome, Outcome::kOk);
  OrderReply first = order("u1", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  ASSERT_EQ(order("u2").outcome, Outcome::kCreated);
  ASSERT_EQ(order("u3").outcome, Outcome::kSoldOut);
  OrderReply again = order("u1", t.token);
  EXPECT_EQ(again.outcome, Outcome::kCreated);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.order.id, first.order.id);
}

TEST_F(SoldOutTest, AnotherNodesNewsSetsAndClearsTheFlag) {
  SaleRuntime* sale = catalog->find("s1")->runtime;
  sale->sold_out.set();  // what the broadcast listener does on "soldout"
  EXPECT_EQ(order("u1").outcome, Outcome::kSoldOut);
  EXPECT_EQ(store.attempts, 0);
  sale->sold_out.clear();  // on "restock"
  EXPECT_EQ(order("u1").outcome, Outcome::kCreated);
  EXPECT_EQ(store.attempts, 1);
}

}  // namespace
}  // namespace seckill
