#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/store/redis/redis_reply_util.h"
#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"
#include "tests/support/sale_flow_suite.h"

namespace seckill {
namespace {

using testing::await;
using testing::RedisTest;
using testing::RedisWorld;

using RedisStoreTest = RedisTest;

// Threads x users against a small stock: exactly `stock` orders, one per user.
class RedisNoOversellTest : public RedisTest,
                            public ::testing::WithParamInterface<StockStrategy> {};

TEST_P(RedisNoOversellTest, ExactlyStockSoldAndOneOrderPerUser) {
  constexpr int kStock = 60, kUsers = 300, kThreads = 6;
  RedisWorld w(server, {RedisWorld::spec("drop", kStock, GetParam())});
  std::mutex mu;
  std::map<std::string, int> created_per_user;
  std::atomic<int> created{0}, unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every user tries twice, from two different threads.
      for (int round = 0; round < 2; ++round) {
        for (int u = (t + round) % kThreads; u < kUsers; u += kThreads) {
          std::string user = "u" + std::to_string(u);
          OrderReply r = w.order("drop", user);
          if (r.outcome == Outcome::kUnavailable) ++unavailable;
          if (r.outcome != Outcome::kCreated) continue;
          ++created;
          std::lock_guard<std::mutex> lock(mu);
          ++created_per_user[user];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unavailable.load(), 0);
  EXPECT_EQ(created.load(), kStock);
  EXPECT_EQ(created_per_user.size(), static_cast<size_t>(kStock));
  for (const auto& [user, n] : created_per_user) EXPECT_EQ(n, 1) << user;
  EXPECT_EQ(w.stockLeft("drop"), 0);
  EXPECT_EQ(w.orders.counts().pending_payment, kStock);
  EXPECT_EQ(*server.query({"XLEN", redis_keys::orderStream("drop")}), std::to_string(kStock));
  EXPECT_EQ(w.cancels.pending(), static_cast<size_t>(kStock));
}

INSTANTIATE_TEST_SUITE_P(Strategies, RedisNoOversellTest,
                         ::testing::Values(StockStrategy::kAtomic, StockStrategy::kCounterGate,
                                           StockStrategy::kOptimistic, StockStrategy::kFifo),
                         [](const auto& info) { return std::string(stockStrategyName(info.param)); });

// Two engines on one Redis: their attempts on the same sale race across
// connections, so the optimistic path meets real WATCH conflicts.
TEST_F(RedisStoreTest, TwoEnginesNeverOversellTogether) {
  for (StockStrategy strategy : {StockStrategy::kOptimistic, StockStrategy::kAtomic}) {
    SCOPED_TRACE(std::string(stockStrategyName(strategy)));
    std::string sale = "drop_" + std::string(stockStrategyName(strategy));
    constexpr int kStock = 40, kUsers = 200, kThreadsPerEngine = 3;
    RedisWorld a(server, {RedisWorld::spec(sale, kStock, strategy)});
    RedisWorld b(server, {RedisWorld::spec(sale, kStock, strategy)});
    std::mutex mu;
    std::map<std::string, int> per_user;
    std::atomic<int> created{0}, busy{0}, other_errors{0};
    std::vector<std::thread> threads;
    for (RedisWorld* w : {&a, &b}) {
      for (int t = 0; t < kThreadsPerEngine; ++t) {
        threads.emplace_back([&, w, t] {
          for (int u = t; u < kUsers; u += kThreadsPerEngine) {
            std::string user = "u" + std::to_string(u);
            OrderReply r = w->order(sale, user);
            if (r.outcome == Outcome::kBusy) ++busy;
            if (r.outcome == Outcome::kUnavailable) ++other_errors;
            if (r.outcome != Outcome::kCreated) continue;
            ++created;
            std::lock_guard<std::mutex> lock(mu);
            ++per_user[user];
          }
        });
      }
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(other_errors.load(), 0);
    EXPECT_LE(created.load(), kStock);
    EXPECT_EQ(created.load() + a.stockLeft(sale), kStock);
    for (const auto& [user, n] : per_user) EXPECT_EQ(n, 1) << user;
    EXPECT_EQ(*server.query({"XLEN", redis_keys::orderStream(sale)}),
              std::to_string(created.load()));
  }
}

TEST_F(RedisStoreTest, OptimisticPathAnswersLikeTheScript) {
  SaleSpec s = RedisWorld::spec("drop", 2, StockStrategy::kOptimistic);
  s.require_token = true;
  s.closes_at = absl::FromUnixSeconds(1'800'000'100);
  RedisWorld w(server, {s});
  EXPECT_EQ(w.order("drop", "alice").outcome, Outcome::kInvalidToken);
  EXPECT_EQ(w.order("drop", "alice", "bogus").outcome, Outcome::kInvalidToken);
  TokenReply bobs = w.token("drop", "bob");
  EXPECT_EQ(w.order("drop", "alice", bobs.token).outcome, Outcome::kInvalidToken);
  TokenReply t = w.token("drop", "alice");
  OrderReply first = w.order("drop", "alice", t.token);
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  OrderReply replay = w.order("drop", "alice", t.token);
  EXPECT_EQ(replay.outcome, Outcome::kCreated);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.order.id, first.order.id);
  EXPECT_EQ(replay.order.pay_before, first.order.pay_before);
  TokenReply t2 = w.token("drop", "alice");
  OrderReply dup = w.order("drop", "alice", t2.token);
  EXPECT_EQ(dup.outcome, Outcome::kDuplicate);
  EXPECT_EQ(dup.order.id, first.order.id);
  EXPECT_EQ(w.order("drop", "bob", bobs.token).outcome, Outcome::kCreated);
  TokenReply carols = w.token("drop", "carol");
  EXPECT_EQ(w.order("drop", "carol", carols.token).outcome, Outcome::kSoldOut);
  EXPECT_EQ(w.stockLeft("drop"), 0);
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::buyers("drop"), "carol"}), "0");
  // The order is readable and cancellable like any other.
  ASSERT_EQ(w.cancel(first.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_EQ(w.stockLeft("drop"), 1);
  w.clock.set(absl::FromUnixSeconds(1'800'000'100));
  TokenReply late = w.token("drop", "dave");
  EXPECT_EQ(late.outcome, Outcome::kSaleNotOpen);
  EXPECT_TRUE(w.order("drop", "alice", t.token).replayed);
}

TEST_F(RedisStoreTest, OptimisticConflictIsRetriedAndBoundedByBusy) {
  testing::RedisServer& srv = server;
  std::atomic<int> meddle{1};  // conflicting writes still to make
  RedisClient client(testing::clientOptionsFor(srv));
  RedisSaleStore::Options options;
  options.optimistic_retries = 3;
  options.before_optimistic_write = [&] {
    if (meddle.load() > 0) {
      --meddle;
      // Another engine touches the stock between our read and our EXEC.
      (void)srv.query({"INCRBY", redis_keys::stock("drop"), "0"});
    }
  };
  RedisSaleStore store(client, options);
  ASSERT_TRUE(store.addSale(RedisWorld::spec("drop", 5, StockStrategy::kOptimistic)).ok());
  auto attempt = [&](std::string user, int n) {
    OrderAttempt a;
    a.order.id = "n1-" + std::to_string(n) + "-drop";
    a.order.sale_id = "drop";
    a.order.user_id = std::move(user);
    a.dedup_ttl = absl::Minutes(5);
    return await<absl::StatusOr<AttemptResult>>(
        [&](Callback<absl::StatusOr<AttemptResult>> done) {
          store.attemptOrder(std::move(a), absl::FromUnixSeconds(1'800'000'000), std::move(done));
        });
  };
  auto first = attempt("alice", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(store.optimisticConflicts(), 1u);
  // Conflicts on every try: the attempt gives up as busy and takes nothing.
  meddle = 100;
  auto second = attempt("bob", 2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->outcome, AttemptOutcome::kBusy);
  EXPECT_EQ(store.optimisticConflicts(), 4u);
  EXPECT_EQ(*srv.query({"GET", redis_keys::stock("drop")}), "4");
  EXPECT_EQ(*srv.query({"HEXISTS", redis_keys::buyers("drop"), "bob"}), "0");
  client.shutdown();
}

// Calls per command since the last CONFIG RESETSTAT, without the bookkeeping.
std::map<std::string, long> callsSinceReset(const testing::RedisServer& server) {
  std::map<std::string, long> out;
  for (auto& [cmd, n] : server.commandCalls()) {
    if (cmd == "info" || cmd.rfind("config", 0) == 0) continue;
    out[cmd] = n;
  }
  return out;
}

TEST_F(RedisStoreTest, AnOrderAttemptIsOneRoundTrip) {
  SaleSpec token_sale = RedisWorld::spec("tok", 5);
  token_sale.require_token = true;
  RedisWorld w(server, {RedisWorld::spec("drop", 3), token_sale});
  TokenReply t = w.token("tok", "alice");
  ASSERT_EQ(t.outcome, Outcome::kOk);
  ASSERT_EQ(*server.query({"CONFIG", "RESETSTAT"}), "OK");
  uint64_t sent_before = w.client->commandsSent();
  constexpr int kAttempts = 7;
  // Created, duplicate, sold out, token use and token replay alike.
  EXPECT_EQ(w.order("drop", "u0").outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "u0").outcome, Outcome::kDuplicate);
  EXPECT_EQ(w.order("drop", "u1").outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "u2").outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "u3").outcome, Outcome::kSoldOut);
  EXPECT_EQ(w.order("tok", "alice", t.token).outcome, Outcome::kCreated);
  EXPECT_TRUE(w.order("tok", "alice", t.token).replayed);
  // The client wrote exactly one command per attempt, and Redis ran exactly
  // that many EVALSHA (the other commandstats entries are the scripts' own calls).
  EXPECT_EQ(w.client->commandsSent() - sent_before, static_cast<uint64_t>(kAttempts));
  std::map<std::string, long> calls = callsSinceReset(server);
  EXPECT_EQ(calls["evalsha"], kAttempts);
  EXPECT_EQ(calls.count("script|load"), 0u);
  EXPECT_EQ(calls.count("eval"), 0u);
  // After the sell-out, the local flag answers: no round trip at all.
  const uint64_t sent_at_sell_out = w.client->commandsSent();
  for (int i = 4; i < 20; ++i) {
    EXPECT_EQ(w.order("drop", "u" + std::to_string(i)).outcome, Outcome::kSoldOut);
  }
  EXPECT_EQ(w.order("drop", "u0").outcome, Outcome::kSoldOut);  // even a holder's retry
  EXPECT_EQ(w.client->commandsSent(), sent_at_sell_out);
}

// An attempt on `sale` by `user`, as SaleService prepares it at kT0.
constexpr absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
OrderAttempt attemptOf(std::string_view sale, std::string_view user, std::string token = {}) {
  static std::atomic<int> next_id{0};
  OrderAttempt a;
  a.order.id = std::string(sale) + "-" + std::to_string(next_id++);
  a.order.sale_id = std::string(sale);
  a.order.user_id = std::string(user);
  a.order.state = OrderState::kPendingPayment;
  a.order.created_at = a.order.updated_at = kT0;
  a.order.pay_before = kT0 + absl::Minutes(15);
  a.token = std::move(token);
  a.require_token = !a.token.empty();
  a.dedup_ttl = absl::Minutes(5);
  return a;
}

// Submits every attempt without waiting for any, then waits for all the
// answers; they come back in submission order.
std::vector<absl::StatusOr<AttemptResult>> attemptAll(RedisSaleStore& store,
                                                      const std::vector<OrderAttempt>& attempts) {
  std::vector<std::future<absl::StatusOr<AttemptResult>>> futures;
  for (const OrderAttempt& a : attempts) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<AttemptResult>>>();
    futures.push_back(promise->get_future());
    store.attemptOrder(a, kT0, [promise](absl::StatusOr<AttemptResult> r) {
      promise->set_value(std::move(r));
    });
  }
  std::vector<absl::StatusOr<AttemptResult>> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

// Group commit: while Redis holds a sale's call (CLIENT PAUSE), the attempts
// that arrive wait and go together, at most max_group per call, and each one
// is answered exactly as if it had run alone, in arrival order.
TEST_F(RedisStoreTest, AttemptsWaitingForTheSalesCallGoTogetherInArrivalOrder) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore::Options options;
  options.max_group = 4;
  RedisSaleStore store(client, options);
  SaleSpec drop = RedisWorld::spec("drop", 5);
  SaleSpec tok = RedisWorld::spec("tok", 5);
  tok.require_token = true;
  ASSERT_TRUE(store.addSale(drop).ok());
  ASSERT_TRUE(store.addSale(tok).ok());
  auto token = [&](std::string_view user) {
    return *testing::await<absl::StatusOr<std::string>>([&](auto done) {
      store.issueToken("tok", user, kT0 + absl::Hours(1), std::move(done));
    });
  };
  const std::string t_alice = token("alice"), t_bob = token("bob");

  std::vector<OrderAttempt> attempts = {
      attemptOf("drop", "u0"),        // 0: created, alone (the pause holds it)
      attemptOf("drop", "u1"),        // 1: created  -- group 2: 1..4
      attemptOf("drop", "u0"),        // 2: duplicate of 0
      attemptOf("drop", "u1"),        // 3: duplicate of 1, same group
      attemptOf("drop", "u2"),        // 4: created
      attemptOf("drop", "u3"),        // 5: created  -- group 3: 5..8
      attemptOf("drop", "u4"),        // 6: created (the last unit)
      attemptOf("drop", "u5"),        // 7: sold out
      attemptOf("drop", "u4"),        // 8: duplicate, not sold out: the key is older
      attemptOf("tok", "alice", t_alice),  // 9: other sale: its own groups; alone
      attemptOf("tok", "alice", t_alice),  // 10: replay of the first use -- group 2: 10..13
      attemptOf("tok", "bob", t_alice),    // 11: another's token
      attemptOf("tok", "bob", t_bob),      // 12: created
      attemptOf("tok", "bob", t_bob),      // 13: replay of 12, within the same group
      attemptOf("tok", "bob"),             // 14: none presented -- group 3
  };
  attempts[14].require_token = true;
  attempts[6].order.pay_before += absl::Minutes(1);  // the latest of its group
  ASSERT_EQ(*server.query({"CONFIG", "RESETSTAT"}), "OK");
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  std::vector<absl::StatusOr<AttemptResult>> r = attemptAll(store, attempts);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_TRUE(r[i].ok()) << i << ": " << r[i].status();

  using O = AttemptOutcome;
  const std::vector<O> want = {O::kCreated,  O::kCreated,   O::kDuplicate,    O::kDuplicate,
                               O::kCreated,  O::kCreated,   O::kCreated,      O::kSoldOut,
                               O::kDuplicate, O::kCreated,  O::kCreated,      O::kInvalidToken,
                               O::kCreated,   O::kCreated,   O::kInvalidToken};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r[i]->outcome, want[i]) << "attempt " << i;
  EXPECT_EQ(r[0]->order.id, attempts[0].order.id);
  EXPECT_EQ(r[2]->order.id, attempts[0].order.id);  // the holder's order
  EXPECT_EQ(r[3]->order.id, attempts[1].order.id);
  EXPECT_EQ(r[8]->order.id, attempts[6].order.id);
  EXPECT_FALSE(r[9]->replayed);
  EXPECT_TRUE(r[10]->replayed);
  EXPECT_EQ(r[10]->order.id, attempts[9].order.id);
  EXPECT_EQ(r[10]->order.pay_before, attempts[9].order.pay_before);

  EXPECT_FALSE(r[12]->replayed);
  EXPECT_TRUE(r[13]->replayed);
  EXPECT_EQ(r[13]->order.id, attempts[12].order.id);
  EXPECT_EQ(r[13]->order.pay_before, attempts[12].order.pay_before);

  // drop: groups of 1, 4, 4; tok: 1, 4, 1. One EVALSHA per group.
  EXPECT_EQ(store.attemptGroups(), 6u);
  EXPECT_EQ(store.attemptsGrouped(), attempts.size());
  EXPECT_EQ(callsSinceReset(server)["evalsha"], 6);

  // What the groups wrote is what five single attempts write: stock, orders,
  // stream entries, delayed cancels, counts; no key left by the sold-out one.
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "0");
  EXPECT_EQ(*server.query({"XLEN", redis_keys::orderStream("drop")}), "5");
  EXPECT_EQ(*server.query({"ZCARD", redis_keys::cancels("drop")}), "3");  // one per group
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "cancel_queue"}), "5");
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "pending"}), "5");
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::buyers("drop"), "u5"}), "0");
  EXPECT_EQ(*server.query({"HGET", redis_keys::buyers("drop"), "u4"}), attempts[6].order.id);
  absl::StatusOr<std::string> record =
      server.query({"HGET", redis_keys::orderRecords("drop"), attempts[6].order.id});
  ASSERT_TRUE(record.ok()) << record.status();
  absl::StatusOr<Order> stored =
      redis_internal::parseOrderRecord("drop", attempts[6].order.id, *record);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->user_id, "u4");
  EXPECT_EQ(stored->state, OrderState::kPendingPayment);
  EXPECT_EQ(stored->pay_before, attempts[6].order.pay_before);
  EXPECT_EQ(*server.query({"ZSCORE", redis_keys::cancels("drop"),
                           attempts[5].order.id + " " + attempts[6].order.id}),
            std::to_string(toRedisMicros(attempts[6].order.pay_before)));
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("tok")}), "3");
  client.shutdown();
}

