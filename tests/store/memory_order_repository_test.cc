#include "engine/store/memory/memory_order_repository.h"

#include "gtest/gtest.h"
#include "tests/support/await.h"

namespace seckill {
namespace {

using testing::await;

Order pending(std::string id) {
  Order o;
  o.id = std::move(id);
  o.sale_id = "drop";
  o.user_id = "alice";
  o.pay_before = absl::FromUnixSeconds(100);
  return o;
}

absl::StatusOr<Transition> move(MemoryOrderRepository& repo, const std::string& id, OrderState from,
                                OrderState to, absl::Time at,
                                std::optional<absl::Time> before = std::nullopt) {
  return await<absl::StatusOr<Transition>>([&](Callback<absl::StatusOr<Transition>> done) {
    repo.transition(id, from, to, CancelReason::kShopper, at, before, std::move(done));
  });
}

TEST(MemoryOrderRepositoryTest, InsertGetAndUnknown) {
  MemoryOrderRepository repo;
  EXPECT_TRUE(repo.insert(pending("o1")));
  EXPECT_FALSE(repo.insert(pending("o1")));
  auto got = await<absl::StatusOr<Order>>(
      [&](Callback<absl::StatusOr<Order>> done) { repo.get("o1", std::move(done)); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->user_id, "alice");
  auto missing = await<absl::StatusOr<Order>>(
      [&](Callback<absl::StatusOr<Order>> done) { repo.get("o2", std::move(done)); });
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(repo.counts().pending_payment, 1);
}

TEST(MemoryOrderRepositoryTest, TransitionAppliesOnlyFromTheExpectedState) {
  MemoryOrderRepository repo;
  repo.insert(pending("o1"));
  auto t = move(repo, "o1", OrderState::kPendingPayment, OrderState::kCancelled,
                absl::FromUnixSeconds(50));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->applied);
  EXPECT_EQ(t->order.cancel_reason, CancelReason::kShopper);
  EXPECT_EQ(t->order.updated_at, absl::FromUnixSeconds(50));
  auto again = move(repo, "o1", OrderState::kPendingPayment, OrderState::kPaid,
                    absl::FromUnixSeconds(51));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->order.state, OrderState::kCancelled);
  OrderCounts c = repo.counts();
  EXPECT_EQ(c.pending_payment, 0);
  EXPECT_EQ(c.cancelled, 1);
  EXPECT_TRUE(absl::IsNotFound(
      move(repo, "zz", OrderState::kPendingPayment, OrderState::kPaid, absl::Now()).status()));
}

TEST(MemoryOrderRepositoryTest, DeadlineGuardsTheTransition) {
  MemoryOrderRepository repo;
  repo.insert(pending("o1"));
  auto late = move(repo, "o1", OrderState::kPendingPayment, OrderState::kPaid,
                   absl::FromUnixSeconds(100), absl::FromUnixSeconds(100));
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->applied);
  auto in_time = move(repo, "o1", OrderState::kPendingPayment, OrderState::kPaid,
                      absl::FromUnixSeconds(99), absl::FromUnixSeconds(100));
  ASSERT_TRUE(in_time.ok());
  EXPECT_TRUE(in_time->applied);
  EXPECT_EQ(repo.counts().paid, 1);
}

}  // namespace
}  // namespace seckill
