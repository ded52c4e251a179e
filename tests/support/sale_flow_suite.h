#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "engine/core/order.h"
#include "engine/core/sale_service.h"
#include "gtest/gtest.h"

// The sale flows (order, dedup, window, tokens, pay, cancel, expiry) written
// once and run against every store backend. A binary instantiates them with
//   INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SaleFlowTest, MemoryBackend);
// where a Backend is a ::testing::Test (it may own a server) with
//   using World = ...;  // SaleWorld's calls and members, plus the hooks below
//   std::unique_ptr<World> makeWorld(std::vector<SaleSpec> specs);
//   static constexpr int kRacingOrders;  // orders in the pay/cancel race
// and World has
//   static constexpr bool kCompletesInline;  // effects visible when a call returns
//   void expectQueuedForWriter(std::string_view sale, int64_t count);
//   void expectNoDedupKey(std::string_view sale, std::string_view user);
// The hooks check store state that only some backends expose; the others make
// them no-ops. This header depends on the core only, so a memory-only binary
// needs no Redis.

namespace seckill::testing {

// Waits (bounded) until `pred` holds; completions of chained calls such as the
// cancel consumer's acks may arrive on a store's threads.
template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

template <typename Backend>
class SaleFlowTest : public Backend {
 protected:
  using World = typename Backend::World;

  // Builds this test's world; it lives until the end of the test (and is
  // destroyed before the backend, e.g. before a redis-server it talks to).
  World& world(std::vector<SaleSpec> specs) {
    world_ = this->makeWorld(std::move(specs));
    return *world_;
  }

  static SaleSpec spec(std::string id, int64_t stock) { return World::spec(std::move(id), stock); }

  // "drop", sold only against a token that lives one minute.
  static SaleSpec tokenSale(int64_t stock) {
    SaleSpec s = spec("drop", stock);
    s.require_token = true;
    s.token_ttl = absl::Minutes(1);
    return s;
  }