// A group runs at one instant in Redis, so its tokens are judged at its latest arrival: a
// token still valid when its attempt arrived, but expired when a later attempt of the same
// group arrived, is invalid; the same token alone, judged at its own arrival, is not.
TEST_F(RedisStoreTest, AGroupsTokensAreJudgedAtItsLatestArrival) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore store(client, RedisSaleStore::Options{});
  SaleSpec late = RedisWorld::spec("late", 5);
  late.require_token = true;
  ASSERT_TRUE(store.addSale(late).ok());
  auto token = [&](std::string_view user, absl::Time expires) {
    return *testing::await<absl::StatusOr<std::string>>(
        [&](auto done) { store.issueToken("late", user, expires, std::move(done)); });
  };
  const std::string t_carol = token("carol", kT0 + absl::Hours(1));
  const std::string t_alice = token("alice", kT0 + absl::Milliseconds(10));
  const std::string t_bob = token("bob", kT0 + absl::Hours(1));
  const std::string t_dave = token("dave", kT0 + absl::Milliseconds(10));

  auto send = [&](OrderAttempt a, absl::Time now) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<AttemptResult>>>();
    std::future<absl::StatusOr<AttemptResult>> f = promise->get_future();
    store.attemptOrder(std::move(a), now, [promise](absl::StatusOr<AttemptResult> r) {
      promise->set_value(std::move(r));
    });
    return f;
  };
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  auto carol = send(attemptOf("late", "carol", t_carol), kT0);  // alone: the pause holds it
  // These two wait for carol's call and go together, judged at bob's arrival.
  auto alice = send(attemptOf("late", "alice", t_alice), kT0 + absl::Milliseconds(5));
  auto bob = send(attemptOf("late", "bob", t_bob), kT0 + absl::Milliseconds(20));
  absl::StatusOr<AttemptResult> r_carol = carol.get(), r_alice = alice.get(), r_bob = bob.get();
  ASSERT_TRUE(r_carol.ok() && r_alice.ok() && r_bob.ok());
  EXPECT_EQ(r_carol->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(r_alice->outcome, AttemptOutcome::kInvalidToken);
  EXPECT_EQ(r_bob->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(store.attemptGroups(), 2u);

  // Alone, at the same arrival as alice's, the same kind of token is valid.
  absl::StatusOr<AttemptResult> r_dave =
      send(attemptOf("late", "dave", t_dave), kT0 + absl::Milliseconds(5)).get();
  ASSERT_TRUE(r_dave.ok()) << r_dave.status();
  EXPECT_EQ(r_dave->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("late")}), "2");
  client.shutdown();
}

