// MysqlOrderRepository with RedisSaleStore and OrderWriter, against real servers.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/store/redis/redis_reply_util.h"
#include "gtest/gtest.h"
#include "tests/mysql/mysql_world.h"

namespace seckill {
namespace {

using testing::eventually;
using testing::MysqlTest;
using testing::MysqlWorld;

class MysqlOrderRepositoryTest : public MysqlTest {
 protected:
  std::unique_ptr<MysqlWorld> world(std::vector<SaleSpec> specs) {
    OrderWriterOptions o;
    o.consumer = "node-a";
    o.batch = 7;  // small batches: orders land while the test races them
    o.workers = 2;
    o.idle_sleep = absl::Milliseconds(2);
    o.claim_idle = absl::Milliseconds(300);
    return std::make_unique<MysqlWorld>(*this, redisOptions(true), redisOptions(false),
                                        poolOptions(6), std::move(specs), std::move(o));
  }
  int64_t rows(const std::string& where = "1") const {
    return sqlCount("SELECT COUNT(*) FROM orders WHERE " + where);
  }
  // A world with sale "drop" of kStock units where alice's order `first` lands
  // in the database; then Redis loses what a crash loses of it (her dedup key
  // and its unit), she orders again (`second`, a 201) and the writer drops
  // that one: UNIQUE (sale_id, live_user).
  static constexpr int kStock = 5;
  std::unique_ptr<MysqlWorld> orderTwiceAcrossARedisLoss(OrderReply& first, OrderReply& second) {
    auto w = world({MysqlWorld::spec("drop", kStock)});
    orderTwice(*w, first, second);
    return w;
  }
  void orderTwice(MysqlWorld& w, OrderReply& first, OrderReply& second) {
    w.writer->start();
    first = w.order("drop", "alice");
    ASSERT_EQ(first.outcome, Outcome::kCreated);
    ASSERT_TRUE(eventually([&] { return rows("user_id = 'alice'") == 1; }));
    ASSERT_EQ(redisInt({"HDEL", redis_keys::buyers("drop"), "alice"}), 1);
    ASSERT_EQ(redisInt({"INCRBY", redis_keys::stock("drop"), "1"}), kStock);
    second = w.order("drop", "alice");
    ASSERT_EQ(second.outcome, Outcome::kCreated);
    ASSERT_TRUE(eventually([&] { return w.writer->duplicatesDropped() == 1; }));
  }
};

TEST_F(MysqlOrderRepositoryTest, GetFindsAnOrderInTheStreamAndInTheDatabase) {
  auto w = world({MysqlWorld::spec("drop", 5)});
  OrderReply placed = w->order("drop", "alice");
  ASSERT_EQ(placed.outcome, Outcome::kCreated);
  // Not persisted yet: found through its Redis hash.
  OrderReply in_stream = w->get(placed.order.id, "alice");
  ASSERT_EQ(in_stream.outcome, Outcome::kOk);
  EXPECT_EQ(in_stream.order.state, OrderState::kPendingPayment);
  EXPECT_EQ(in_stream.order.created_at, placed.order.created_at);
  EXPECT_EQ(rows(), 0);
  w->writer->start();
  ASSERT_TRUE(eventually([&] {
    return rows() == 1 && redisInt({"HEXISTS", redis_keys::orderRecords("drop"), placed.order.id}) == 0;
  }));
  OrderReply in_db = w->get(placed.order.id, "alice");
  ASSERT_EQ(in_db.outcome, Outcome::kOk);
  EXPECT_EQ(in_db.order.id, placed.order.id);
  EXPECT_EQ(in_db.order.sale_id, "drop");
  EXPECT_EQ(in_db.order.user_id, "alice");
  EXPECT_EQ(in_db.order.created_at, placed.order.created_at);
  EXPECT_EQ(in_db.order.pay_before, placed.order.pay_before);
  EXPECT_EQ(w->get(placed.order.id, "bob").outcome, Outcome::kForbidden);
  EXPECT_EQ(w->get("zz-1-drop", "alice").outcome, Outcome::kUnknownOrder);
  EXPECT_EQ(w->get("no-sale", "alice").outcome, Outcome::kUnknownOrder);
}

TEST_F(MysqlOrderRepositoryTest, PayingAnOrderStillInTheStreamWritesItsRow) {
  auto w = world({MysqlWorld::spec("drop", 5)});
  OrderReply placed = w->order("drop", "alice");
  ASSERT_EQ(placed.outcome, Outcome::kCreated);
  OrderReply paid = w->pay(placed.order.id, "alice");
  ASSERT_EQ(paid.outcome, Outcome::kOk);
  EXPECT_EQ(paid.order.state, OrderState::kPaid);
  EXPECT_EQ(rows("state = 1"), 1);
  // The writer's later INSERT of the same id leaves the paid row alone.
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return redisInt({"XLEN", redis_keys::orderStream("drop")}) == 0; }));
  EXPECT_EQ(rows(), 1);
  EXPECT_EQ(rows("state = 1"), 1);
  EXPECT_EQ(w->writer->alreadyPresent(), 1u);
  EXPECT_EQ(w->get(placed.order.id, "alice").order.state, OrderState::kPaid);
  EXPECT_EQ(w->pay(placed.order.id, "alice").outcome, Outcome::kAlreadyPaid);
}

