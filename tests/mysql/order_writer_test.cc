// OrderWriter against real redis-server and mariadbd.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/mysql/mysql_world.h"

namespace seckill {
namespace {

using testing::eventually;
using testing::MysqlTest;
using testing::MysqlWorld;

class OrderWriterTest : public MysqlTest {
 protected:
  OrderWriterOptions writerOptions(int batch = 100, int workers = 2) {
    OrderWriterOptions o;
    o.consumer = "node-a";
    o.batch = batch;
    o.workers = workers;
    o.claim_idle = absl::Milliseconds(300);
    o.idle_sleep = absl::Milliseconds(5);
    o.backoff_min = absl::Milliseconds(20);
    o.backoff_max = absl::Milliseconds(200);
    o.lag_refresh = absl::Milliseconds(50);
    return o;
  }
  std::unique_ptr<MysqlWorld> world(std::vector<SaleSpec> specs, OrderWriterOptions o) {
    return std::make_unique<MysqlWorld>(*this, redisOptions(true), redisOptions(false),
                                        poolOptions(), std::move(specs), std::move(o));
  }
  // Places `n` orders for users <prefix>0.. <prefix>n-1; their ids.
  std::vector<std::string> place(MysqlWorld& w, const std::string& sale, int n,
                                 const std::string& prefix) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      OrderReply r = w.order(sale, absl::StrCat(prefix, i));
      EXPECT_EQ(r.outcome, Outcome::kCreated) << i;
      ids.push_back(r.order.id);
    }
    return ids;
  }
  int64_t rows() const { return sqlCount("SELECT COUNT(*) FROM orders"); }
  int64_t xlen(const std::string& sale) const {
    return redisInt({"XLEN", redis_keys::orderStream(sale)});
  }
};

TEST_F(OrderWriterTest, PersistsEveryStreamEntryInMultiRowBatches) {
  auto w = world({MysqlWorld::spec("a", 1000), MysqlWorld::spec("b", 1000)}, writerOptions(100));
  std::vector<std::string> a = place(*w, "a", 600, "u");
  std::vector<std::string> b = place(*w, "b", 400, "u");
  ASSERT_EQ(xlen("a"), 600);
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return rows() == 1000 && xlen("a") == 0 && xlen("b") == 0; }))
      << rows() << " rows, xlen " << xlen("a") << "/" << xlen("b");
  EXPECT_EQ(w->writer->persisted(), 1000u);
  // Batched: at most `batch` rows per INSERT, so at least 10 commits, far fewer than 1000.
  EXPECT_GE(w->writer->batches(), 10u);
  EXPECT_LE(w->writer->batches(), 200u);
  EXPECT_EQ(pendingCount("a"), 0);
  EXPECT_EQ(pendingCount("b"), 0);
  EXPECT_EQ(w->writer->duplicatesDropped(), 0u);
  EXPECT_TRUE(eventually([&] { return w->writer->lag() == 0; }));
  // Committed orders lose their Redis hash; the row has every field.
  EXPECT_EQ(redisInt({"HEXISTS", redis_keys::orderRecords("a"), a[0]}), 0);
  auto row = db.query(absl::StrCat("SELECT sale_id, user_id, state, reason, created, pay_before "
                                   "FROM orders WHERE id = '",
                                   b[7], "'"),
                      "seckill");
  ASSERT_TRUE(row.ok() && row->size() == 1) << row.status();
  EXPECT_EQ((*row)[0][0], "b");
  EXPECT_EQ((*row)[0][1], "u7");
  EXPECT_EQ((*row)[0][2], "0");
  EXPECT_EQ((*row)[0][3], "0");
  EXPECT_EQ((*row)[0][4], std::to_string(toRedisMicros(w->clock.now())));
  EXPECT_EQ((*row)[0][5], std::to_string(toRedisMicros(w->clock.now() + absl::Minutes(15))));
  // Still readable through the repository, from the database now.
  OrderReply got = w->get(a[0], "u0");
  EXPECT_EQ(got.outcome, Outcome::kOk);
}