// A group's token keys are only those of the attempts that present a token, in their order:
// attempts with and without one, mixed in one group, each read and mark their own token; a
// closed window answers "not open" whatever the token.
TEST_F(RedisStoreTest, AGroupMixingAttemptsWithAndWithoutATokenTakesEachItsOwnTokenKey) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore::Options options;
  options.max_group = 4;
  RedisSaleStore store(client, options);
  ASSERT_TRUE(store.addSale(RedisWorld::spec("mix", 10)).ok());
  auto token = [&](std::string_view user) {
    return *testing::await<absl::StatusOr<std::string>>([&](auto done) {
      store.issueToken("mix", user, kT0 + absl::Hours(1), std::move(done));
    });
  };
  const std::string t_b = token("b"), t_d = token("d"), t_e = token("e");
  std::vector<OrderAttempt> attempts = {
      attemptOf("mix", "a"),       // 0: alone (the pause holds it)
      attemptOf("mix", "b0"),      // 1: no token -- group 2: 1..4
      attemptOf("mix", "b", t_b),  // 2: b's token
      attemptOf("mix", "c0"),      // 3: no token
      attemptOf("mix", "d", t_d),  // 4: d's token
      attemptOf("mix", "e", t_e),  // 5: e's token, window closed -- group 3: 5..7
      attemptOf("mix", "d", t_d),  // 6: replay of 4
      attemptOf("mix", "b", t_b),  // 7: replay of 2
  };
  attempts[5].window_open = false;
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  std::vector<absl::StatusOr<AttemptResult>> r = attemptAll(store, attempts);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_TRUE(r[i].ok()) << i << ": " << r[i].status();
  using O = AttemptOutcome;
  const std::vector<O> want = {O::kCreated, O::kCreated,     O::kCreated, O::kCreated,
                               O::kCreated, O::kSaleNotOpen, O::kCreated, O::kCreated};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r[i]->outcome, want[i]) << "attempt " << i;
  EXPECT_FALSE(r[2]->replayed);
  EXPECT_FALSE(r[4]->replayed);
  EXPECT_TRUE(r[6]->replayed);
  EXPECT_EQ(r[6]->order.id, attempts[4].order.id);
  EXPECT_TRUE(r[7]->replayed);
  EXPECT_EQ(r[7]->order.id, attempts[2].order.id);
  EXPECT_EQ(store.attemptGroups(), 3u);
  // Each token hash holds its own attempt's answer; e's is still fresh.
  EXPECT_EQ(*server.query({"HGET", redis_keys::token("mix", t_b), "r_oid"}), attempts[2].order.id);
  EXPECT_EQ(*server.query({"HGET", redis_keys::token("mix", t_d), "r_oid"}), attempts[4].order.id);
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::token("mix", t_e), "r_oid"}), "0");
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("mix")}), "5");
  client.shutdown();
}

