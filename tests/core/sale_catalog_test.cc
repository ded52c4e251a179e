#include "engine/core/sale_catalog.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill {
namespace {

SaleSpec spec(std::string id, int64_t stock, StockStrategy strategy = StockStrategy::kAtomic) {
  SaleSpec s;
  s.id = std::move(id);
  s.name = s.id;
  s.stock = stock;
  s.strategy = strategy;
  return s;
}

TEST(SaleCatalogTest, SalesAddedWhileReadersLookThemUpAreFoundWithoutLocks) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create({spec("a", 1)});
  ASSERT_TRUE(catalog.ok());
  std::atomic<bool> done{false};
  std::atomic<int> missing_a{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        if ((*catalog)->find("a") == nullptr) missing_a.fetch_add(1);
        (void)(*catalog)->find("s50");
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*catalog)->add(spec(absl::StrCat("s", i), i)).ok());
  }
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(missing_a.load(), 0) << "a reader never sees a catalog without an existing sale";
  EXPECT_EQ((*catalog)->size(), 101u);
  ASSERT_NE((*catalog)->find("s99"), nullptr);
  EXPECT_EQ((*catalog)->find("s99")->spec.stock, 99);
  EXPECT_EQ((*catalog)->all().back()->spec.id, "s99") << "in the order added";
}

TEST(SaleCatalogTest, AddRefusesADuplicateAndAnInvalidSpec) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create({spec("a", 1)});
  ASSERT_TRUE(catalog.ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*catalog)->add(spec("a", 5)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*catalog)->add(spec("bad id!", 5)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*catalog)->add(spec("neg", -1)).status()));
  EXPECT_EQ((*catalog)->size(), 1u);
  EXPECT_TRUE(absl::IsInvalidArgument(SaleCatalog::create({spec("x", 1), spec("x", 2)}).status()));
}

TEST(SaleCatalogTest, AnUpdateReplacesTheSpecAndKeepsTheRuntimeState) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create({spec("a", 10)});
  ASSERT_TRUE(catalog.ok());
  std::shared_ptr<const Sale> before = (*catalog)->findShared("a");
  SaleRuntime* runtime = before->runtime;
  runtime->sold_out.set();

  SaleSpec changed = before->spec;
  changed.closes_at = absl::FromUnixSeconds(1'900'000'000);
  changed.stock = 20;
  ASSERT_TRUE((*catalog)->update(changed).ok());

  const Sale* after = (*catalog)->find("a");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->spec.stock, 20);
  EXPECT_EQ(after->spec.closes_at, absl::FromUnixSeconds(1'900'000'000));
  EXPECT_EQ(after->runtime, runtime) << "the same runtime state through spec changes";
  EXPECT_TRUE(after->runtime->sold_out.isSet());
  EXPECT_EQ(before->spec.stock, 10) << "a reader holding the old version keeps it intact";
  EXPECT_TRUE(absl::IsNotFound((*catalog)->update(spec("nope", 1)).status()));
}

TEST(SaleCatalogTest, TheStrategyCannotChangeAndTheGateFollowsTheStock) {
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog =
      SaleCatalog::create({spec("g", 3, StockStrategy::kCounterGate)});
  ASSERT_TRUE(catalog.ok());
  CounterGate* gate = (*catalog)->find("g")->runtime->gate.get();
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->permits(), 3);

  EXPECT_TRUE(absl::IsFailedPrecondition((*catalog)->update(spec("g", 3)).status()));
  ASSERT_TRUE((*catalog)->update(spec("g", 5, StockStrategy::kCounterGate)).ok());
  EXPECT_EQ(gate->permits(), 5);
  ASSERT_TRUE((*catalog)->update(spec("g", 1, StockStrategy::kCounterGate)).ok());
  EXPECT_EQ(gate->permits(), 1);
}

}  // namespace
}  // namespace seckill