 private:
  std::unique_ptr<World> world_;
};

TYPED_TEST_SUITE_P(SaleFlowTest);

TYPED_TEST_P(SaleFlowTest, OrderCreatesPendingOrderAndTakesOneUnit) {
  auto& w = this->world({this->spec("drop", 3)});
  absl::Time now = w.clock.now();
  OrderReply r = w.order("drop", "alice");
  ASSERT_EQ(r.outcome, Outcome::kCreated);
  EXPECT_FALSE(r.replayed);
  EXPECT_EQ(r.order.sale_id, "drop");
  EXPECT_EQ(r.order.user_id, "alice");
  EXPECT_EQ(r.order.state, OrderState::kPendingPayment);
  EXPECT_EQ(r.order.pay_before, now + absl::Minutes(15));
  // Stores that shard by sale find the order from its id alone.
  EXPECT_EQ(saleOfOrderId(r.order.id), std::optional<std::string_view>("drop"));
  EXPECT_EQ(w.stockLeft("drop"), 2);
  OrderReply got = w.get(r.order.id, "alice");
  ASSERT_EQ(got.outcome, Outcome::kOk);
  EXPECT_EQ(got.order.id, r.order.id);
  EXPECT_EQ(got.order.created_at, r.order.created_at);
  EXPECT_EQ(got.order.pay_before, r.order.pay_before);
  EXPECT_EQ(w.orders.counts().pending_payment, 1);
  // Queued for the batch writer and for the delayed cancel, in the same step.
  w.expectQueuedForWriter("drop", 1);
  EXPECT_EQ(w.cancels.pending(), 1u);
}

TYPED_TEST_P(SaleFlowTest, RepeatFromSameUserIsDuplicateAndDeductsNothing) {
  auto& w = this->world({this->spec("drop", 3)});
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

TYPED_TEST_P(SaleFlowTest, SoldOutAnswersAndLeavesNoKeyBehind) {
  auto& w = this->world({this->spec("drop", 1)});
  OrderReply a = w.order("drop", "alice");
  ASSERT_EQ(a.outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kSoldOut);
  w.expectNoDedupKey("drop", "bob");
  SaleReply info = w.describe("drop");
  EXPECT_EQ(info.state, SaleState::kSoldOut);
  EXPECT_EQ(info.stock_left, 0);
  // Alice cancels: the unit returns and bob (whose sold-out attempt held no
  // key) can buy it.
  ASSERT_EQ(w.cancel(a.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_EQ(w.stockLeft("drop"), 1);
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
}

TYPED_TEST_P(SaleFlowTest, WindowIsEnforced) {
  SaleSpec s = this->spec("drop", 5);
  s.opens_at = absl::FromUnixSeconds(1'800'000'100);
  s.closes_at = absl::FromUnixSeconds(1'800'000'200);
  auto& w = this->world({s});
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

TYPED_TEST_P(SaleFlowTest, UnknownSale) {
  auto& w = this->world({this->spec("drop", 1)});
  EXPECT_EQ(w.order("nope", "alice").outcome, Outcome::kUnknownSale);
  EXPECT_EQ(w.describe("nope").outcome, Outcome::kUnknownSale);
  EXPECT_EQ(w.token("nope", "alice").outcome, Outcome::kUnknownSale);
}

TYPED_TEST_P(SaleFlowTest, RequiredTokenMustBePresentedValidAndUnused) {
  auto& w = this->world({this->tokenSale(5), this->spec("other", 5)});
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

TYPED_TEST_P(SaleFlowTest, ReplayedTokenReturnsTheOriginalAnswerAndNoSecondOrder) {
  auto& w = this->world({this->tokenSale(5)});
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
  // The duplicate is replayed too, naming the order that holds the key.
  OrderReply dup_again = w.order("drop", "alice", t2.token);
  EXPECT_EQ(dup_again.outcome, Outcome::kDuplicate);
  EXPECT_TRUE(dup_again.replayed);
  EXPECT_EQ(dup_again.order.id, first.order.id);
}

TYPED_TEST_P(SaleFlowTest, ExpiredTokenIsInvalid) {
  auto& w = this->world({this->tokenSale(5)});
  TokenReply t = w.token("drop", "alice");
  w.clock.advance(absl::Minutes(1));
  EXPECT_EQ(w.order("drop", "alice", t.token).outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.stockLeft("drop"), 5);
}

TYPED_TEST_P(SaleFlowTest, ReplayAfterCloseStillAnswersTheFirstResult) {
  SaleSpec s = this->tokenSale(5);
  s.closes_at = absl::FromUnixSeconds(1'800'000'010);
  auto& w = this->world({s});
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

TYPED_TEST_P(SaleFlowTest, OptionalTokenStillMakesRepeatsIdempotent) {
  auto& w = this->world({this->spec("drop", 5)});
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  OrderReply again = w.order("drop", "alice", t.token);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.order.id, first.order.id);
}

TYPED_TEST_P(SaleFlowTest, PayMovesPendingToPaidOnce) {
  auto& w = this->world({this->spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  EXPECT_EQ(w.pay(o.order.id, "mallory").outcome, Outcome::kForbidden);
  EXPECT_EQ(w.pay("no-such-order", "alice").outcome, Outcome::kUnknownOrder);
  // Not even the shape of an order id (no sale inside it).
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

TYPED_TEST_P(SaleFlowTest, PayAfterDeadlineExpiresTheOrderAndReturnsTheUnit) {
  auto& w = this->world({this->spec("drop", 5)});
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

TYPED_TEST_P(SaleFlowTest, CancelReturnsTheUnitExactlyOnce) {
  auto& w = this->world({this->spec("drop", 5)});
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

TYPED_TEST_P(SaleFlowTest, CancelConsumerExpiresUnpaidOrdersWhenDue) {
  using World = typename TestFixture::World;
  SaleSpec s = this->spec("drop", 5);
  s.pay_timeout = absl::Seconds(30);
  auto& w = this->world({s});
  OrderReply unpaid = w.order("drop", "alice");
  OrderReply paid = w.order("drop", "bob");
  ASSERT_EQ(w.pay(paid.order.id, "bob").outcome, Outcome::kOk);
  EXPECT_EQ(w.cancels.pending(), 2u);

  w.clock.advance(absl::Seconds(29));
  EXPECT_EQ(w.consumer->runOnce(w.clock.now()), 0u);
  EXPECT_EQ(w.cancels.pending(), 2u);
  EXPECT_EQ(w.stockLeft("drop"), 3);

  w.clock.advance(absl::Seconds(1));
  const size_t acked = w.consumer->runOnce(w.clock.now());
  // Inline completions are acknowledged within runOnce(); networked ones
  // later, on the store's threads.
  if constexpr (World::kCompletesInline) {
    EXPECT_EQ(acked, 2u);
  }
  EXPECT_TRUE(eventually([&] { return w.cancels.pending() == 0; }));
  EXPECT_EQ(w.get(unpaid.order.id, "alice").order.state, OrderState::kCancelled);
  EXPECT_EQ(w.get(paid.order.id, "bob").order.state, OrderState::kPaid);
  EXPECT_EQ(w.stockLeft("drop"), 4);
}

TYPED_TEST_P(SaleFlowTest, RedeliveredExpiryReturnsTheUnitOnce) {
  SaleSpec s = this->spec("drop", 2);
  s.pay_timeout = absl::Seconds(5);
  auto& w = this->world({s});
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

TYPED_TEST_P(SaleFlowTest, ExpireBeforeDueIsRefusedSoTheMessageIsRetried) {
  auto& w = this->world({this->spec("drop", 2)});
  OrderReply o = w.order("drop", "alice");
  absl::Status s = w.expire(o.order.id);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(w.get(o.order.id, "alice").order.state, OrderState::kPendingPayment);
}

TYPED_TEST_P(SaleFlowTest, PayRacingCancelLeavesExactlyOneEffective) {
  constexpr int kOrders = TestFixture::kRacingOrders;
  auto& w = this->world({this->spec("drop", kOrders)});
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

REGISTER_TYPED_TEST_SUITE_P(SaleFlowTest, OrderCreatesPendingOrderAndTakesOneUnit,
                            RepeatFromSameUserIsDuplicateAndDeductsNothing,
                            SoldOutAnswersAndLeavesNoKeyBehind, WindowIsEnforced, UnknownSale,
                            RequiredTokenMustBePresentedValidAndUnused,
                            ReplayedTokenReturnsTheOriginalAnswerAndNoSecondOrder,
                            ExpiredTokenIsInvalid, ReplayAfterCloseStillAnswersTheFirstResult,
                            OptionalTokenStillMakesRepeatsIdempotent, PayMovesPendingToPaidOnce,
                            PayAfterDeadlineExpiresTheOrderAndReturnsTheUnit,
                            CancelReturnsTheUnitExactlyOnce,
                            CancelConsumerExpiresUnpaidOrdersWhenDue,
                            RedeliveredExpiryReturnsTheUnitOnce,
                            ExpireBeforeDueIsRefusedSoTheMessageIsRetried,
                            PayRacingCancelLeavesExactlyOneEffective);

}  // namespace seckill::testing