// Keys of the wrong type (written by hand) make single commands fail, and Redis
// keeps what a script wrote before an error: an error midway through a group
// could leave orders whose units were never taken. So every per-sale key a
// group writes is checked before its first write, and a wrong one fails the
// whole group with nothing written; a token hash that is not a valid token
// only makes its own attempt an invalid token.
TEST_F(RedisStoreTest, AKeyOfTheWrongTypeFailsItsGroupBeforeAnythingIsWritten) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore store(client);
  ASSERT_TRUE(store.addSale(RedisWorld::spec("drop", 5)).ok());
  std::vector<OrderAttempt> attempts = {
      attemptOf("drop", "u0"),        // alone: the pause holds it
      attemptOf("drop", "u1"),
      attemptOf("drop", "u2", "tk"),  // its token hash has no expiry
      attemptOf("drop", "u3"),
  };
  ASSERT_EQ(*server.query({"HSET", redis_keys::token("drop", "tk"), "user", "u2"}), "1");
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  std::vector<absl::StatusOr<AttemptResult>> r = attemptAll(store, attempts);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_TRUE(r[i].ok()) << i << ": " << r[i].status();
  EXPECT_EQ(r[1]->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(r[2]->outcome, AttemptOutcome::kInvalidToken);
  EXPECT_EQ(r[3]->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(store.attemptGroups(), 2u);
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "2");

  // Each per-sale key in turn is of the wrong type: the group fails whole.
  const std::string saved = "sk:saved";
  for (const std::string& key : {redis_keys::buyers("drop"), redis_keys::orderRecords("drop"),
                                 redis_keys::orderStream("drop"), redis_keys::cancels("drop"),
                                 redis_keys::counts("drop")}) {
    ASSERT_EQ(*server.query({"RENAME", key, saved}), "OK") << key;
    ASSERT_EQ(*server.query({"SET", key, "x"}), "OK");
    r = attemptAll(store, {attemptOf("drop", "u5"), attemptOf("drop", "u6")});
    for (const auto& one : r) {
      EXPECT_TRUE(absl::IsInternal(one.status())) << key << ": " << one.status();
      EXPECT_NE(one.status().message().find("WRONGTYPE"), std::string_view::npos)
          << one.status();
    }
    ASSERT_EQ(*server.query({"RENAME", saved, key}), "OK");
  }
  // Nothing of them was written to the keys that were right.
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "2");
  EXPECT_EQ(*server.query({"HLEN", redis_keys::buyers("drop")}), "3");
  EXPECT_EQ(*server.query({"HLEN", redis_keys::orderRecords("drop")}), "3");
  EXPECT_EQ(*server.query({"XLEN", redis_keys::orderStream("drop")}), "3");
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "cancel_queue"}), "3");
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "pending"}), "3");

  // A stock that is not an integer stops the call before it writes anything.
  ASSERT_EQ(*server.query({"SET", redis_keys::stock("drop"), "3.5"}), "OK");
  r = attemptAll(store, {attemptOf("drop", "u7")});
  EXPECT_TRUE(absl::IsInternal(r[0].status())) << r[0].status();
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::buyers("drop"), "u7"}), "0");

  // With the keys right again, the sale goes on where it was.
  ASSERT_EQ(*server.query({"SET", redis_keys::stock("drop"), "2"}), "OK");
  r = attemptAll(store, {attemptOf("drop", "u5")});
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  EXPECT_EQ(r[0]->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "1");
  client.shutdown();
}