// The ack is one script (ack_orders.lua: XACK, XDEL and the records' HDEL together, so that a
// kill cannot leave an entry acked yet in the stream, where nothing would read it again). A
// batch larger than the script's chunk of 500 ids is let go of whole.
TEST_F(OrderWriterTest, ABatchLargerThanTheAckChunkIsAckedAndDeletedWhole) {
  auto w = world({MysqlWorld::spec("a", 2000)}, writerOptions(1200, 1));
  std::vector<std::string> ids = place(*w, "a", 1300, "u");
  ASSERT_EQ(xlen("a"), 1300);
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return rows() == 1300 && xlen("a") == 0; }))
      << rows() << " rows, xlen " << xlen("a");
  EXPECT_EQ(pendingCount("a"), 0);
  EXPECT_EQ(w->writer->batches(), 2u);  // 1,200 then 100
  EXPECT_EQ(redisInt({"HLEN", redis_keys::orderRecords("a")}), 0);  // every record let go of
  EXPECT_EQ(redisInt({"HEXISTS", redis_keys::orderRecords("a"), ids[1299]}), 0);
}

TEST_F(OrderWriterTest, NothingIsAckedBeforeTheCommit) {
  OrderWriterOptions o = writerOptions(100, 1);
  std::atomic<bool> killed{false};
  // The server dies between the INSERT and the COMMIT of the first batch.
  o.before_commit = [&] {
    if (!killed.exchange(true)) db.stop();
  };
  auto w = world({MysqlWorld::spec("a", 100)}, o);
  place(*w, "a", 50, "u");
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return killed.load() && w->writer->errors() >= 2; }));
  // Every entry was read, none acknowledged, none deleted.
  EXPECT_EQ(pendingCount("a"), 50);
  EXPECT_EQ(xlen("a"), 50);
  EXPECT_EQ(w->writer->persisted(), 0u);
  ASSERT_TRUE(db.start().ok());
  ASSERT_TRUE(eventually([&] { return rows() == 50 && xlen("a") == 0; }))
      << rows() << " rows, xlen " << xlen("a");
  EXPECT_EQ(pendingCount("a"), 0);
  EXPECT_EQ(w->writer->persisted(), 50u);
}

TEST_F(OrderWriterTest, EntriesWaitInTheStreamWhileMariadbIsDownAndLandWhenItReturns) {
  const auto outage = testing::envMillis("SECKILL_MYSQL_OUTAGE_MS", 2000);
  auto w = world({MysqlWorld::spec("a", 1000), MysqlWorld::spec("b", 1000)}, writerOptions(50));
  w->writer->start();
  place(*w, "a", 100, "early");
  ASSERT_TRUE(eventually([&] { return rows() == 100; }));
  db.stop();
  // Orders keep being accepted: Redis alone takes them.
  auto start = std::chrono::steady_clock::now();
  place(*w, "a", 150, "mid");
  place(*w, "b", 150, "mid");
  std::this_thread::sleep_for(outage - (std::chrono::steady_clock::now() - start));
  EXPECT_EQ(xlen("a") + xlen("b"), 300);  // nothing lost, nothing acked
  EXPECT_GT(w->writer->errors(), 0u);
  ASSERT_TRUE(db.start().ok());
  ASSERT_TRUE(eventually([&] { return rows() == 400 && xlen("a") + xlen("b") == 0; }))
      << rows() << " rows";
  EXPECT_EQ(pendingCount("a") + pendingCount("b"), 0);
  EXPECT_EQ(sqlCount("SELECT COUNT(DISTINCT sale_id, user_id) FROM orders"), 400);
}

TEST_F(OrderWriterTest, EntriesOfADeadConsumerAreReclaimed) {
  auto w = world({MysqlWorld::spec("a", 500)}, writerOptions(100, 1));
  place(*w, "a", 300, "u");
  const std::string stream = redis_keys::orderStream("a");
  // A consumer that reads 120 entries and dies before writing them.
  ASSERT_EQ(*redis.query({"XGROUP", "CREATE", stream, "seckill-writers", "0", "MKSTREAM"}), "OK");
  ASSERT_TRUE(redis
                  .query({"XREADGROUP", "GROUP", "seckill-writers", "dead-0", "COUNT", "120",
                          "STREAMS", stream, ">"})
                  .ok());
  ASSERT_EQ(pendingCount("a"), 120);
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return rows() == 300 && xlen("a") == 0; }))
      << rows() << " rows, xlen " << xlen("a");
  EXPECT_EQ(pendingCount("a"), 0);
  EXPECT_EQ(w->writer->claimed(), 120u);
  EXPECT_EQ(w->writer->persisted(), 300u);
}

