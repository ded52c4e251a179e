#include "engine/store/memory/memory_sale_store.h"

#include "gtest/gtest.h"
#include "tests/support/sale_fixture.h"

namespace seckill {
namespace {

using testing::await;
using testing::SaleWorld;

absl::StatusOr<bool> release(MemorySaleStore& store, std::string_view sale, std::string_view user,
                             std::string_view order) {
  return await<absl::StatusOr<bool>>([&](Callback<absl::StatusOr<bool>> done) {
    store.releaseUnit(sale, user, order, std::move(done));
  });
}

TEST(MemorySaleStoreTest, ReleaseOnlyByTheOrderHoldingTheKey) {
  SaleWorld w({SaleWorld::spec("drop", 2)});
  OrderReply o = w.order("drop", "alice");
  ASSERT_EQ(o.outcome, Outcome::kCreated);
  auto wrong = release(w.store, "drop", "alice", "someone-else");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  EXPECT_EQ(w.stockLeft("drop"), 1);
  auto right = release(w.store, "drop", "alice", o.order.id);
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(*right);
  EXPECT_EQ(w.stockLeft("drop"), 2);
  auto twice = release(w.store, "drop", "alice", o.order.id);
  EXPECT_FALSE(*twice);
  EXPECT_EQ(w.stockLeft("drop"), 2);
  EXPECT_TRUE(absl::IsNotFound(release(w.store, "nope", "alice", o.order.id).status()));
}

TEST(MemorySaleStoreTest, AddSaleRejectsDuplicates) {
  SaleWorld w({SaleWorld::spec("drop", 2)});
  EXPECT_FALSE(w.store.addSale(SaleWorld::spec("drop", 5)).ok());
  EXPECT_EQ(w.stockLeft("drop"), 2);
}

TEST(MemorySaleStoreTest, FullFifoQueueShedsWithBusyAndTakesNothing) {
  MemorySaleStore::Options opts;
  opts.fifo_capacity = 0;
  SaleWorld w({SaleWorld::spec("drop", 2, StockStrategy::kFifo)}, opts);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kBusy);
  EXPECT_EQ(w.stockLeft("drop"), 2);
}

TEST(MemorySaleStoreTest, FifoAfterShutdownAnswersBusy) {
  SaleWorld w({SaleWorld::spec("drop", 2, StockStrategy::kFifo)});
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  w.store.shutdown();
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kBusy);
  EXPECT_EQ(w.stockLeft("drop"), 1);
}

TEST(MemorySaleStoreTest, ExhaustedOptimisticRetriesLeaveTokenAndKeyUsable) {
  MemorySaleStore::Options opts;
  opts.optimistic_retries = 0;  // every CAS "loses"
  SaleWorld w({SaleWorld::spec("drop", 2, StockStrategy::kOptimistic)}, opts);
  TokenReply t = w.token("drop", "alice");
  EXPECT_EQ(w.order("drop", "alice", t.token).outcome, Outcome::kBusy);
  EXPECT_EQ(w.stockLeft("drop"), 2);
  // Neither the dedup key nor the token was kept by the shed attempt.
  OrderReply retry = w.order("drop", "alice", t.token);
  EXPECT_EQ(retry.outcome, Outcome::kBusy);
  EXPECT_FALSE(retry.replayed);
}

TEST(MemorySaleStoreTest, ExpiredTokensAreSweptAsNewOnesAreIssued) {
  SaleSpec s = SaleWorld::spec("drop", 2);
  s.token_ttl = absl::Seconds(10);
  SaleWorld w({s});
  for (int i = 0; i < 1000; ++i) w.token("drop", "u" + std::to_string(i));
  EXPECT_EQ(w.store.tokenCount(), 1000u);
  w.clock.advance(absl::Seconds(11));
  for (int i = 0; i < 1000; ++i) w.token("drop", "v" + std::to_string(i));
  EXPECT_EQ(w.store.tokenCount(), 1000u);
}

TEST(MemorySaleStoreTest, SoldOutConsumesTheTokenWithItsAnswer) {
  SaleWorld w({SaleWorld::spec("drop", 1)});
  ASSERT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  TokenReply t = w.token("drop", "bob");
  EXPECT_EQ(w.order("drop", "bob", t.token).outcome, Outcome::kSoldOut);
  OrderReply replay = w.order("drop", "bob", t.token);
  EXPECT_EQ(replay.outcome, Outcome::kSoldOut);
  EXPECT_TRUE(replay.replayed);
}

TEST(MemorySaleStoreTest, ReplayAnswersTheOriginalOrderEvenAfterItWasPaid) {
  SaleWorld w({SaleWorld::spec("drop", 5)});
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  ASSERT_EQ(w.pay(first.order.id, "alice").outcome, Outcome::kOk);
  OrderReply replay = w.order("drop", "alice", t.token);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.outcome, Outcome::kCreated);
  EXPECT_EQ(replay.order.id, first.order.id);
  EXPECT_EQ(replay.order.state, OrderState::kPendingPayment);
  EXPECT_EQ(replay.order.created_at, first.order.created_at);
  EXPECT_EQ(replay.order.pay_before, first.order.pay_before);
  EXPECT_EQ(replay.order.updated_at, first.order.updated_at);
  // Another shopper cannot use alice's token; bob's duplicate names his own order, replayed too.
  EXPECT_EQ(w.order("drop", "bob", t.token).outcome, Outcome::kInvalidToken);
  ASSERT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
  TokenReply bt = w.token("drop", "bob");
  OrderReply dup = w.order("drop", "bob", bt.token);
  ASSERT_EQ(dup.outcome, Outcome::kDuplicate);
  OrderReply dup_replay = w.order("drop", "bob", bt.token);
  EXPECT_TRUE(dup_replay.replayed);
  EXPECT_EQ(dup_replay.outcome, Outcome::kDuplicate);
  EXPECT_EQ(dup_replay.order.id, dup.order.id);
  EXPECT_FALSE(dup.order.id.empty());
  EXPECT_EQ(w.stockLeft("drop"), 3);
}

}  // namespace
}  // namespace seckill