// A sale an engine with the old key layout (a key per buyer) started is
// refused: this engine would not see its buyers, who could then order twice.
TEST_F(RedisStoreTest, ASaleInAnOlderKeyLayoutIsRefusedAndNothingIsWritten) {
  RedisClient client(testing::clientOptionsFor(server));
  ASSERT_EQ(*server.query({"HSET", redis_keys::meta("old"), "stock_total", "5"}), "1");
  ASSERT_EQ(*server.query({"SET", redis_keys::stock("old"), "3"}), "OK");
  RedisSaleStore store(client);
  absl::Status s = store.addSale(RedisWorld::spec("old", 5));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("\"old\" exists in Redis in key layout 1"), std::string_view::npos)
      << s;
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::meta("old"), "layout"}), "0");
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("old")}), "3");

  // A sale of this layout is taken up again as it is (a restart), and a new one starts.
  RedisSaleStore first(client);
  ASSERT_TRUE(first.addSale(RedisWorld::spec("drop", 5)).ok());
  EXPECT_EQ(*server.query({"HGET", redis_keys::meta("drop"), "layout"}), redis_keys::kLayout);
  RedisSaleStore again(client);
  EXPECT_TRUE(again.addSale(RedisWorld::spec("drop", 5)).ok());
  client.shutdown();
}

