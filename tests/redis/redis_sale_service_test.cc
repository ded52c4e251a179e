// The shapes of tests/core/sale_service_test.cc, on the Redis stores.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"

namespace seckill {
namespace {

using testing::RedisTest;
using testing::RedisWorld;

using RedisSaleServiceTest = RedisTest;

// Waits (bounded) until `pred` holds; completions of chained calls such as
// the cancel consumer's acks arrive on the Redis threads.
template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

TEST_F(RedisSaleServiceTest, OrderCreatesPendingOrderAndTakesOneUnit) {
  RedisWorld w(server, {RedisWorld::spec("drop", 3)});
  absl::Time now = w.clock.now();
  OrderReply r = w.order("drop", "alice");
  ASSERT_EQ(r.outcome, Outcome::kCreated);
  EXPECT_FALSE(r.replayed);
  EXPECT_EQ(r.order.sale_id, "drop");
  EXPECT_EQ(r.order.user_id, "alice");
  EXPECT_EQ(r.order.state, OrderState::kPendingPayment);
  EXPECT_EQ(r.order.pay_before, now + absl::Minutes(15));
  EXPECT_EQ(saleOfOrderId(r.order.id), std::optional<std::string_view>("drop"));
  EXPECT_EQ(w.stockLeft("drop"), 2);
  OrderReply got = w.get(r.order.id, "alice");
  ASSERT_EQ(got.outcome, Outcome::kOk);
  EXPECT_EQ(got.order.id, r.order.id);
  EXPECT_EQ(got.order.created_at, r.order.created_at);
  EXPECT_EQ(got.order.pay_before, r.order.pay_before);
  EXPECT_EQ(w.orders.counts().pending_payment, 1);
  // Queued for the batch writer and for the delayed cancel, in the same step.
  EXPECT_EQ(*server.query({"XLEN", redis_keys::orderStream("drop")}), "1");
  EXPECT_EQ(w.cancels.pending(), 1u);
}

TEST_F(RedisSaleServiceTest, RepeatFromSameUserIsDuplicateAndDeductsNothing) {
  RedisWorld w(server, {RedisWorld::spec("drop", 3)});
  OrderReply first = w.order("drop", "alice");
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  OrderReply again = w.order("drop", "alice");
  EXPECT_EQ(again.outcome, Outcome::kDuplicate);
  EXPECT_EQ(again.order.id, first.order.id);
  EXPECT_EQ(w.stockLeft("drop"), 2);
  w.clock.advance(absl::Minutes(10));
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kDuplicate);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
}

TEST_F(RedisSaleServiceTest, SoldOutAnswersAndLeavesNoKeyBehind) {
  RedisWorld w(server, {RedisWorld::spec("drop", 1)});
  OrderReply a = w.order("drop", "alice");
  ASSERT_EQ(a.outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSoldOut);
  EXPECT_EQ(*server.query({"EXISTS", redis_keys::dedup("drop", "bob")}), "0");
  SaleReply info = w.describe("drop");
  EXPECT_EQ(info.state, SaleState::kSoldOut);
  EXPECT_EQ(info.stock_left, 0);
  ASSERT_EQ(w.cancel(a.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_EQ(w.stockLeft("drop"), 1);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
}

TEST_F(RedisSaleServiceTest, WindowIsEnforced) {
  SaleSpec s = RedisWorld::spec("drop", 5);
  s.opens_at = absl::FromUnixSeconds(1'800'000'100);
  s.closes_at = absl::FromUnixSeconds(1'800'000'200);
  RedisWorld w(server, {s});
  EXPECT_EQ(w.describe("drop").state, SaleState::kScheduled);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kSaleNotOpen);
  w.clock.set(absl::FromUnixSeconds(1'800'000'100));
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  w.clock.set(absl::FromUnixSeconds(1'800'000'200));
  EXPECT_EQ(w.describe("drop").state, SaleState::kClosed);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSaleNotOpen);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

SaleSpec tokenSale(int64_t stock) {
  SaleSpec s = RedisWorld::spec("drop", stock);
  s.require_token = true;
  s.token_ttl = absl::Minutes(1);
  return s;
}

TEST_F(RedisSaleServiceTest, RequiredTokenMustBePresentedValidAndUnused) {
  RedisWorld w(server, {tokenSale(5), RedisWorld::spec("other", 5)});
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
  ASSERT_EQ(w.order("drop", "alice", t.token).outcome, Outcome::kCreated);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TEST_F(RedisSaleServiceTest, ReplayedTokenReturnsTheOriginalAnswerAndNoSecondOrder) {
  RedisWorld w(server, {tokenSale(5)});
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
  TokenReply t2 = w.token("drop", "alice");
  OrderReply dup = w.order("drop", "alice", t2.token);
  EXPECT_EQ(dup.outcome, Outcome::kDuplicate);
  // The duplicate is replayed too, naming the order that holds the key.
  OrderReply dup_again = w.order("drop", "alice", t2.token);
  EXPECT_EQ(dup_again.outcome, Outcome::kDuplicate);
  EXPECT_TRUE(dup_again.replayed);
  EXPECT_EQ(dup_again.order.id, first.order.id);
}

TEST_F(RedisSaleServiceTest, ExpiredTokenIsInvalid) {
  RedisWorld w(server, {tokenSale(5)});
  TokenReply t = w.token("drop", "alice");
  w.clock.advance(absl::Minutes(1));
  EXPECT_EQ(w.order("drop", "alice", t.token).outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.stockLeft("drop"), 5);
}

TEST_F(RedisSaleServiceTest, ReplayAfterCloseStillAnswersTheFirstResult) {
  SaleSpec s = tokenSale(5);
  s.closes_at = absl::FromUnixSeconds(1'800'000'010);
  RedisWorld w(server, {s});
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

TEST_F(RedisSaleServiceTest, PayMovesPendingToPaidOnce) {
  RedisWorld w(server, {RedisWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  EXPECT_EQ(w.pay(o.order.id, "mallory").outcome, Outcome::kForbidden);
  EXPECT_EQ(w.pay("no-such-order", "alice").outcome, Outcome::kUnknownOrder);
  EXPECT_EQ(w.pay("nodash", "alice").outcome, Outcome::kUnknownOrder);
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

TEST_F(RedisSaleServiceTest, PayAfterDeadlineExpiresTheOrderAndReturnsTheUnit) {
  RedisWorld w(server, {RedisWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  w.clock.advance(absl::Minutes(15));
  EXPECT_EQ(w.pay(o.order.id, "alice").outcome, Outcome::kOrderExpired);
  EXPECT_EQ(w.stockLeft("drop"), 5);
  EXPECT_EQ(w.pay(o.order.id, "alice").outcome, Outcome::kOrderExpired);
  OrderReply got = w.get(o.order.id, "alice");
  EXPECT_EQ(got.order.state, OrderState::kCancelled);
  EXPECT_EQ(got.order.cancel_reason, CancelReason::kExpired);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
}

TEST_F(RedisSaleServiceTest, CancelReturnsTheUnitExactlyOnce) {
  RedisWorld w(server, {RedisWorld::spec("drop", 5)});
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
  OrderCounts counts = w.orders.counts();
  EXPECT_EQ(counts.cancelled, 1);
  EXPECT_EQ(counts.pending_payment, 0);
}

TEST_F(RedisSaleServiceTest, CancelConsumerExpiresUnpaidOrdersWhenDue) {
  SaleSpec s = RedisWorld::spec("drop", 5);
  s.pay_timeout = absl::Seconds(30);
  RedisWorld w(server, {s});
  OrderReply unpaid = w.order("drop", "alice");
  OrderReply paid = w.order("drop", "bob");
  ASSERT_EQ(w.pay(paid.order.id, "bob").outcome, Outcome::kOk);
  EXPECT_EQ(w.cancels.pending(), 2u);

  w.clock.advance(absl::Seconds(29));
  w.consumer->runOnce(w.clock.now());
  EXPECT_EQ(w.cancels.pending(), 2u);
  EXPECT_EQ(w.stockLeft("drop"), 3);

  w.clock.advance(absl::Seconds(1));
  w.consumer->runOnce(w.clock.now());
  // Completions (and so the acks) arrive on the Redis threads.
  EXPECT_TRUE(eventually([&] { return w.cancels.pending() == 0; }));
  EXPECT_EQ(w.get(unpaid.order.id, "alice").order.state, OrderState::kCancelled);
  EXPECT_EQ(w.get(paid.order.id, "bob").order.state, OrderState::kPaid);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TEST_F(RedisSaleServiceTest, RedeliveredExpiryReturnsTheUnitOnce) {
  SaleSpec s = RedisWorld::spec("drop", 2);
  s.pay_timeout = absl::Seconds(5);
  RedisWorld w(server, {s});
  OrderReply o = w.order("drop", "alice");
  w.clock.advance(absl::Seconds(5));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(w.expire(o.order.id).ok());
  EXPECT_EQ(w.stockLeft("drop"), 2);
  OrderReply again = w.order("drop", "alice");
  ASSERT_EQ(again.outcome, Outcome::kCreated);
  EXPECT_TRUE(w.expire(o.order.id).ok());
  EXPECT_EQ(w.stockLeft("drop"), 1);
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kDuplicate);
}

TEST_F(RedisSaleServiceTest, ExpireBeforeDueIsRefusedSoTheMessageIsRetried) {
  RedisWorld w(server, {RedisWorld::spec("drop", 2)});
  OrderReply o = w.order("drop", "alice");
  absl::Status st = w.expire(o.order.id);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_EQ(w.get(o.order.id, "alice").order.state, OrderState::kPendingPayment);
}

TEST_F(RedisSaleServiceTest, PayRacingCancelLeavesExactlyOneEffective) {
  constexpr int kOrders = 100;
  RedisWorld w(server, {RedisWorld::spec("drop", kOrders)});
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
      if (w.cancel(ids[i], "u" + std::to_string(i)).outcome == Outcome::kOk) ++cancels;
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
