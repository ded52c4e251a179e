// The no-oversell contract, run against every stock strategy: N threads x M
// distinct users against stock S never sell more than S, sell exactly S when
// demand exceeds S, and give each user at most one order.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "tests/support/forwarding_sale_store.h"
#include "tests/support/sale_fixture.h"

namespace seckill {
namespace {

using testing::SaleWorld;

class StockStrategyTest : public ::testing::TestWithParam<StockStrategy> {
 protected:
  // Every user keeps trying while answered kBusy (a shopper retrying a 503).
  static OrderReply orderUntilAnswered(SaleWorld& w, const std::string& sale,
                                       const std::string& user) {
    while (true) {
      OrderReply r = w.order(sale, user);
      if (r.outcome != Outcome::kBusy) return r;
      std::this_thread::yield();
    }
  }

  struct Tally {
    std::mutex mu;
    std::vector<Order> created;
    std::atomic<int> sold_out{0}, duplicate{0}, other{0};
  };

  // `threads` threads; thread t orders for users [t*per, (t+1)*per), each user
  // `tries` times.
  static void storm(SaleWorld& w, const std::string& sale, int threads, int per, int tries,
                    Tally& tally) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int k = 0; k < tries; ++k) {
          for (int i = 0; i < per; ++i) {
            std::string user = "u" + std::to_string(t * per + i);
            OrderReply r = orderUntilAnswered(w, sale, user);
            switch (r.outcome) {
              case Outcome::kCreated: {
                std::lock_guard<std::mutex> lock(tally.mu);
                tally.created.push_back(r.order);
                break;
              }
              case Outcome::kSoldOut: ++tally.sold_out; break;
              case Outcome::kDuplicate: ++tally.duplicate; break;
              default: ++tally.other; break;
            }
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }

  static void expectOneOrderPerUser(const std::vector<Order>& orders) {
    std::set<std::string> users, ids;
    for (const Order& o : orders) {
      EXPECT_TRUE(users.insert(o.user_id).second) << "second order for " << o.user_id;
      EXPECT_TRUE(ids.insert(o.id).second) << "order id reused: " << o.id;
    }
  }
};

TEST_P(StockStrategyTest, DemandAboveStockSellsExactlyStock) {
  constexpr int kStock = 500, kThreads = 8, kPerThread = 250;  // 2000 users
  SaleWorld w({SaleWorld::spec("drop", kStock, GetParam())});
  Tally tally;
  storm(w, "drop", kThreads, kPerThread, /*tries=*/1, tally);
  EXPECT_EQ(tally.created.size(), size_t{kStock});
  EXPECT_EQ(tally.sold_out.load(), kThreads * kPerThread - kStock);
  EXPECT_EQ(tally.other.load(), 0);
  EXPECT_EQ(w.stockLeft("drop"), 0);
  EXPECT_EQ(w.orders.counts().pending_payment, kStock);
  expectOneOrderPerUser(tally.created);
}

TEST_P(StockStrategyTest, DemandBelowStockServesEveryone) {
  constexpr int kStock = 5000, kThreads = 4, kPerThread = 300;
  SaleWorld w({SaleWorld::spec("drop", kStock, GetParam())});
  Tally tally;
  storm(w, "drop", kThreads, kPerThread, 1, tally);
  EXPECT_EQ(tally.created.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(w.stockLeft("drop"), kStock - kThreads * kPerThread);
  expectOneOrderPerUser(tally.created);
}

TEST_P(StockStrategyTest, RepeatingUsersGetOneOrderEach) {
  constexpr int kStock = 300, kThreads = 6, kPerThread = 100;  // 600 users, 3 tries each
  SaleWorld w({SaleWorld::spec("drop", kStock, GetParam())});
  Tally tally;
  // Threads overlap users: thread t and t+3 share their user range.
  std::vector<std::thread> pool;
  std::mutex mu;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < 3; ++k) {
        for (int i = 0; i < kPerThread; ++i) {
          std::string user = "u" + std::to_string((t % 3) * kPerThread + i);
          OrderReply r = orderUntilAnswered(w, "drop", user);
          if (r.outcome == Outcome::kCreated) {
            std::lock_guard<std::mutex> lock(mu);
            tally.created.push_back(r.order);
          }
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  // 300 distinct users, stock 300: every user exactly one order.
  EXPECT_EQ(tally.created.size(), size_t{kStock});
  expectOneOrderPerUser(tally.created);
  EXPECT_EQ(w.stockLeft("drop"), 0);
}

TEST_P(StockStrategyTest, ConcurrentCancelsConserveStock) {
  constexpr int kStock = 200;
  SaleWorld w({SaleWorld::spec("drop", kStock, GetParam())});
  std::atomic<bool> done{false};
  std::mutex mu;
  std::vector<Order> created;
  std::atomic<int> cancelled{0};
  std::vector<std::thread> buyers;
  for (int t = 0; t < 4; ++t) {
    buyers.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        std::string user = "b" + std::to_string(t) + "-" + std::to_string(i);
        OrderReply r = orderUntilAnswered(w, "drop", user);
        if (r.outcome == Outcome::kCreated) {
          std::lock_guard<std::mutex> lock(mu);
          created.push_back(r.order);
        }
      }
    });
  }
  std::thread canceller([&] {
    size_t next = 0;
    while (!done.load()) {
      Order o;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= created.size()) {
          continue;
        }
        o = created[next];
        next += 2;  // cancel every other order
      }
      if (w.cancel(o.id, o.user_id).outcome == Outcome::kOk) ++cancelled;
    }
  });
  for (auto& th : buyers) th.join();
  done = true;
  canceller.join();
  OrderCounts c = w.orders.counts();
  EXPECT_EQ(c.cancelled, cancelled.load());
  EXPECT_LE(c.pending_payment, kStock);
  // initial = paid + pending + remaining
  EXPECT_EQ(c.pending_payment + c.paid + w.stockLeft("drop"), kStock);
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, StockStrategyTest,
                         ::testing::Values(StockStrategy::kAtomic, StockStrategy::kFifo,
                                           StockStrategy::kOptimistic,
                                           StockStrategy::kCounterGate),
                         [](const auto& info) {
                           return std::string(stockStrategyName(info.param));
                         });