// The record format the scripts and the C++ side share.
TEST(OrderRecordTest, RoundTripsEveryFieldAndRefusesMalformedRecords) {
  Order o;
  o.id = "n1-7-drop";
  o.sale_id = "drop";
  o.user_id = "a user with spaces";  // the store takes any user id; it is the last field
  o.state = OrderState::kCancelled;
  o.cancel_reason = CancelReason::kExpired;
  o.created_at = absl::FromUnixMicros(1'700'000'000'123'456);
  o.pay_before = o.created_at + absl::Minutes(15);
  o.updated_at = o.created_at + absl::Seconds(3);
  const std::string record = redis_internal::encodeOrderRecord(o);
  EXPECT_EQ(record, "2 2 1700000000123456 1700000900123456 1700000003123456 a user with spaces");
  absl::StatusOr<Order> back = redis_internal::parseOrderRecord("drop", o.id, record);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, o.id);
  EXPECT_EQ(back->sale_id, "drop");
  EXPECT_EQ(back->user_id, o.user_id);
  EXPECT_EQ(back->state, OrderState::kCancelled);
  EXPECT_EQ(back->cancel_reason, CancelReason::kExpired);
  EXPECT_EQ(back->created_at, o.created_at);
  EXPECT_EQ(back->pay_before, o.pay_before);
  EXPECT_EQ(back->updated_at, o.updated_at);
  o.cancel_reason = CancelReason::kDuplicate;  // the last reason there is
  back = redis_internal::parseOrderRecord("drop", o.id, redis_internal::encodeOrderRecord(o));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->cancel_reason, CancelReason::kDuplicate);
  for (std::string_view bad : {"", "0 0 1 2 3", "0 0 1 2 3 ", "3 0 1 2 3 u", "2 4 1 2 3 u",
                               "0 x 1 2 3 u", "0 0 1 2 u", "garbage"}) {
    absl::StatusOr<Order> r = redis_internal::parseOrderRecord("drop", "n1-1-drop", bad);
    EXPECT_TRUE(absl::IsInternal(r.status())) << "\"" << bad << "\"";
  }
}

