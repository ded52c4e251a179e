#include "bench/load/run_checks.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

using ::testing::HasSubstr;

// Fake run data, built up by each test: a sale of `stock` units and the
// answers the run saw.
class RunChecksTest : public ::testing::Test {
 protected:
  RunChecksTest() {
    facts_.stats = &stats_;
    facts_.sale_before = {.id = "s", .stock_total = 10, .stock_left = 10, .state = "open"};
    facts_.sale_after = facts_.sale_before;
    facts_.metrics_before = OrderCounts{};
    facts_.metrics_after = OrderCounts{};
  }

  // An attempt answered `status`; a 201 records an order for `user` (order
  // id `order`, or "o-<n>").
  void answer(int status, std::string user = "", std::string order = "", int64_t second = 0) {
    stats_.addOffered(second);
    stats_.addSent(second);
    stats_.addOutcome(second, classifyStatus(status), 1000);
    if (status == 201) {
      if (order.empty()) order = absl::StrCat("o-", facts_.created.size());
      facts_.created.push_back({.user_id = std::move(user), .order_id = std::move(order)});
    }
  }

  // The engine's side after `n` units were sold (no cancellations).
  void sold(int64_t n) {
    facts_.sale_after.stock_left = facts_.sale_before.stock_left - n;
    facts_.metrics_after->pending_payment = facts_.metrics_before->pending_payment + n;
  }

  const CheckResult& result(std::string_view name) {
    results_ = checkRun(facts_);
    for (const CheckResult& r : results_) {
      if (r.name == name) return r;
    }
    ADD_FAILURE() << "no check " << name;
    return results_.front();
  }

  RunStats stats_;
  RunFacts facts_;
  std::vector<CheckResult> results_;
};

TEST_F(RunChecksTest, AnHonestRunPasses) {
  for (int i = 0; i < 10; ++i) answer(201, absl::StrCat("u", i));
  for (int i = 0; i < 5; ++i) answer(410, absl::StrCat("late", i));
  answer(409, "u0");
  sold(10);
  const std::vector<CheckResult> r = checkRun(facts_);
  EXPECT_TRUE(allPassed(r)) << formatChecks(r);
  EXPECT_EQ(r.size(), 5u);
  EXPECT_THAT(formatChecks(r), HasSubstr("ok    no oversell"));
}

TEST_F(RunChecksTest, MoreCreatedThanSoldIsOversell) {
  for (int i = 0; i < 12; ++i) answer(201, absl::StrCat("u", i));
  sold(10);  // the engine admits to 10 units, but 12 orders were answered 201
  const CheckResult& r = result("no oversell");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("201 orders 12 > sold 10"));
  EXPECT_FALSE(allPassed(results_));
  EXPECT_THAT(formatChecks(results_), HasSubstr("FAIL  no oversell"));
}

TEST_F(RunChecksTest, UnitsCancelledDuringTheRunWereSoldAgain) {
  for (int i = 0; i < 12; ++i) answer(201, absl::StrCat("u", i));
  sold(10);
  facts_.metrics_after->cancelled = 2;  // two abandoned orders expired, their units resold
  EXPECT_TRUE(result("no oversell").ok) << result("no oversell").detail;

  facts_.metrics_after->cancelled = 1;
  EXPECT_FALSE(result("no oversell").ok);
}

TEST_F(RunChecksTest, PaidOrdersMustBeHeldUnits) {
  for (int i = 0; i < 3; ++i) answer(201, absl::StrCat("u", i));
  for (CreatedOrder& o : facts_.created) o.paid = true;
  stats_.side().pays_ok = 3;
  sold(2);
  facts_.metrics_after->cancelled = 5;  // cancellations cannot excuse paid orders
  const CheckResult& r = result("no oversell");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("paid 3 > sold 2"));
}

TEST_F(RunChecksTest, StockOutOfBounds) {
  facts_.sale_after.stock_left = -1;
  EXPECT_THAT(result("stock bounds").detail, HasSubstr("stock_left -1 < 0 after"));
  facts_.sale_after.stock_left = 11;
  EXPECT_THAT(result("stock bounds").detail, HasSubstr("stock_left 11 > stock_total 10"));
  facts_.sale_after = {.id = "s", .stock_total = 20, .stock_left = 10};
  EXPECT_FALSE(result("stock bounds").ok);
  EXPECT_THAT(result("stock bounds").detail, HasSubstr("changed from 10 to 20"));
}

TEST_F(RunChecksTest, TwoLiveOrdersOfOneUserIsAViolation) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a2");
  answer(201, "bob", "b1");
  sold(3);
  facts_.order_states = {{"a1", "pending_payment"}, {"a2", "pending_payment"}};
  const CheckResult& r = result("one order per user");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("user alice: 2 live orders"));
}

TEST_F(RunChecksTest, AReorderAfterACancelIsFine) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a2");
  sold(1);
  facts_.metrics_after->cancelled = 1;
  facts_.order_states = {{"a1", "cancelled"}, {"a2", "pending_payment"}};
  EXPECT_TRUE(result("one order per user").ok) << result("one order per user").detail;
  EXPECT_THAT(
      result("one order per user").detail,
      HasSubstr("1 users with 201s, 1 with more than one order, the earlier ones cancelled"));
  EXPECT_TRUE(allPassed(results_)) << formatChecks(results_);
}