TEST_F(MysqlOrderRepositoryTest, RacingPaysApplyExactlyOnce) {
  auto w = world({MysqlWorld::spec("drop", 40)});
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    OrderReply r = w->order("drop", absl::StrCat("u", i));
    ASSERT_EQ(r.outcome, Outcome::kCreated);
    ids.push_back(r.order.id);
  }
  w->writer->start();  // rows land while the payments race
  std::atomic<int> applied{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (const std::string& id : ids) {
        absl::StatusOr<Transition> r =
            w->transition(id, OrderState::kPendingPayment, OrderState::kPaid);
        if (!r.ok()) {
          ++failed;
          ADD_FAILURE() << r.status();
        } else {
          EXPECT_EQ(r->order.state, OrderState::kPaid);
          if (r->applied) ++applied;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(applied.load(), 40);
  ASSERT_TRUE(eventually([&] { return redisInt({"XLEN", redis_keys::orderStream("drop")}) == 0; }));
  EXPECT_EQ(rows(), 40);
  EXPECT_EQ(rows("state = 1"), 40);
  EXPECT_EQ(w->writer->persisted() + w->writer->alreadyPresent(), 40u);
}

TEST_F(MysqlOrderRepositoryTest, PayAfterPayBeforeIsNotApplied) {
  auto w = world({MysqlWorld::spec("drop", 5)});
  OrderReply placed = w->order("drop", "alice");
  ASSERT_EQ(placed.outcome, Outcome::kCreated);
  absl::StatusOr<Transition> late = w->transition(placed.order.id, OrderState::kPendingPayment,
                                                  OrderState::kPaid, w->clock.now());
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_FALSE(late->applied);
  EXPECT_EQ(late->order.state, OrderState::kPendingPayment);
}

// The cancel path of the core (OrderLifecycle::expire: transition, then
// releaseUnit) on RedisSaleStore + MysqlOrderRepository: however often and
// concurrently a cancel is delivered, the unit comes back once.
TEST_F(MysqlOrderRepositoryTest, RedeliveredCancelsReturnTheUnitOnceAndStockIsConserved) {
  constexpr int kStock = 30;
  auto w = world({MysqlWorld::spec("drop", kStock)});
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    OrderReply r = w->order("drop", absl::StrCat("u", i));
    ASSERT_EQ(r.outcome, Outcome::kCreated);
    ids.push_back(r.order.id);
  }
  for (int i = 0; i < 5; ++i) ASSERT_EQ(w->pay(ids[i], absl::StrCat("u", i)).outcome, Outcome::kOk);
  w->writer->start();
  w->clock.advance(absl::Minutes(16));  // every unpaid order is due
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 3; ++t) {  // three deliveries of every cancel message, concurrently
    threads.emplace_back([&] {
      for (const std::string& id : ids) {
        absl::Status s = w->expire(id);
        if (!s.ok()) {
          ++errors;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& id : ids) ASSERT_TRUE(w->expire(id).ok());  // a late redelivery
  EXPECT_EQ(errors.load(), 0);
  const int64_t paid = 5, cancelled = 15;
  EXPECT_EQ(w->stockLeft("drop"), kStock - paid);
  ASSERT_TRUE(eventually([&] { return redisInt({"XLEN", redis_keys::orderStream("drop")}) == 0; }));
  EXPECT_EQ(rows("state = 1"), paid);
  EXPECT_EQ(rows("state = 2 AND reason = 2"), cancelled);
  EXPECT_EQ(rows("state = 0"), 0);
  // initial = paid + pending + remaining
  EXPECT_EQ(kStock, paid + rows("state = 0") + w->stockLeft("drop"));
  ASSERT_TRUE(w->orders->refreshCounts().ok());
  OrderCounts c = w->orders->counts();
  EXPECT_EQ(c.paid, paid);
  EXPECT_EQ(c.cancelled, cancelled);
  EXPECT_EQ(c.pending_payment, 0);
}

TEST_F(MysqlOrderRepositoryTest, AShopperWhoseOrderWasCancelledMayOrderAgain) {
  auto w = world({MysqlWorld::spec("drop", 5)});
  w->writer->start();
  OrderReply first = w->order("drop", "alice");
  ASSERT_EQ(first.outcome, Outcome::kCreated);
  ASSERT_EQ(w->cancel(first.order.id, "alice").outcome, Outcome::kOk);
  OrderReply second = w->order("drop", "alice");
  ASSERT_EQ(second.outcome, Outcome::kCreated);
  ASSERT_TRUE(eventually([&] { return redisInt({"XLEN", redis_keys::orderStream("drop")}) == 0; }));
  EXPECT_EQ(rows("user_id = 'alice'"), 2);
  EXPECT_EQ(rows("user_id = 'alice' AND state = 0"), 1);
  EXPECT_EQ(w->writer->duplicatesDropped(), 0u);
  EXPECT_EQ(w->stockLeft("drop"), 4);
}

// After Redis lost a shopper's dedup key with the unit it took (the AOF loss
// window), the shopper's second order gets a 201 and the database refuses it:
// UNIQUE (sale_id, live_user). That order is then recorded as cancelled
// (duplicate) at its first transition and its cancel message is settled
// instead of coming back forever. Its unit is not returned: it stands for the
// first order's unit that Redis lost, and comes back when that order is
// cancelled (the buyer is bound to it again).
TEST_F(MysqlOrderRepositoryTest, AnOrderTheDatabaseRefusedAsADuplicateEndsCancelled) {
  OrderReply first, second;
  std::unique_ptr<MysqlWorld> w;
  ASSERT_NO_FATAL_FAILURE(w = orderTwiceAcrossARedisLoss(first, second));
  EXPECT_EQ(rows(), 1);
  EXPECT_EQ(w->stockLeft("drop"), kStock - 1);

  // The shopper cannot pay it: it is cancelled as a duplicate, not "unavailable".
  OrderReply paid = w->pay(second.order.id, "alice");
  EXPECT_EQ(paid.outcome, Outcome::kOrderCancelled);
  EXPECT_EQ(paid.order.cancel_reason, CancelReason::kDuplicate);
  EXPECT_EQ(rows(absl::StrCat("id = '", second.order.id, "' AND state = 2 AND reason = 3")), 1);
  // Its row is in: its Redis record is gone, like the writer's.
  EXPECT_EQ(redisInt({"HEXISTS", redis_keys::orderRecords("drop"), second.order.id}), 0);
  // Its cancel message, when due and however often delivered, is settled and
  // returns no unit.
  w->clock.advance(absl::Minutes(16));
  ASSERT_TRUE(w->expire(second.order.id).ok());
  ASSERT_TRUE(w->expire(second.order.id).ok());
  EXPECT_EQ(w->stockLeft("drop"), kStock - 1);
  OrderReply got = w->get(second.order.id, "alice");
  ASSERT_EQ(got.outcome, Outcome::kOk);
  EXPECT_EQ(got.order.state, OrderState::kCancelled);
  EXPECT_EQ(got.order.cancel_reason, CancelReason::kDuplicate);
  // The first order is untouched: still the shopper's live order, and she
  // still cannot order twice.
  EXPECT_EQ(rows(absl::StrCat("id = '", first.order.id, "' AND state = 0")), 1);
  EXPECT_EQ(w->order("drop", "alice").outcome, Outcome::kDuplicate);
  // initial = paid + pending + remaining
  EXPECT_EQ(kStock, rows("state = 1") + rows("state = 0") + w->stockLeft("drop"));
  // The first order's expiry returns the unit, once; then she may order again.
  ASSERT_TRUE(w->expire(first.order.id).ok());
  ASSERT_TRUE(w->expire(first.order.id).ok());
  EXPECT_EQ(w->stockLeft("drop"), kStock);
  EXPECT_EQ(rows("state = 0"), 0);
  EXPECT_EQ(w->order("drop", "alice").outcome, Outcome::kCreated);
}

// The hand-over of a dropped duplicate interrupted after its Redis step (the
// buyer bound to the live order, the duplicate's record rewritten as
// cancelled) and before its row was committed, and the live order cancelled
// meanwhile: the retry still ends the duplicate cancelled, and the unit the
// live order's cancel returned is the only one that came back.
TEST_F(MysqlOrderRepositoryTest, AnInterruptedHandOverStillEndsTheDuplicateCancelled) {
  OrderReply first, second;
  std::unique_ptr<MysqlWorld> w;
  ASSERT_NO_FATAL_FAILURE(w = orderTwiceAcrossARedisLoss(first, second));

  // The hand-over's Redis step, as MysqlOrderRepository runs it.
  absl::StatusOr<std::string> raw =
      redis.query({"HGET", redis_keys::orderRecords("drop"), second.order.id});
  ASSERT_TRUE(raw.ok()) << raw.status();
  absl::StatusOr<Order> handed = redis_internal::parseOrderRecord("drop", second.order.id, *raw);
  ASSERT_TRUE(handed.ok()) << handed.status();
  handed->state = OrderState::kCancelled;
  handed->cancel_reason = CancelReason::kDuplicate;
  absl::StatusOr<RedisReply> rebound = w->client->evalSync(
      "drop", kScriptReleaseUnit,
      {redis_keys::buyers("drop"), redis_keys::stock("drop"), redis_keys::orderRecords("drop")},
      {"alice", second.order.id, first.order.id, redis_internal::encodeOrderRecord(*handed)});
  ASSERT_TRUE(rebound.ok()) << rebound.status();
  ASSERT_EQ(rebound->integer, 1);

  // The live order expires before the retry: its unit comes back (once).
  w->clock.advance(absl::Minutes(16));
  ASSERT_TRUE(w->expire(first.order.id).ok());
  EXPECT_EQ(w->stockLeft("drop"), kStock);
  EXPECT_EQ(rows("state = 0"), 0);

  // The shopper paying the duplicate finds it cancelled, and the retry (its
  // cancel message) writes its row so.
  OrderReply paid = w->pay(second.order.id, "alice");
  EXPECT_EQ(paid.outcome, Outcome::kOrderCancelled);
  EXPECT_EQ(paid.order.cancel_reason, CancelReason::kDuplicate);
  ASSERT_TRUE(w->expire(second.order.id).ok());
  EXPECT_EQ(rows(absl::StrCat("id = '", second.order.id, "' AND state = 2 AND reason = 3")), 1);
  EXPECT_EQ(redisInt({"HEXISTS", redis_keys::orderRecords("drop"), second.order.id}), 0);
  ASSERT_TRUE(w->expire(second.order.id).ok());
  EXPECT_EQ(w->stockLeft("drop"), kStock);
  EXPECT_EQ(kStock, rows("state = 1") + rows("state = 0") + w->stockLeft("drop"));
  EXPECT_EQ(w->order("drop", "alice").outcome, Outcome::kCreated);
}

// A dropped duplicate whose shopper's live order was cancelled before the
// duplicate's first transition is the shopper's order now: it keeps its unit
// and can be paid (the live order's cancel returned nothing: Redis had lost
// its unit).
TEST_F(MysqlOrderRepositoryTest, ADroppedDuplicateOutlivingTheLiveOrderBecomesTheOrder) {
  OrderReply first, second;
  std::unique_ptr<MysqlWorld> w;
  ASSERT_NO_FATAL_FAILURE(w = orderTwiceAcrossARedisLoss(first, second));

  ASSERT_EQ(w->cancel(first.order.id, "alice").outcome, Outcome::kOk);
  EXPECT_EQ(w->stockLeft("drop"), kStock - 1);  // the duplicate's unit stays taken

  OrderReply paid = w->pay(second.order.id, "alice");
  ASSERT_EQ(paid.outcome, Outcome::kOk);
  EXPECT_EQ(paid.order.state, OrderState::kPaid);
  EXPECT_EQ(rows(absl::StrCat("id = '", second.order.id, "' AND state = 1")), 1);
  EXPECT_EQ(w->order("drop", "alice").outcome, Outcome::kDuplicate);
  EXPECT_EQ(kStock, rows("state = 1") + rows("state = 0") + w->stockLeft("drop"));
}

TEST_F(MysqlOrderRepositoryTest, CallsFailWithUnavailableWhileMariadbIsDown) {
  auto w = world({MysqlWorld::spec("drop", 5)});
  OrderReply placed = w->order("drop", "alice");
  ASSERT_EQ(placed.outcome, Outcome::kCreated);
  db.stop();
  absl::StatusOr<Transition> t =
      w->transition(placed.order.id, OrderState::kPendingPayment, OrderState::kPaid);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable) << t.status();
  ASSERT_TRUE(db.start().ok());
  ASSERT_TRUE(eventually([&] {
    auto r = w->transition(placed.order.id, OrderState::kPendingPayment, OrderState::kPaid);
    return r.ok() && r->applied;
  }));
}

}  // namespace
}  // namespace seckill
