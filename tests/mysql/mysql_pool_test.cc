// MysqlPool and migrateSchema against a real mariadbd.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/mysql/mysql_world.h"

namespace seckill {
namespace {

using testing::MysqlTest;

using MysqlPoolTest = MysqlTest;

TEST_F(MysqlPoolTest, MigrationCreatesTheSchemaAndIsIdempotent) {
  MysqlPool pool(poolOptions());
  EXPECT_EQ(*schemaVersion(pool), 0);
  ASSERT_TRUE(migrateSchema(pool).ok());
  EXPECT_EQ(*schemaVersion(pool), kMysqlSchemaVersion);
  ASSERT_TRUE(db.exec("INSERT INTO orders (id, sale_id, user_id, state, reason, created, "
                      "pay_before, updated) VALUES ('a-1-s', 's', 'u', 0, 0, 1, 2, 1)",
                      "seckill")
                  .ok());
  absl::Status again = migrateSchema(pool);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(*schemaVersion(pool), kMysqlSchemaVersion);
  EXPECT_EQ(sqlCount("SELECT COUNT(*) FROM orders"), 1);  // data untouched
  EXPECT_EQ(sqlCount("SELECT COUNT(*) FROM schema_version"), 1);
  absl::StatusOr<std::string> engine = db.scalar(
      "SELECT engine FROM information_schema.tables WHERE table_schema = 'seckill' AND "
      "table_name = 'orders'");
  EXPECT_EQ(engine.value_or(""), "InnoDB");
  EXPECT_EQ(sqlCount("SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = "
                     "'seckill' AND table_name = 'orders' AND index_name = 'uk_sale_user' AND "
                     "non_unique = 0"),
            2);  // (sale_id, live_user)
}

TEST_F(MysqlPoolTest, ConcurrentMigrationsBothSucceed) {
  MysqlPool a(poolOptions());
  MysqlPool b(poolOptions());
  absl::Status ra, rb;
  std::thread ta([&] { ra = migrateSchema(a); });
  std::thread tb([&] { rb = migrateSchema(b); });
  ta.join();
  tb.join();
  EXPECT_TRUE(ra.ok()) << ra;
  EXPECT_TRUE(rb.ok()) << rb;
  EXPECT_EQ(*schemaVersion(a), kMysqlSchemaVersion);
  EXPECT_EQ(sqlCount("SELECT COUNT(*) FROM schema_version"), 1);
}

TEST_F(MysqlPoolTest, UniqueKeyAllowsOneLiveOrderPerUserAndSale) {
  MysqlPool pool(poolOptions());
  ASSERT_TRUE(migrateSchema(pool).ok());
  auto insert = [&](const char* id, int state) {
    return db.exec(absl::StrCat("INSERT INTO orders (id, sale_id, user_id, state, reason, "
                                "created, pay_before, updated) VALUES ('",
                                id, "', 's', 'alice', ", state, ", 0, 1, 2, 1)"),
                   "seckill");
  };
  ASSERT_TRUE(insert("n-1-s", 0).ok());
  EXPECT_FALSE(insert("n-2-s", 0).ok());  // a second live order: refused
  ASSERT_TRUE(db.exec("UPDATE orders SET state = 2 WHERE id = 'n-1-s'", "seckill").ok());
  EXPECT_TRUE(insert("n-3-s", 0).ok());  // after a cancel the shopper may order again
}

TEST_F(MysqlPoolTest, NeverOpensMoreThanItsSize) {
  MysqlPool pool(poolOptions(/*size=*/2));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    auto c = pool.acquire(absl::Milliseconds(50));
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto lease = pool.acquire(absl::Seconds(5));
        if (!lease.ok() || !(*lease)->query("SELECT SLEEP(0.001)").ok()) ++failures;
        EXPECT_LE(pool.openCount(), 2);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(pool.openCount(), 2);
  EXPECT_LE(sqlCount("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'seckill'"),
            2);
}

TEST_F(MysqlPoolTest, ReconnectsAfterTheServerRestarts) {
  MysqlPoolOptions o = poolOptions(1);
  o.validate_after = absl::ZeroDuration();
  MysqlPool pool(o);
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->query("SELECT 1").ok());
  }
  db.stop();
  {
    auto lease = pool.acquire();
    EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(pool.openCount(), 0);
  ASSERT_TRUE(db.start().ok());
  auto lease = pool.acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto rows = (*lease)->query("SELECT 1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(pool.openCount(), 1);
}

TEST_F(MysqlPoolTest, AWrongPasswordIsUnavailableNamingTheServer) {
  MysqlPoolOptions o = poolOptions();
  o.url.password = "wrong";
  MysqlPool pool(o);
  auto lease = pool.acquire();
  ASSERT_FALSE(lease.ok());
  EXPECT_NE(lease.status().message().find("Access denied"), std::string::npos) << lease.status();
  EXPECT_EQ(pool.openCount(), 0);
}

}  // namespace
}  // namespace seckill