TEST_F(OrderWriterTest, ARestartedConsumerRereadsItsOwnPendingEntriesAtOnce) {
  OrderWriterOptions o = writerOptions(100, 1);
  o.claim_idle = absl::Hours(1);  // no takeover: the own pending list must do it
  auto w = world({MysqlWorld::spec("a", 500)}, o);
  place(*w, "a", 80, "u");
  const std::string stream = redis_keys::orderStream("a");
  ASSERT_EQ(*redis.query({"XGROUP", "CREATE", stream, "seckill-writers", "0", "MKSTREAM"}), "OK");
  // node-a's worker 0 read these before its process died.
  ASSERT_TRUE(redis
                  .query({"XREADGROUP", "GROUP", "seckill-writers", "node-a-0", "COUNT", "80",
                          "STREAMS", stream, ">"})
                  .ok());
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return rows() == 80 && pendingCount("a") == 0; }));
  EXPECT_EQ(w->writer->claimed(), 0u);
}

TEST_F(OrderWriterTest, ASecondOrderOfTheSameUserAndSaleIsDroppedAndCounted) {
  auto w = world({MysqlWorld::spec("s", 10)}, writerOptions(100, 1));
  const std::string stream = redis_keys::orderStream("s");
  auto add = [&](const std::string& id, const std::string& user) {
    ASSERT_TRUE(redis
                    .query({"XADD", stream, "*", "id", id, "user", user, "created", "1000",
                            "pay_before", "2000"})
                    .ok());
  };
  // In one batch: two orders of alice (different ids) and one of bob.
  add("n-1-s", "alice");
  add("n-2-s", "alice");
  add("n-3-s", "bob");
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return xlen("s") == 0 && w->writer->batches() >= 1; }));
  EXPECT_EQ(rows(), 2);
  EXPECT_EQ(w->writer->duplicatesDropped(), 1u);
  EXPECT_EQ(sqlCount("SELECT COUNT(*) FROM orders WHERE id = 'n-1-s'"), 1);
  // In a later batch: a third order of alice is dropped too; a redelivery of
  // n-3-s (same id) is no drop and changes nothing.
  ASSERT_TRUE(db.exec("UPDATE orders SET state = 1 WHERE id = 'n-3-s'", "seckill").ok());
  add("n-4-s", "alice");
  add("n-3-s", "bob");
  ASSERT_TRUE(eventually([&] { return xlen("s") == 0 && w->writer->duplicatesDropped() == 2; }));
  EXPECT_EQ(rows(), 2);
  EXPECT_EQ(w->writer->alreadyPresent(), 1u);
  EXPECT_EQ(sqlCount("SELECT state FROM orders WHERE id = 'n-3-s'"), 1);  // still paid
  EXPECT_EQ(pendingCount("s"), 0);
}

TEST_F(OrderWriterTest, StopFinishesTheCurrentBatchAndAStartedWriterResumes) {
  auto w = world({MysqlWorld::spec("a", 2000)}, writerOptions(200, 2));
  place(*w, "a", 500, "u");
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return w->writer->persisted() > 0; }));
  w->writer->stop();
  // Whatever was committed is acked: the stream holds exactly the rest.
  EXPECT_EQ(xlen("a") + rows(), 500);
  EXPECT_EQ(pendingCount("a"), 0);
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return rows() == 500 && xlen("a") == 0; }));
}

TEST_F(OrderWriterTest, StopDuringAnOutageLeavesTheBatchPendingForTheNextStart) {
  auto w = world({MysqlWorld::spec("a", 100)}, writerOptions(100, 1));
  place(*w, "a", 40, "u");
  db.stop();
  w->writer->start();
  ASSERT_TRUE(eventually([&] { return w->writer->errors() >= 2; }));
  auto before = std::chrono::steady_clock::now();
  w->writer->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(pendingCount("a"), 40);  // read, not acked
  ASSERT_TRUE(db.start().ok());
  w->writer->start();  // the same consumer re-reads its own pending entries
  ASSERT_TRUE(eventually([&] { return rows() == 40 && xlen("a") == 0; }));
  EXPECT_EQ(w->writer->claimed(), 0u);
}

}  // namespace
}  // namespace seckill
