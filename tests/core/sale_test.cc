#include "engine/core/sale.h"

#include <set>
#include <thread>
#include <vector>

#include "engine/core/order.h"
#include "engine/core/outcome.h"
#include "engine/core/sale_catalog.h"
#include "gtest/gtest.h"

namespace seckill {
namespace {

TEST(SaleTest, ParsesEveryStrategyName) {
  for (auto s : {StockStrategy::kAtomic, StockStrategy::kFifo, StockStrategy::kOptimistic,
                 StockStrategy::kCounterGate}) {
    auto parsed = parseStockStrategy(stockStrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = parseStockStrategy("lottery");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lottery"), absl::string_view::npos);
}

TEST(SaleTest, ValidIdShape) {
  EXPECT_TRUE(isValidId("a"));
  EXPECT_TRUE(isValidId("User_01-x"));
  EXPECT_TRUE(isValidId(std::string(64, 'z')));
  EXPECT_FALSE(isValidId(""));
  EXPECT_FALSE(isValidId(std::string(65, 'z')));
  EXPECT_FALSE(isValidId("a b"));
  EXPECT_FALSE(isValidId("a/b"));
  EXPECT_FALSE(isValidId("é"));
}

TEST(SaleTest, ValidateNamesTheProblem) {
  SaleSpec s;
  s.id = "drop";
  s.stock = 1;
  EXPECT_TRUE(s.validate().ok());
  s.stock = -1;
  EXPECT_NE(s.validate().message().find("stock"), absl::string_view::npos);
  s.stock = 1;
  s.pay_timeout = absl::ZeroDuration();
  EXPECT_NE(s.validate().message().find("pay_timeout"), absl::string_view::npos);
  s.pay_timeout = absl::Minutes(1);
  s.opens_at = absl::FromUnixSeconds(100);
  s.closes_at = absl::FromUnixSeconds(100);
  EXPECT_NE(s.validate().message().find("closes_at"), absl::string_view::npos);
  s.closes_at.reset();
  s.id = "bad id";
  EXPECT_FALSE(s.validate().ok());
}

TEST(SaleTest, StateFollowsWindowAndStock) {
  SaleSpec s;
  s.id = "drop";
  s.opens_at = absl::FromUnixSeconds(100);
  s.closes_at = absl::FromUnixSeconds(200);
  EXPECT_EQ(saleStateAt(s, absl::FromUnixSeconds(99), 5), SaleState::kScheduled);
  EXPECT_EQ(saleStateAt(s, absl::FromUnixSeconds(100), 5), SaleState::kOpen);
  EXPECT_EQ(saleStateAt(s, absl::FromUnixSeconds(150), 0), SaleState::kSoldOut);
  EXPECT_EQ(saleStateAt(s, absl::FromUnixSeconds(200), 5), SaleState::kClosed);
  EXPECT_EQ(saleStateName(SaleState::kSoldOut), "sold_out");
}

TEST(SaleCatalogTest, RejectsDuplicateIdsAndInvalidSpecs) {
  SaleSpec a;
  a.id = "drop";
  a.stock = 1;
  auto dup = SaleCatalog::create({a, a});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate"), absl::string_view::npos);
  SaleSpec neg = a;
  neg.stock = -5;
  EXPECT_FALSE(SaleCatalog::create({neg}).ok());
  auto ok = SaleCatalog::create({a});
  ASSERT_TRUE(ok.ok());
  EXPECT_NE((*ok)->find("drop"), nullptr);
  EXPECT_EQ((*ok)->find("nope"), nullptr);
}

TEST(OrderIdGeneratorTest, IdsAreUniqueAcrossThreadsAndNodes) {
  OrderIdGenerator a(1), b(2);
  std::vector<std::vector<std::string>> per(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) per[t].push_back((t % 2 ? a : b).next("drop-1"));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& v : per) {
    for (auto& id : v) {
      EXPECT_TRUE(isValidOrderId(id)) << id;
      EXPECT_EQ(saleOfOrderId(id), "drop-1") << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), 20000u);
}

// Sequence numbers come to a thread in blocks of one generator: a new generator where an old
// one lived counts from 1, and two used in turn on one thread never give the same id.
TEST(OrderIdGeneratorTest, ABlockBelongsToOneGenerator) {
  for (int round = 0; round < 2; ++round) {
    OrderIdGenerator g(5);  // the same stack slot each round
    EXPECT_EQ(g.next("s"), "5-1-s");
    EXPECT_EQ(g.next("s"), "5-2-s");
  }
  OrderIdGenerator a(1), b(2);
  std::set<std::string> of_a, of_b;
  for (int i = 0; i < 100; ++i) {
    of_a.insert(a.next("s"));
    of_b.insert(b.next("s"));
  }
  EXPECT_EQ(of_a.size(), 100u);
  EXPECT_EQ(of_b.size(), 100u);
}

TEST(OrderIdGeneratorTest, SaleOfOrderId) {
  OrderIdGenerator g(99);
  std::string longest = g.next(std::string(64, 's'));
  EXPECT_TRUE(isValidOrderId(longest)) << longest.size();
  EXPECT_EQ(saleOfOrderId(longest), std::string(64, 's'));
  EXPECT_EQ(saleOfOrderId("abc-1-x"), "x");
  EXPECT_EQ(saleOfOrderId("abc-1-"), std::nullopt);
  EXPECT_EQ(saleOfOrderId("abc-1"), std::nullopt);
  EXPECT_EQ(saleOfOrderId("-1-x"), std::nullopt);
  EXPECT_EQ(saleOfOrderId("abc--x"), std::nullopt);
  EXPECT_FALSE(isValidOrderId(""));
  EXPECT_FALSE(isValidOrderId(std::string(101, 'a')));
  EXPECT_FALSE(isValidOrderId("a/b"));
}

TEST(OutcomeTest, HttpMapping) {
  EXPECT_EQ(outcomeHttpStatus(Outcome::kCreated), 201);
  EXPECT_EQ(outcomeHttpStatus(Outcome::kSoldOut), 410);
  EXPECT_EQ(outcomeError(Outcome::kSoldOut), "sold_out");
  EXPECT_EQ(outcomeHttpStatus(Outcome::kDuplicate), 409);
  EXPECT_EQ(outcomeHttpStatus(Outcome::kInvalidToken), 403);
  EXPECT_EQ(outcomeHttpStatus(Outcome::kUnknownSale), 404);
  EXPECT_EQ(outcomeHttpStatus(Outcome::kRateLimited), 429);
  EXPECT_EQ(outcomeHttpStatus(Outcome::kCircuitOpen), 503);
}

}  // namespace
}  // namespace seckill
