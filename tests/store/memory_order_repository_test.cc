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

TEST(MemoryOrderRepositoryTest, FinishedOrdersAreForgottenAfterTheirRetention) {
  MemoryOrderRepository repo(absl::Minutes(10));
  const absl::Time pay_before = absl::FromUnixSeconds(100);
  for (const char* id : {"paid", "cancelled", "pending"}) repo.insert(pending(id));
  ASSERT_TRUE(move(repo, "paid", OrderState::kPendingPayment, OrderState::kPaid,
                   absl::FromUnixSeconds(10))
                  .ok());
  ASSERT_TRUE(move(repo, "cancelled", OrderState::kPendingPayment, OrderState::kCancelled,
                   absl::FromUnixSeconds(20))
                  .ok());
  auto get = [&](const char* id) {
    return await<absl::StatusOr<Order>>(
        [&](Callback<absl::StatusOr<Order>> done) { repo.get(id, std::move(done)); });
  };
  // Retention runs from pay_before (the delayed cancel's time), not from the payment.
  EXPECT_EQ(repo.forgetFinished(absl::FromUnixSeconds(10) + absl::Minutes(10)), 0u);
  EXPECT_EQ(repo.forgetFinished(pay_before + absl::Minutes(10) - absl::Seconds(1)), 0u);
  EXPECT_TRUE(get("paid").ok());
  EXPECT_EQ(repo.forgetFinished(pay_before + absl::Minutes(10)), 2u);
  EXPECT_TRUE(absl::IsNotFound(get("paid").status()));
  EXPECT_TRUE(absl::IsNotFound(get("cancelled").status()));
  // The pending order stays whatever the time; the books still count the forgotten ones.
  EXPECT_EQ(repo.forgetFinished(absl::FromUnixSeconds(1'000'000)), 0u);
  EXPECT_TRUE(get("pending").ok());
  EXPECT_EQ(repo.size(), 1u);
  EXPECT_EQ(repo.forgotten(), 2);
  OrderCounts c = repo.counts();
  EXPECT_EQ(c.paid, 1);
  EXPECT_EQ(c.cancelled, 1);
  EXPECT_EQ(c.pending_payment, 1);
}

TEST(MemoryOrderRepositoryTest, WithoutRetentionNothingIsForgotten) {
  MemoryOrderRepository repo;
  repo.insert(pending("o1"));
  ASSERT_TRUE(move(repo, "o1", OrderState::kPendingPayment, OrderState::kPaid,
                   absl::FromUnixSeconds(10))
                  .ok());
  EXPECT_EQ(repo.forgetFinished(absl::InfiniteFuture()), 0u);
  EXPECT_EQ(repo.size(), 1u);
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