TEST_F(RunChecksTest, TwoPaidOrdersNeedNoLookup) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a2");
  for (CreatedOrder& o : facts_.created) o.paid = true;
  sold(2);
  EXPECT_FALSE(result("one order per user").ok);
}

TEST_F(RunChecksTest, AnUnanswerableLookupCountsAsLive) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a2");
  sold(2);
  facts_.order_states = {{"a1", "cancelled"}, {"a2", std::string(kUnknownOrderState)}};
  EXPECT_TRUE(result("one order per user").ok);
  facts_.order_states = {{"a1", std::string(kUnknownOrderState)}, {"a2", "paid"}};
  EXPECT_FALSE(result("one order per user").ok);
}

TEST_F(RunChecksTest, ATokenReplayIsTheSameOrder) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a1");  // Idempotent-Replayed: the same order again
  sold(1);
  EXPECT_TRUE(allPassed(checkRun(facts_))) << formatChecks(checkRun(facts_));
}

TEST_F(RunChecksTest, UsersOverTheLookupBudgetAreReportedNotFailed) {
  answer(201, "alice", "a1");
  answer(201, "alice", "a2");
  sold(2);
  facts_.lookups_skipped = 2;
  const CheckResult& r = result("one order per user");
  EXPECT_TRUE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("1 users not verified"));
}

TEST_F(RunChecksTest, CountsThatDoNotAddUp) {
  answer(201, "u");
  stats_.addOffered(1);
  stats_.addSent(1);  // sent, but neither answered nor an error
  sold(1);
  const CheckResult& r = result("counts add up");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("second 1: sent 1 != answered 0 + errors 0"));
}

TEST_F(RunChecksTest, SentMoreThanOffered) {
  stats_.addSent(0);
  stats_.addOutcome(0, StatusClass::k410, 5);
  EXPECT_THAT(result("counts add up").detail, HasSubstr("sent 1 > offered 0"));
}

TEST_F(RunChecksTest, EveryCreatedOrderIsRecordedWithItsId) {
  answer(201, "u1");
  answer(201, "u2", "");
  facts_.created.back().order_id.clear();
  sold(2);
  EXPECT_THAT(result("counts add up").detail, HasSubstr("1 201 answers without order_id"));
  facts_.created.pop_back();
  EXPECT_THAT(result("counts add up").detail, HasSubstr("orders recorded 1 != 201 answers 2"));
}

TEST_F(RunChecksTest, MorePaysThanOrders) {
  answer(201, "u1");
  stats_.side().pays_ok = 1;
  stats_.side().pays_failed = 1;
  sold(1);
  facts_.metrics_after->paid = 1;
  EXPECT_THAT(result("counts add up").detail, HasSubstr("pays 1 + failed 1 > 201s 1"));
}

TEST_F(RunChecksTest, TheEngineCountersMustCoverWhatTheRunSaw) {
  for (int i = 0; i < 4; ++i) answer(201, absl::StrCat("u", i));
  stats_.side().pays_ok = 2;
  facts_.sale_after.stock_left = 6;
  facts_.metrics_after = OrderCounts{.pending_payment = 1, .paid = 1};
  const CheckResult& r = result("engine order counts");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("orders grew by 2 < 201 orders seen 4"));
  EXPECT_THAT(r.detail, HasSubstr("paid grew by 1 < pays seen 2"));
}

TEST_F(RunChecksTest, WithoutMetricsTheEngineCountersAreSkipped) {
  answer(201, "u1");
  sold(1);
  facts_.metrics_before.reset();
  facts_.metrics_after.reset();
  const CheckResult& r = result("engine order counts");
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.skipped);
  EXPECT_THAT(formatChecks(results_), HasSubstr("skip  engine order counts"));
  EXPECT_THAT(result("no oversell").detail, HasSubstr("no /metrics"));
}

TEST(OrdersToLookUpTest, OnlyUsersWithSeveralOrdersWithinTheBudget) {
  std::vector<CreatedOrder> created = {
      {.user_id = "solo", .order_id = "s1"},
      {.user_id = "alice", .order_id = "a1"},
      {.user_id = "alice", .order_id = "a2", .paid = true},
      {.user_id = "bob", .order_id = "b1"},
      {.user_id = "bob", .order_id = "b2"},
      {.user_id = "bob", .order_id = "b2"},  // a replay
      {.user_id = "carol", .order_id = "c1", .paid = true},
      {.user_id = "carol", .order_id = "c2", .paid = true},
  };
  size_t skipped = 99;
  std::vector<CreatedOrder> all = ordersToLookUp(created, 100, &skipped);
  std::vector<std::string> ids;
  for (const CreatedOrder& o : all) ids.push_back(o.order_id);
  // alice's paid order is known; carol is a violation already.
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "b1", "b2"}));
  EXPECT_EQ(skipped, 0u);

  std::vector<CreatedOrder> some = ordersToLookUp(created, 2, &skipped);
  ASSERT_EQ(some.size(), 1u);  // alice fits, bob's two do not
  EXPECT_EQ(some[0].order_id, "a1");
  EXPECT_EQ(skipped, 2u);
}

}  // namespace
}  // namespace seckill::load
