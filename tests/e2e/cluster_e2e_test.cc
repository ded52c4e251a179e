// The engine on a three-master Redis Cluster the test creates on loopback:
// sales spread over the masters, a storm on each, a slot moved to another
// master mid-sale; no oversell, one order per shopper.
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/e2e/engine_process.h"
#include "tests/e2e/storm.h"
#include "tests/support/redis_cluster.h"

namespace seckill::e2e {
namespace {

using seckill::testing::RedisCluster;

constexpr int kSales = 6;
constexpr int kStock = 120;

int64_t toInt(const absl::StatusOr<std::string>& s) {
  int64_t v = -1;
  if (!s.ok() || !absl::SimpleAtoi(*s, &v)) return -1;
  return v;
}

class ClusterE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.start();
    ASSERT_TRUE(s.ok()) << s;
    owners_ = cluster_.slotOwners();
    for (int i = 0; i < kSales; ++i) {
      const std::string id = "sale" + std::to_string(i);
      sales_.push_back(id);
      slots_.push_back(static_cast<int>(toInt(cluster_.query(0, {"CLUSTER", "KEYSLOT", id}))));
    }
  }

  std::string config() const {
    // redis = ["tcp://127.0.0.1:p1", ...]: the seed list of the cluster.
    std::string seeds = "[\"" + absl::StrReplaceAll(cluster_.seeds(), {{",", "\", \""}}) + "\"]";
    std::string body = absl::StrCat("[store]\nkind = \"redis\"\nredis = ", seeds,
                                    "\ntimeout = \"5s\"\n[orders]\ncancel_poll = \"1h\"\n");
    for (const std::string& id : sales_) {
      absl::StrAppend(&body, "[[sale]]\nid = \"", id, "\"\nstock = ", kStock,
                      "\npay_timeout = \"1h\"\n");
    }
    return body;
  }

  // Stock left of sale i, asked on the master that owns its slot now.
  int64_t stockLeft(int i) {
    const std::vector<int> owners = cluster_.slotOwners();
    return toInt(cluster_.query(owners[slots_[i]], {"GET", "sk:{" + sales_[i] + "}:stock"}));
  }

  RedisCluster cluster_;
  std::vector<int> owners_;
  std::vector<std::string> sales_;
  std::vector<int> slots_;
};

TEST_F(ClusterE2eTest, StormsOnSalesSpreadOverThreeMastersNeverOversell) {
  std::set<int> masters;
  for (int slot : slots_) masters.insert(owners_[slot]);
  ASSERT_EQ(masters.size(), 3u) << "the sale ids should hash to every master";

  EngineProcess a, b;
  ASSERT_TRUE(a.start(config()));
  ASSERT_TRUE(b.start(config()));

  // First half of each sale's shoppers; then sale0's slot moves to another
  // master (the engines follow MOVED); then the rest.
  auto storm = [&](const std::string& prefix, int users) {
    std::vector<StormResult> results(kSales);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSales; ++i) {
      threads.emplace_back([&, i] {
        results[i] = runStorm({a.port(), b.port()}, sales_[i], 2, users, 2, prefix);
      });
    }
    for (std::thread& t : threads) t.join();
    return results;
  };
  std::vector<StormResult> first = storm("first-", 60);
  const int from = owners_[slots_[0]];
  const int to = (from + 1) % 3;
  absl::Status moved = cluster_.moveSlot(slots_[0], from, to);
  ASSERT_TRUE(moved.ok()) << moved;
  std::vector<StormResult> second = storm("second-", 200);

  for (int i = 0; i < kSales; ++i) {
    SCOPED_TRACE(sales_[i]);
    EXPECT_EQ(first[i].other, 0) << first[i].first_other;
    EXPECT_EQ(second[i].other, 0) << second[i].first_other;
    EXPECT_EQ(first[i].created(), 60);
    EXPECT_EQ(first[i].created() + second[i].created(), kStock);  // sold out, never over
    EXPECT_EQ(stockLeft(i), 0);
  }
  EXPECT_EQ(cluster_.slotOwners()[slots_[0]], to);
  EXPECT_TRUE(a.stop());
  EXPECT_TRUE(b.stop());
}

}  // namespace
}  // namespace seckill::e2e