// [orders] kind = "redis": the order record is the order and no writer reads the
// stream, so nothing is appended to it (it would only grow).
TEST_F(RedisStoreTest, WithoutAWriterOrdersAreNotStreamed) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore::Options options;
  options.stream_orders = false;
  RedisSaleStore store(client, options);
  ASSERT_TRUE(store.addSale(RedisWorld::spec("drop", 10)).ok());
  std::vector<OrderAttempt> attempts = {attemptOf("drop", "u0"), attemptOf("drop", "u1")};
  std::vector<absl::StatusOr<AttemptResult>> r = attemptAll(store, attempts);
  ASSERT_TRUE(r[0].ok() && r[1].ok());
  EXPECT_EQ(r[1]->outcome, AttemptOutcome::kCreated);
  EXPECT_EQ(*server.query({"EXISTS", redis_keys::orderStream("drop")}), "0");
  absl::StatusOr<std::string> record =
      server.query({"HGET", redis_keys::orderRecords("drop"), attempts[1].order.id});
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(*record, redis_internal::encodeOrderRecord(attempts[1].order));
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "cancel_queue"}), "2");
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "8");
  client.shutdown();
}

TEST_F(RedisStoreTest, AttemptsBeyondMaxWaitingAreRefusedAsUnavailable) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore::Options options;
  options.max_waiting = 2;
  RedisSaleStore store(client, options);
  ASSERT_TRUE(store.addSale(RedisWorld::spec("drop", 10)).ok());
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  std::vector<absl::StatusOr<AttemptResult>> r =
      attemptAll(store, {attemptOf("drop", "u0"), attemptOf("drop", "u1"),
                         attemptOf("drop", "u2"), attemptOf("drop", "u3")});
  // u0 in flight, u1 and u2 waiting, u3 refused without touching Redis.
  ASSERT_TRUE(r[0].ok() && r[1].ok() && r[2].ok());
  EXPECT_EQ(r[2]->outcome, AttemptOutcome::kCreated);
  EXPECT_TRUE(absl::IsUnavailable(r[3].status())) << r[3].status();
  EXPECT_EQ(*server.query({"GET", redis_keys::stock("drop")}), "7");
  EXPECT_EQ(*server.query({"HEXISTS", redis_keys::buyers("drop"), "u3"}), "0");
  client.shutdown();
}