// A SaleStore decorator that counts the attempts reaching the store.
class CountingStore final : public testing::ForwardingSaleStore {
 public:
  using ForwardingSaleStore::ForwardingSaleStore;
  void attemptOrder(OrderAttempt a, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override {
    ++attempts;
    inner_.attemptOrder(std::move(a), now, std::move(done));
  }
  std::atomic<int> attempts{0};
};

TEST(CounterGateTest, DropsTrafficBeyondStockBeforeTheStore) {
  ManualClock clock;
  OrderIdGenerator ids(7);
  MemoryOrderRepository orders;
  MemoryDelayQueue cancels;
  MemorySaleStore memory(orders, cancels);
  CountingStore store(memory);
  auto catalog = SaleCatalog::create({SaleWorld::spec("drop", 10, StockStrategy::kCounterGate)});
  ASSERT_TRUE(catalog.ok());
  SaleService sales(clock, **catalog, store, ids);
  OrderLifecycle lifecycle(clock, **catalog, store, orders);
  ASSERT_TRUE(sales.registerSales().ok());
  auto order = [&](const std::string& user) {
    return testing::await<OrderReply>(
        [&](Callback<OrderReply> done) { sales.placeOrder("drop", user, "", std::move(done)); });
  };
  std::vector<Order> created;
  for (int i = 0; i < 10; ++i) created.push_back(order("u" + std::to_string(i)).order);
  EXPECT_EQ(store.attempts.load(), 10);
  for (int i = 10; i < 1000; ++i) EXPECT_EQ(order("u" + std::to_string(i)).outcome, Outcome::kSoldOut);
  EXPECT_EQ(store.attempts.load(), 10) << "sold-out traffic reached the store";

  // A duplicate does not keep a permit; a cancel gives one back.
  EXPECT_EQ((*catalog)->find("drop")->runtime->gate->permits(), 0);
  auto cancelled = testing::await<OrderReply>([&](Callback<OrderReply> done) {
    lifecycle.cancel(created[0].id, created[0].user_id, std::move(done));
  });
  ASSERT_EQ(cancelled.outcome, Outcome::kOk);
  EXPECT_EQ((*catalog)->find("drop")->runtime->gate->permits(), 1);
  EXPECT_EQ(order("u1").outcome, Outcome::kDuplicate);
  EXPECT_EQ((*catalog)->find("drop")->runtime->gate->permits(), 1);
  EXPECT_EQ(order("late").outcome, Outcome::kCreated);
  EXPECT_EQ((*catalog)->find("drop")->runtime->gate->permits(), 0);
}

}  // namespace
}  // namespace seckill

namespace seckill {
namespace {

TEST(CounterGateUnitTest, PassesThroughWhileAttemptsAreInFlightAndSettlesExactly) {
  CounterGate gate(1);
  using Entry = CounterGate::Entry;
  Entry a = gate.enter();  // takes the last permit
  EXPECT_EQ(a, Entry::kPermit);
  // No permit left, but `a` may still fail: the next attempt goes to the store.
  Entry b = gate.enter();
  EXPECT_EQ(b, Entry::kPassThrough);
  EXPECT_EQ(gate.holders(), 2);
  // `b` took the unit at the store; `a` turned out a duplicate.
  gate.finish(b, /*created=*/true);
  EXPECT_EQ(gate.permits(), -1);
  gate.finish(a, /*created=*/false);
  EXPECT_EQ(gate.permits(), 0);
  EXPECT_EQ(gate.holders(), 0);
  // Nothing in flight, nothing left: closed, without touching the books.
  EXPECT_EQ(gate.enter(), Entry::kClosed);
  EXPECT_EQ(gate.permits(), 0);
  gate.giveBack();  // a cancelled order
  EXPECT_EQ(gate.enter(), Entry::kPermit);
}

}  // namespace
}  // namespace seckill
