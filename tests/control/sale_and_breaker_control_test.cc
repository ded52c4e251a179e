#include <string>
#include <vector>

#include "engine/core/control/breaker_control.h"
#include "engine/core/control/sale_control.h"
#include "engine/store/memory/memory_control_store.h"
#include "engine/store/memory/memory_delay_queue.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/memory_sale_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"

namespace seckill::control {
namespace {

using ratelimit::CircuitBreaker;
using ::testing::HasSubstr;

SaleSpec spec(std::string id, int64_t stock) {
  SaleSpec s;
  s.id = std::move(id);
  s.name = s.id;
  s.stock = stock;
  return s;
}

// One node: its stock store, its catalog, and the control of its sales.
struct SaleNode {
  SaleNode(const Clock& clock, ControlStore& state)
      : stock(orders, cancels),
        control(clock, state, stock, "node", [this](bool, std::string m) { notes.push_back(m); }) {}
  absl::Status start(const std::vector<SaleSpec>& file) {
    absl::StatusOr<std::vector<SaleSpec>> specs = control.merge(file);
    if (!specs.ok()) return specs.status();
    absl::StatusOr<std::unique_ptr<SaleCatalog>> c = SaleCatalog::create(*specs);
    if (!c.ok()) return c.status();
    catalog = *std::move(c);
    for (const auto& s : catalog->all()) {
      if (absl::Status st = stock.addSale(s->spec); !st.ok()) return st;
    }
    return control.start(*catalog, nullptr);
  }
  int64_t left(std::string_view id) {
    return *testing::await<absl::StatusOr<int64_t>>(
        [&](auto done) { stock.stockLeft(id, std::move(done)); });
  }
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore stock;
  std::unique_ptr<SaleCatalog> catalog;
  std::vector<std::string> notes;
  SaleControl control;
};

class SaleControlTest : public ::testing::Test {
 protected:
  Actor alice{.name = "alice", .peer = "p", .source = "api"};
  ManualClock clock;
  MemoryControlStore state;
};

TEST_F(SaleControlTest, ASaleCreatedAtRunTimeIsServedStockedPersistedAndAudited) {
  SaleNode n(clock, state);
  ASSERT_TRUE(n.start({spec("a", 5)}).ok());
  absl::StatusOr<std::shared_ptr<const Sale>> s = n.control.create(spec("b", 7), alice, "flash");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NE(n.catalog->find("b"), nullptr);
  EXPECT_EQ(n.left("b"), 7);
  ASSERT_EQ(state.sales()->size(), 1u);
  EXPECT_EQ(state.sales()->at(0).spec.id, "b");
  EXPECT_EQ(state.audit({})->entries[0].action, "sale.create");
  EXPECT_THAT(state.audit({})->entries[0].detail, HasSubstr("stock 7"));
  EXPECT_TRUE(absl::IsAlreadyExists(n.control.create(spec("b", 1), alice, "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(n.control.create(spec("bad id", 1), alice, "").status()));
}

TEST_F(SaleControlTest, StockMovesUpAndDownButNeverBelowWhatIsSold) {
  SaleNode n(clock, state);
  ASSERT_TRUE(n.start({spec("a", 5)}).ok());
  OrderAttempt a;
  a.order.id = "o1-a";
  a.order.sale_id = "a";
  a.order.user_id = "u1";
  a.order.pay_before = clock.now() + absl::Minutes(5);
  a.dedup_ttl = absl::Minutes(5);
  for (int i = 0; i < 3; ++i) {
    a.order.id = "o" + std::to_string(i) + "-a";
    a.order.user_id = "u" + std::to_string(i);
    ASSERT_EQ(testing::await<absl::StatusOr<AttemptResult>>([&](auto done) {
                n.stock.attemptOrder(a, clock.now(), std::move(done));
              })->outcome,
              AttemptOutcome::kCreated);
  }
  // 3 sold, 2 left.
  absl::StatusOr<std::shared_ptr<const Sale>> up =
      n.control.adjustStock("a", {StockChange::Kind::kDelta, 10}, alice, "");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ((*up)->spec.stock, 15);
  EXPECT_EQ(n.left("a"), 12);
  absl::StatusOr<std::shared_ptr<const Sale>> below =
      n.control.adjustStock("a", {StockChange::Kind::kSetTotal, 2}, alice, "");
  ASSERT_TRUE(absl::IsFailedPrecondition(below.status()));
  EXPECT_THAT(below.status().message(), HasSubstr("below the 3 units already sold"));
  EXPECT_EQ(n.left("a"), 12) << "nothing changed";
  ASSERT_TRUE(n.control.adjustStock("a", {StockChange::Kind::kSetTotal, 3}, alice, "").ok());
  EXPECT_EQ(n.left("a"), 0);
  EXPECT_EQ(n.catalog->find("a")->spec.stock, 3);
  EXPECT_THAT(state.audit({})->entries[0].detail, HasSubstr("stock 15 -> 3 (0 left)"));
}

TEST_F(SaleControlTest, ARestockReopensASaleFlaggedSoldOut) {
  SaleNode n(clock, state);
  ASSERT_TRUE(n.start({spec("a", 0)}).ok());
  n.catalog->find("a")->runtime->sold_out.set();
  ASSERT_TRUE(n.control.adjustStock("a", {StockChange::Kind::kDelta, 5}, alice, "").ok());
  EXPECT_FALSE(n.catalog->find("a")->runtime->sold_out.isSet());
}

TEST_F(SaleControlTest, OpenAndCloseMoveTheWindow) {
  SaleNode n(clock, state);
  SaleSpec later = spec("a", 5);
  later.opens_at = clock.now() + absl::Hours(1);
  ASSERT_TRUE(n.start({later}).ok());
  absl::StatusOr<std::shared_ptr<const Sale>> opened = n.control.open("a", alice, "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(saleStateAt((*opened)->spec, clock.now(), 5), SaleState::kOpen);
  clock.advance(absl::Seconds(10));
  absl::StatusOr<std::shared_ptr<const Sale>> closed = n.control.close("a", alice, "");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(saleStateAt((*closed)->spec, clock.now(), 5), SaleState::kClosed);
  EXPECT_EQ(saleStateAt(n.catalog->find("a")->spec, clock.now(), 5), SaleState::kClosed);
  clock.advance(absl::Seconds(10));
  ASSERT_TRUE(n.control.open("a", alice, "").ok());
  EXPECT_EQ(saleStateAt(n.catalog->find("a")->spec, clock.now(), 5), SaleState::kOpen);
  EXPECT_TRUE(absl::IsNotFound(n.control.close("zz", alice, "").status()));
}

TEST_F(SaleControlTest, OnRestartTheStateWinsUntilTheFileChanges) {
  {
    SaleNode n(clock, state);
    ASSERT_TRUE(n.start({spec("a", 5)}).ok());
    ASSERT_TRUE(n.control.adjustStock("a", {StockChange::Kind::kSetTotal, 50}, alice, "").ok());
    ASSERT_TRUE(n.control.create(spec("api-made", 9), alice, "").ok());
  }
  {
    SaleNode n(clock, state);
    absl::StatusOr<std::vector<SaleSpec>> merged = n.control.merge({spec("a", 5)});
    ASSERT_TRUE(merged.ok());
    ASSERT_EQ(merged->size(), 2u);
    EXPECT_EQ((*merged)[0].stock, 50) << "the API's change, the file being unchanged";
    EXPECT_EQ((*merged)[1].id, "api-made");
  }
  SaleNode n(clock, state);
  absl::StatusOr<std::vector<SaleSpec>> merged = n.control.merge({spec("a", 8)});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)[0].stock, 8) << "the file changed since: it wins";
  EXPECT_THAT(n.notes.back(), HasSubstr("created through the admin API"));
}

TEST_F(SaleControlTest, AnotherNodeServesASaleCreatedOnOne) {
  SaleNode a(clock, state);
  SaleNode b(clock, state);
  ASSERT_TRUE(a.start({spec("x", 1)}).ok());
  ASSERT_TRUE(b.start({spec("x", 1)}).ok());
  ASSERT_TRUE(a.control.create(spec("new", 4), alice, "").ok());
  ASSERT_TRUE(a.control.close("x", alice, "").ok());
  ASSERT_TRUE(b.control.follow().ok());
  ASSERT_NE(b.catalog->find("new"), nullptr);
  EXPECT_EQ(b.left("new"), 4);
  EXPECT_TRUE(b.catalog->find("x")->spec.closes_at.has_value());
}

struct Breakers {
  Breakers() {
    stock = *CircuitBreaker::create("stock_store", {});
    orders = *CircuitBreaker::create("order_store", {});
  }
  std::unique_ptr<CircuitBreaker> stock;
  std::unique_ptr<CircuitBreaker> orders;
};

TEST(BreakerControlTest, AForcedModeIsPersistedAuditedAndKeptOverAnUnchangedFile) {
  ManualClock clock;
  MemoryControlStore state;
  const Actor bob{.name = "bob", .peer = "p", .source = "api"};
  {
    Breakers b;
    BreakerControl c(clock, state, {b.stock.get(), b.orders.get()}, "n");
    ASSERT_TRUE(c.start(CircuitBreaker::Mode::kNormal).ok());
    ASSERT_TRUE(c.setMode("stock_store", CircuitBreaker::Mode::kForcedOpen, bob, "db upgrade").ok());
    EXPECT_EQ(b.stock->state(), CircuitBreaker::State::kForcedOpen);
    EXPECT_FALSE(b.stock->allow(clock.now()));
    EXPECT_TRUE(absl::IsNotFound(c.setMode("nope", CircuitBreaker::Mode::kNormal, bob, "").status()));
    absl::StatusOr<AuditPage> audit = state.audit({});
    EXPECT_EQ(audit->entries[0].action, "breaker.mode");
    EXPECT_EQ(audit->entries[0].detail, "normal -> forced_open: db upgrade");
  }
  {
    Breakers b;
    BreakerControl c(clock, state, {b.stock.get(), b.orders.get()}, "n");
    ASSERT_TRUE(c.start(CircuitBreaker::Mode::kNormal).ok());
    EXPECT_EQ(b.stock->mode(), CircuitBreaker::Mode::kForcedOpen) << "kept through a restart";
    EXPECT_EQ(b.orders->mode(), CircuitBreaker::Mode::kNormal);
  }
  Breakers b;
  BreakerControl c(clock, state, {b.stock.get(), b.orders.get()}, "n");
  ASSERT_TRUE(c.start(CircuitBreaker::Mode::kMetricsOnly).ok());
  EXPECT_EQ(b.stock->mode(), CircuitBreaker::Mode::kMetricsOnly) << "the file changed: it wins";
}

TEST(BreakerControlTest, AnotherNodeFollowsAForcedMode) {
  ManualClock clock;
  MemoryControlStore state;
  Breakers one;
  Breakers two;
  BreakerControl a(clock, state, {one.stock.get(), one.orders.get()}, "a");
  BreakerControl b(clock, state, {two.stock.get(), two.orders.get()}, "b");
  ASSERT_TRUE(a.start(CircuitBreaker::Mode::kNormal).ok());
  ASSERT_TRUE(b.start(CircuitBreaker::Mode::kNormal).ok());
  ASSERT_TRUE(a.setMode("order_store", CircuitBreaker::Mode::kDisabled, {}, "").ok());
  ASSERT_TRUE(b.follow().ok());
  EXPECT_EQ(two.orders->mode(), CircuitBreaker::Mode::kDisabled);
}

}  // namespace
}  // namespace seckill::control