TEST_F(RedisStoreTest, NoScriptIsRecoveredByReloading) {
  RedisWorld w(server, {RedisWorld::spec("drop", 3)});
  ASSERT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  ASSERT_EQ(*server.query({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(w.order("drop", "bob").outcome, Outcome::kCreated);
  EXPECT_EQ(w.order("drop", "carol").outcome, Outcome::kCreated);
  EXPECT_EQ(w.stockLeft("drop"), 0);
}

TEST_F(RedisStoreTest, AddSaleKeepsTheStockOfARunningSale) {
  {
    RedisWorld first(server, {RedisWorld::spec("drop", 5)});
    ASSERT_EQ(first.order("drop", "alice").outcome, Outcome::kCreated);
  }
  // A restarted (or second) engine joins the running sale.
  RedisWorld second(server, {RedisWorld::spec("drop", 5)});
  EXPECT_EQ(second.stockLeft("drop"), 4);
  EXPECT_EQ(second.order("drop", "alice").outcome, Outcome::kDuplicate);
}

TEST_F(RedisStoreTest, RedisRestartAnswersUnavailablePromptlyThenRecovers) {
  RedisWorld w(server, {RedisWorld::spec("drop", 10)});
  ASSERT_EQ(w.order("drop", "alice").outcome, Outcome::kCreated);
  server.stop();
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(w.order("drop", "u" + std::to_string(i)).outcome, Outcome::kUnavailable);
  }
  EXPECT_FALSE(w.tryStockLeft("drop").ok());
  EXPECT_EQ(w.describe("drop").outcome, Outcome::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));

  ASSERT_TRUE(server.start().ok());
  // Without persistence the restarted server is empty: restore the stock.
  ASSERT_EQ(*server.query({"SET", redis_keys::stock("drop"), "9"}), "OK");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Outcome last = Outcome::kUnavailable;
  while (std::chrono::steady_clock::now() < deadline) {
    last = w.order("drop", "bob").outcome;
    if (last != Outcome::kUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(last, Outcome::kCreated);
  EXPECT_EQ(w.stockLeft("drop"), 8);
}

TEST_F(RedisStoreTest, DelayQueueRedeliversUnackedMessagesAfterVisibility) {
  RedisWorld w(server, {RedisWorld::spec("drop", 5)});
  absl::Time t0 = w.clock.now();
  std::string id = w.cancels.publish("n1-1-drop", t0 + absl::Seconds(10));
  EXPECT_EQ(id, "drop|n1-1-drop");
  EXPECT_EQ(w.cancels.publish("no-sale", t0), "");
  EXPECT_EQ(w.cancels.pending(), 1u);
  std::vector<Delivery> out;
  w.cancels.consume(t0 + absl::Seconds(9), 10, absl::Seconds(30), out);
  EXPECT_TRUE(out.empty());
  w.cancels.consume(t0 + absl::Seconds(10), 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, id);
  EXPECT_EQ(out[0].payload, "n1-1-drop");
  EXPECT_EQ(out[0].attempts, 1);
  out.clear();
  w.cancels.consume(t0 + absl::Seconds(39), 10, absl::Seconds(30), out);
  EXPECT_TRUE(out.empty());  // invisible while being handled
  w.cancels.consume(t0 + absl::Seconds(40), 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attempts, 2);
  w.cancels.ack(out[0].id);
  w.cancels.ack("garbage");
  EXPECT_EQ(w.cancels.pending(), 0u);
}

// A group's orders share one delayed-cancel member, due at the group's latest
// pay_before; when it comes due it is split into one message per order, no
// more than `max` delivered per call, the rest left due.
TEST_F(RedisStoreTest, AGroupsDelayedCancelIsSplitIntoOneMessagePerOrderWhenDue) {
  RedisClient client(testing::clientOptionsFor(server));
  RedisSaleStore store(client);
  RedisDelayQueue queue(client, fixedSaleIds({"drop"}));
  ASSERT_TRUE(store.addSale(RedisWorld::spec("drop", 10)).ok());
  std::vector<OrderAttempt> attempts = {attemptOf("drop", "u0"), attemptOf("drop", "u1"),
                                        attemptOf("drop", "u2"), attemptOf("drop", "u3")};
  attempts[3].order.pay_before += absl::Minutes(1);
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "300", "WRITE"}), "OK");
  for (const auto& r : attemptAll(store, attempts)) {
    ASSERT_TRUE(r.ok() && r->outcome == AttemptOutcome::kCreated) << r.status();
  }
  ASSERT_EQ(store.attemptGroups(), 2u);  // u0 alone, then u1..u3
  EXPECT_EQ(*server.query({"ZCARD", redis_keys::cancels("drop")}), "2");
  EXPECT_EQ(queue.pending(), 4u);

  auto payloads = [](const std::vector<Delivery>& out) {
    std::vector<std::string> p;
    for (const Delivery& d : out) p.push_back(d.payload);
    return p;
  };
  std::vector<Delivery> out;
  const absl::Duration vis = absl::Minutes(10);
  // At u0's pay_before only u0 is due: the group waits for its latest order.
  queue.consume(kT0 + absl::Minutes(15), 2, vis, out);
  EXPECT_EQ(payloads(out), std::vector<std::string>{attempts[0].order.id});
  out.clear();
  queue.consume(kT0 + absl::Minutes(16), 2, vis, out);
  EXPECT_EQ(payloads(out), (std::vector<std::string>{attempts[1].order.id, attempts[2].order.id}));
  EXPECT_EQ(out[0].id, "drop|" + attempts[1].order.id);
  EXPECT_EQ(out[0].attempts, 1);
  out.clear();
  queue.consume(kT0 + absl::Minutes(16), 2, vis, out);
  EXPECT_EQ(payloads(out), std::vector<std::string>{attempts[3].order.id});
  EXPECT_EQ(*server.query({"ZCARD", redis_keys::cancels("drop")}), "4");  // one per order now
  EXPECT_EQ(queue.pending(), 4u);
  // Unacknowledged, u1 comes back after the visibility timeout; then acks end them all.
  out.clear();
  queue.consume(kT0 + absl::Minutes(26), 10, vis, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].payload, attempts[1].order.id);
  EXPECT_EQ(out[1].attempts, 2);
  for (const Delivery& d : out) queue.ack(d.id);
  queue.ack(out[0].id);  // twice: changes nothing
  EXPECT_TRUE(testing::eventually([&] { return queue.pending() == 0; }));
  EXPECT_EQ(*server.query({"ZCARD", redis_keys::cancels("drop")}), "0");
  EXPECT_EQ(*server.query({"HGET", redis_keys::counts("drop"), "cancel_queue"}), "0");
  client.shutdown();
}

TEST_F(RedisStoreTest, RepositoryFindsOrdersByTheSaleInTheirId) {
  RedisWorld w(server, {RedisWorld::spec("drop", 5)});
  OrderReply o = w.order("drop", "alice");
  ASSERT_EQ(o.outcome, Outcome::kCreated);
  auto got = await<absl::StatusOr<Order>>(
      [&](Callback<absl::StatusOr<Order>> done) { w.orders.get(o.order.id, std::move(done)); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->user_id, "alice");
  auto missing = await<absl::StatusOr<Order>>(
      [&](Callback<absl::StatusOr<Order>> done) { w.orders.get("zz-1-drop", std::move(done)); });
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  auto t = await<absl::StatusOr<Transition>>([&](Callback<absl::StatusOr<Transition>> done) {
    w.orders.transition("zz-1-drop", OrderState::kPendingPayment, OrderState::kPaid,
                        CancelReason::kNone, w.clock.now(), std::nullopt, std::move(done));
  });
  EXPECT_TRUE(absl::IsNotFound(t.status()));
  // only_before is honoured.
  auto late = await<absl::StatusOr<Transition>>([&](Callback<absl::StatusOr<Transition>> done) {
    w.orders.transition(o.order.id, OrderState::kPendingPayment, OrderState::kPaid,
                        CancelReason::kNone, o.order.pay_before, o.order.pay_before,
                        std::move(done));
  });
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->applied);
  EXPECT_EQ(late->order.state, OrderState::kPendingPayment);
}

}  // namespace
}  // namespace seckill
