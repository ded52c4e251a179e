#include "engine/core/sale_service.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/sale_fixture.h"

namespace seckill {
namespace {

using testing::SaleWorld;

TEST(SaleServiceTest, OrderCreatesPendingOrderAndTakesOneUnit) {
  SaleWorld w({SaleWorld::spec("drop", 3)});
  absl::Time now = w.clock.now();
  OrderReply r = w.order("drop", "alice");
  ASSERT_EQ(r.outcome, Outcome::kCreated);
  EXPECT_FALSE(r.replayed);
  EXPECT_EQ(r.order.sale_id, "drop");
  EXPECT_EQ(r.order.user_id, "alice");
  EXPECT_EQ(r.order.state, OrderState::kPendingPayment);
  EXPECT_EQ(r.order.pay_before, now + absl::Minutes(15));
  EXPECT_EQ(w.stockLeft("drop"), 2);
  OrderReply got = w.get(r.order.id, "alice");
  ASSERT_EQ(got.outcome, Outcome::kOk);
  EXPECT_EQ(got.order.id, r.order.id);
  EXPECT_EQ(w.orders.counts().pending_payment, 1);
}

TEST(SaleServiceTest, RepeatFromSameUserIsDuplicateAndDeductsNothing) {
  SaleWorld w({SaleWorld::spec("drop", 3)});
  OrderReply first = w.order("drop", "alice");
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  OrderReply again = w.order("drop", "alice");
  EXPECT_EQ(again.outcome, Outcome::kDuplicate);
  EXPECT_EQ(again.order.id, first.order.id);
  EXPECT_EQ(w.stockLeft("drop"), 2);
  // Still a duplicate long after dedup_ttl: the key is held by the live order.
  w.clock.advance(absl::Minutes(10));
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kDuplicate);
  // Another user is unaffected.
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
}

TEST(SaleServiceTest, SoldOutAnswersAndLeavesNoKeyBehind) {
  SaleWorld w({SaleWorld::spec("drop", 1)});
  OrderReply a = w.order("drop", "alice");
  ASSERT_EQ(a.outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSoldOut);
  SaleReply info = w.describe("drop");
  EXPECT_EQ(info.state, SaleState::kSoldOut);
  EXPECT_EQ(info.stock_left, 0);
  // Alice cancels: the unit returns and bob (whose sold-out attempt held no
  // key) can buy it.
  ASSERT_EQ(w.cancel(a.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_EQ(w.stockLeft("drop"), 1);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
}

TEST(SaleServiceTest, WindowIsEnforced) {
  SaleWorld w({[] {
    SaleSpec s = SaleWorld::spec("drop", 5);
    s.opens_at = absl::FromUnixSeconds(1'800'000'100);
    s.closes_at = absl::FromUnixSeconds(1'800'000'200);
    return s;
  }()});
  EXPECT_EQ(w.describe("drop").state, SaleState::kScheduled);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kSaleNotOpen);
  w.clock.set(absl::FromUnixSeconds(1'800'000'100));
  EXPECT_EQ(w.describe("drop").state, SaleState::kOpen);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  w.clock.set(absl::FromUnixSeconds(1'800'000'200));
  EXPECT_EQ(w.describe("drop").state, SaleState::kClosed);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSaleNotOpen);
  EXPECT_EQ(w.token("drop", "bob").outcome, Outcome::kSaleNotOpen);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TEST(SaleServiceTest, UnknownSale) {
  SaleWorld w({SaleWorld::spec("drop", 1)});
  EXPECT_EQ(w.order("nope", "alice").outcome, Outcome::kUnknownSale);
  EXPECT_EQ(w.describe("nope").outcome, Outcome::kUnknownSale);
  EXPECT_EQ(w.token("nope", "alice").outcome, Outcome::kUnknownSale);
}

SaleSpec tokenSale(int64_t stock) {
  SaleSpec s = SaleWorld::spec("drop", stock);
  s.require_token = true;
  s.token_ttl = absl::Minutes(1);
  return s;
}

TEST(SaleServiceTest, RequiredTokenMustBePresentedValidAndUnused) {
  SaleWorld w({tokenSale(5), SaleWorld::spec("other", 5)});
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.order("drop", "alice", "not-a-token").outcome, Outcome::kInvalidToken);
  TokenReply bobs = w.token("drop", "bob");
  ASSERT_EQ(bobs.outcome, Outcome::kOk);
  EXPECT_EQ(bobs.ttl, absl::Minutes(1));
  EXPECT_EQ(w.order("drop", "alice", bobs.token).outcome, Outcome::kInvalidToken);
  TokenReply other = w.token("other", "alice");
  EXPECT_EQ(w.order("drop", "alice", other.token).outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.stockLeft("drop"), 5);

  TokenReply t = w.token("drop", "alice");
  OrderReply r = w.order("drop", "alice", t.token);
  ASSERT_EQ(r.outcome, Outcome::kCreated);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TEST(SaleServiceTest, ReplayedTokenReturnsTheOriginalAnswerAndNoSecondOrder) {
  SaleWorld w({tokenSale(5)});
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  for (int i = 0; i < 3; ++i) {
    OrderReply again = w.order("drop", "alice", t.token);
    EXPECT_EQ(again.outcome, Outcome::kCreated);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.order.id, first.order.id);
    EXPECT_EQ(again.order.pay_before, first.order.pay_before);
  }
  EXPECT_EQ(w.stockLeft("drop"), 4);
  EXPECT_EQ(w.orders.counts().pending_payment, 1);
  // A fresh token for the same user meets the dedup key instead.
  TokenReply t2 = w.token("drop", "alice");
  EXPECT_EQ(w.order("drop", "alice", t2.token).outcome, Outcome::kDuplicate);
}

TEST(SaleServiceTest, ExpiredTokenIsInvalid) {
  SaleWorld w({tokenSale(5)});
  TokenReply t = w.token("drop", "alice");
  w.clock.advance(absl::Minutes(1));
  EXPECT_EQ(w.order("drop", "alice", t.token).outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.stockLeft("drop"), 5);
}

TEST(SaleServiceTest, ReplayAfterCloseStillAnswersTheFirstResult) {
  SaleSpec s = tokenSale(5);
  s.closes_at = absl::FromUnixSeconds(1'800'000'010);
  SaleWorld w({s});
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  w.clock.set(absl::FromUnixSeconds(1'800'000'020));
  OrderReply replay = w.order("drop", "alice", t.token);
  EXPECT_EQ(replay.outcome, Outcome::kCreated);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.order.id, first.order.id);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSaleNotOpen);
}

TEST(SaleServiceTest, OptionalTokenStillMakesRepeatsIdempotent) {
  SaleWorld w({SaleWorld::spec("drop", 5)});
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  OrderReply again = w.order("drop", "alice", t.token);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.order.id, first.order.id);
}

TEST(SaleServiceTest, PayMovesPendingToPaidOnce) {
  SaleWorld w({SaleWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  EXPECT_EQ(w.pay(o.order.id, "mallory").outcome, Outcome::kForbidden);
  EXPECT_EQ(w.pay("no-such-order", "alice").outcome, Outcome::kUnknownOrder);
  OrderReply paid = w.pay(o.order.id, "alice");
  ASSERT_EQ(paid.outcome, Outcome::kOk);
  EXPECT_EQ(paid.order.state, OrderState::kPaid);
  EXPECT_EQ(w.pay(o.order.id, "alice").outcome, Outcome::kAlreadyPaid);
  EXPECT_EQ(w.cancel(o.order.id, "alice").outcome, Outcome::kAlreadyPaid);
  EXPECT_EQ(w.stockLeft("drop"), 4);
  OrderCounts c = w.orders.counts();
  EXPECT_EQ(c.paid, 1);
  EXPECT_EQ(c.pending_payment, 0);
}

TEST(SaleServiceTest, PayAfterDeadlineExpiresTheOrderAndReturnsTheUnit) {
  SaleWorld w({SaleWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  w.clock.advance(absl::Minutes(15));
  OrderReply late = w.pay(o.order.id, "alice");
  EXPECT_EQ(late.outcome, Outcome::kOrderExpired);
  EXPECT_EQ(w.stockLeft("drop"), 5);
  EXPECT_EQ(w.pay(o.order.id, "alice").outcome, Outcome::kOrderExpired);
  OrderReply got = w.get(o.order.id, "alice");
  EXPECT_EQ(got.order.state, OrderState::kCancelled);
  EXPECT_EQ(got.order.cancel_reason, CancelReason::kExpired);
  // The unit and the key came back: alice may order again.
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
}

TEST(SaleServiceTest, CancelReturnsTheUnitExactlyOnce) {
  SaleWorld w({SaleWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  EXPECT_EQ(w.cancel(o.order.id, "bob").outcome, Outcome::kForbidden);
  OrderReply c = w.cancel(o.order.id, "alice");
  ASSERT_EQ(c.outcome, Outcome::kOk);
  EXPECT_EQ(c.order.state, OrderState::kCancelled);
  EXPECT_EQ(c.order.cancel_reason, CancelReason::kShopper);
  EXPECT_EQ(w.stockLeft("drop"), 5);
  EXPECT_EQ(w.cancel(o.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_TRUE(w.expire(o.order.id).ok());
  EXPECT_EQ(w.stockLeft("drop"), 5);
  EXPECT_EQ(w.pay(o.order.id, "alice").outcome, Outcome::kOrderCancelled);
}

TEST(SaleServiceTest, CancelConsumerExpiresUnpaidOrdersWhenDue) {
  SaleSpec s = SaleWorld::spec("drop", 5);
  s.pay_timeout = absl::Seconds(30);
  SaleWorld w({s});
  OrderReply unpaid = w.order("drop", "alice");
  OrderReply paid = w.order("drop", "bob");
  ASSERT_EQ(w.pay(paid.order.id, "bob").outcome, Outcome::kOk);
  EXPECT_EQ(w.cancels.pending(), 2u);

  w.clock.advance(absl::Seconds(29));
  EXPECT_EQ(w.consumer->runOnce(w.clock.now()), 0u);
  EXPECT_EQ(w.stockLeft("drop"), 3);

  w.clock.advance(absl::Seconds(1));
  EXPECT_EQ(w.consumer->runOnce(w.clock.now()), 2u);
  EXPECT_EQ(w.cancels.pending(), 0u);
  EXPECT_EQ(w.get(unpaid.order.id, "alice").order.state, OrderState::kCancelled);
  EXPECT_EQ(w.get(paid.order.id, "bob").order.state, OrderState::kPaid);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TEST(SaleServiceTest, RedeliveredExpiryReturnsTheUnitOnce) {
  SaleSpec s = SaleWorld::spec("drop", 2);
  s.pay_timeout = absl::Seconds(5);
  SaleWorld w({s});
  OrderReply o = w.order("drop", "alice");
  w.clock.advance(absl::Seconds(5));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(w.expire(o.order.id).ok());
  EXPECT_EQ(w.stockLeft("drop"), 2);
  // After alice re-orders, a late duplicate of the old message must not
  // release her new order's key or unit.
  OrderReply again = w.order("drop", "alice");
  ASSERT_EQ(again.outcome, Outcome::kCreated);
  EXPECT_TRUE(w.expire(o.order.id).ok());
  EXPECT_EQ(w.stockLeft("drop"), 1);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kDuplicate);
}

TEST(SaleServiceTest, ExpireBeforeDueIsRefusedSoTheMessageIsRetried) {
  SaleWorld w({SaleWorld::spec("drop", 2)});
  OrderReply o = w.order("drop", "alice");
  absl::Status s = w.expire(o.order.id);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(w.get(o.order.id, "alice").order.state, OrderState::kPendingPayment);
}

TEST(SaleServiceTest, PayRacingCancelLeavesExactlyOneEffective) {
  constexpr int kOrders = 400;
  SaleWorld w({SaleWorld::spec("drop", kOrders)});
  std::vector<std::string> ids;
  for (int i = 0; i < kOrders; ++i) {
    OrderReply r = w.order("drop", "u" + std::to_string(i));
    ASSERT_EQ(r.outcome, Outcome::kCreated);
    ids.push_back(r.order.id);
  }
  std::atomic<int> pays{0}, cancels{0};
  std::thread payer([&] {
    for (int i = 0; i < kOrders; ++i) {
      if (w.pay(ids[i], "u" + std::to_string(i)).outcome == Outcome::kOk) ++pays;
    }
  });
  std::thread canceller([&] {
    for (int i = kOrders - 1; i >= 0; --i) {
      OrderReply r = w.cancel(ids[i], "u" + std::to_string(i));
      if (r.outcome == Outcome::kOk) ++cancels;
    }
  });
  payer.join();
  canceller.join();
  EXPECT_EQ(pays + cancels, kOrders);
  OrderCounts c = w.orders.counts();
  EXPECT_EQ(c.paid, pays.load());
  EXPECT_EQ(c.cancelled, cancels.load());
  EXPECT_EQ(c.pending_payment, 0);
  EXPECT_EQ(w.stockLeft("drop"), cancels.load());
}

}  // namespace
}  // namespace seckill
