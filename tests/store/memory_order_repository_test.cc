#include "engine/store/memory/memory_order_repository.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
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

namespace seckill {
namespace {

Order generated(std::string id, std::string sale, std::string user) {
  Order o;
  o.id = std::move(id);
  o.sale_id = std::move(sale);
  o.user_id = std::move(user);
  o.created_at = absl::FromUnixNanos(1'800'000'000'123'456'789);
  o.updated_at = o.created_at;
  o.pay_before = o.created_at + absl::Minutes(15);
  return o;
}

absl::StatusOr<Order> getOrder(MemoryOrderRepository& repo, std::string_view id) {
  return testing::await<absl::StatusOr<Order>>(
      [&](Callback<absl::StatusOr<Order>> done) { repo.get(id, std::move(done)); });
}

TEST(MemoryOrderRepositoryCompactTest, APlaceStaysValidWhileTheTablesGrow) {
  // The memory sale store takes an order's place before its dedup and inserts it after, while
  // other threads insert: a place must survive the tables growing (it holds no slot).
  MemoryOrderRepository repo;
  const Order first = generated("k3x9-1-flash-2026", "flash-2026", "alice");
  const Order other = generated("k3x9-Zz-flash-2026", "flash-2026", "bob");  // kept as a string
  const MemoryOrderRepository::Place first_place = repo.place(first);
  const MemoryOrderRepository::Place other_place = repo.place(other);
  for (int i = 2; i < 20'000; ++i) {
    ASSERT_TRUE(repo.insert(generated(absl::StrCat("k3x9-", absl::Hex(i), "-flash-2026"),
                                      "flash-2026", absl::StrCat("u", i))));
  }
  uint64_t key = MemoryOrderRepository::kNoKey;
  ASSERT_TRUE(repo.insert(first, first_place, &key));
  EXPECT_EQ(key, repo.keyOf(first.id));
  EXPECT_NE(key, MemoryOrderRepository::kNoKey);
  EXPECT_EQ(getOrder(repo, first.id)->user_id, "alice");
  ASSERT_TRUE(repo.insert(other, other_place, &key));
  EXPECT_EQ(key, MemoryOrderRepository::kNoKey);
  EXPECT_EQ(getOrder(repo, other.id)->user_id, "bob");
  // A place is no licence: an id already held is refused at its place too.
  EXPECT_FALSE(repo.insert(first, repo.place(first)));
  EXPECT_FALSE(repo.insert(other, repo.place(other)));
  EXPECT_EQ(repo.size(), 20'000u);
}

TEST(MemoryOrderRepositoryCompactTest, GeneratedIdsAreKeptCompactAndReadBackExactly) {
  MemoryOrderRepository repo;
  // A user id longer than the 23 characters kept inline, and one within.
  const std::string long_user(64, 'u');
  uint64_t key = MemoryOrderRepository::kNoKey;
  ASSERT_TRUE(repo.insert(generated("k3x9-1z-flash-2026", "flash-2026", long_user), &key));
  EXPECT_NE(key, MemoryOrderRepository::kNoKey);
  EXPECT_EQ(repo.keyOf("k3x9-1z-flash-2026"), key);
  EXPECT_EQ(repo.idOf(key), "k3x9-1z-flash-2026");
  ASSERT_TRUE(repo.insert(generated("k3x9-20-flash-2026", "flash-2026", "bob")));
  auto got = getOrder(repo, "k3x9-1z-flash-2026");
  ASSERT_TRUE(got.ok()) << got.status();
  const Order want = generated("k3x9-1z-flash-2026", "flash-2026", long_user);
  EXPECT_EQ(got->id, want.id);
  EXPECT_EQ(got->sale_id, want.sale_id);
  EXPECT_EQ(got->user_id, long_user);
  EXPECT_EQ(got->created_at, want.created_at);  // to the nanosecond
  EXPECT_EQ(got->pay_before, want.pay_before);
  EXPECT_EQ(got->state, OrderState::kPendingPayment);
  // The same id again is refused; a sibling id of the pair is another order.
  EXPECT_FALSE(repo.insert(generated("k3x9-1z-flash-2026", "flash-2026", "eve")));
  EXPECT_EQ(getOrder(repo, "k3x9-20-flash-2026")->user_id, "bob");
  // Ids that are not what the generator prints are not compact: a leading zero, upper case,
  // a sequence beyond 48 bits. They are kept as given and are different orders.
  for (std::string id : {"k3x9-01z-flash-2026", "k3x9-1Z-flash-2026", "k3x9-zzzzzzzzzzz-flash-2026"}) {
    uint64_t k = 1;
    ASSERT_TRUE(repo.insert(generated(id, "flash-2026", "carol"), &k)) << id;
    EXPECT_EQ(k, MemoryOrderRepository::kNoKey) << id;
    EXPECT_EQ(getOrder(repo, id)->user_id, "carol") << id;
  }
  EXPECT_EQ(getOrder(repo, "k3x9-1z-flash-2026")->user_id, long_user);
  EXPECT_EQ(repo.size(), 5u);
  EXPECT_TRUE(absl::IsNotFound(getOrder(repo, "k3x9-21-flash-2026").status()));
}

TEST(MemoryOrderRepositoryCompactTest, AnIdNamingAnotherSaleIsKeptAsGiven) {
  MemoryOrderRepository repo;
  ASSERT_TRUE(repo.insert(generated("n1-1-drop", "drop", "alice")));  // interns (n1, drop)
  uint64_t key = 1;
  ASSERT_TRUE(repo.insert(generated("n1-2-drop", "other-sale", "bob"), &key));
  EXPECT_EQ(key, MemoryOrderRepository::kNoKey);
  auto got = getOrder(repo, "n1-2-drop");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sale_id, "other-sale");
  EXPECT_FALSE(repo.insert(generated("n1-2-drop", "drop", "eve")));  // in one table or the other
  auto t = move(repo, "n1-2-drop", OrderState::kPendingPayment, OrderState::kPaid,
                absl::FromUnixSeconds(50));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->applied);
  EXPECT_EQ(t->order.sale_id, "other-sale");
}

TEST(MemoryOrderRepositoryCompactTest, ForgottenRecordsAreReusedAndListingSeesBothTables) {
  MemoryOrderRepository repo(absl::Minutes(1));
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(repo.insert(generated(absl::StrCat("n1-", i, "-drop"), "drop", "u")));
  }
  ASSERT_TRUE(repo.insert(generated("plain-id", "drop", "u")));
  const absl::Time pay_before = generated("x", "drop", "u").pay_before;
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(move(repo, absl::StrCat("n1-", i, "-drop"), OrderState::kPendingPayment,
                     OrderState::kPaid, pay_before - absl::Seconds(1))
                    ->applied);
  }
  EXPECT_EQ(repo.forgetFinished(pay_before + absl::Minutes(2)), 50u);
  EXPECT_EQ(repo.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(getOrder(repo, "n1-7-drop").status()));
  // New orders take the forgotten records' places and read back whole.
  for (int i = 51; i <= 60; ++i) {
    ASSERT_TRUE(repo.insert(generated(absl::StrCat("n1-", i, "-drop"), "drop", absl::StrCat("v", i))));
  }
  EXPECT_EQ(getOrder(repo, "n1-55-drop")->user_id, "v55");
  auto page = testing::await<absl::StatusOr<OrderPage>>([&](Callback<absl::StatusOr<OrderPage>> done) {
    repo.list(OrderQuery{.sale_id = "drop", .limit = 100}, std::move(done));
  });
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->orders.size(), 11u);
  EXPECT_TRUE(std::is_sorted(page->orders.begin(), page->orders.end(),
                             [](const Order& a, const Order& b) { return a.id < b.id; }));
  EXPECT_EQ(page->orders.back().id, "plain-id");
}

TEST(MemoryOrderRepositoryCompactTest, BeyondTheLastPairIdsAreKeptAsStrings) {
  MemoryOrderRepository repo;
  // 4,094 (node, sale) pairs get compact keys; every later pair's ids are kept as given.
  int compact = 0;
  for (int node = 0; node < 4200; ++node) {
    const std::string id = absl::StrCat("n", node, "-1-drop");
    uint64_t key = MemoryOrderRepository::kNoKey;
    ASSERT_TRUE(repo.insert(generated(id, "drop", absl::StrCat("u", node)), &key)) << id;
    if (key != MemoryOrderRepository::kNoKey) {
      ++compact;
      EXPECT_LT(key, (uint64_t{1} << 60) - 1) << id;  // never all ones in 60 bits
      EXPECT_EQ(repo.idOf(key), id);
    }
  }
  EXPECT_EQ(compact, 4094);
  EXPECT_EQ(getOrder(repo, "n4199-1-drop")->user_id, "u4199");
  EXPECT_EQ(getOrder(repo, "n0-1-drop")->user_id, "u0");
  EXPECT_EQ(repo.size(), 4200u);
}

}  // namespace
}  // namespace seckill
