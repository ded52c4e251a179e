// The control state in Redis against a real redis-server: the ControlStore contract
// (tests/support/control_store_suite.h), then what a shared store adds: a change through one
// node reaches another node's watcher within a second (and not its own), a stale commit names
// the current version, and a key of the wrong type fails a change with nothing written.
#include "engine/store/redis/redis_control_store.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/core/control/actor.h"
#include "gtest/gtest.h"
#include "engine/store/redis/redis_endpoint.h"
#include "tests/redis/redis_world.h"
#include "tests/support/control_store_suite.h"
#include "tests/support/redis_cluster.h"

namespace seckill::testing {
namespace {

RedisClientOptions controlClientOptions(const RedisServer& server) {
  RedisClientOptions o;
  o.port = server.port();
  o.connections = 1;
  o.scripts = controlScripts();
  return o;
}

class RedisControlBackend : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client_ = std::make_unique<RedisClient>(controlClientOptions(server));
    store_ = std::make_unique<RedisControlStore>(*client_);
  }
  void TearDown() override {
    store_.reset();
    client_->shutdown();
  }
  control::ControlStore& store() { return *store_; }

 private:
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<RedisControlStore> store_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, ControlStoreTest, RedisControlBackend);

namespace {

using control::ControlTopic;

// Two engine nodes on one Redis, each with its own client and store, each recording what its
// watcher reports.
class RedisControlStoreTest : public RedisTest {
 protected:
  struct Node {
    std::unique_ptr<RedisClient> client;
    std::unique_ptr<RedisControlStore> store;
    std::vector<ControlTopic> seen;  // guarded by the fixture's mu_
  };

  void SetUp() override {
    RedisTest::SetUp();
    for (Node* n : {&a_, &b_}) {
      n->client = std::make_unique<RedisClient>(controlClientOptions(server));
      n->store = std::make_unique<RedisControlStore>(*n->client);
    }
  }
  void TearDown() override {
    for (Node* n : {&a_, &b_}) {
      n->store.reset();
      n->client->shutdown();
    }
  }
  void watchBoth() {
    for (Node* n : {&a_, &b_}) {
      ASSERT_TRUE(n->store
                      ->watch([this, n](ControlTopic t) {
                        absl::MutexLock lock(&mu_);
                        n->seen.push_back(t);
                      })
                      .ok());
    }
  }
  // Waits (bounded) until `pred` holds under mu_.
  bool waitFor(absl::Duration limit, const std::function<bool()>& pred) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    absl::MutexLock lock(&mu_);
    return pred();
  }
  std::vector<ControlTopic> seen(const Node& n) {
    absl::MutexLock lock(&mu_);
    return n.seen;
  }

  absl::Mutex mu_;
  Node a_, b_;
};

TEST_F(RedisControlStoreTest, ChangesReachTheOtherNodeWithinASecondAndNotTheWriter) {
  watchBoth();
  ASSERT_TRUE(a_.store->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1)).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return b_.seen.size() == 1; }));
  EXPECT_EQ(seen(b_)[0], ControlTopic::kRules);
  // B follows: it reads what A wrote.
  absl::StatusOr<std::optional<control::RuleVersion>> current = b_.store->currentRules();
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->change.version, 1u);

  ASSERT_TRUE(b_.store->putBreakerSetting({"redis"}, auditFor("breaker.mode")).ok());
  ASSERT_TRUE(waitFor(absl::Seconds(1), [&] { return a_.seen.size() == 1; }));
  EXPECT_EQ(seen(a_)[0], ControlTopic::kBreakers);

  ASSERT_TRUE(a_.store->putSale({fullSaleSpec("drop", 1), ""}, auditFor("sale.create")).ok());
  ASSERT_TRUE(b_.store->putSale({fullSaleSpec("drop", 2), ""}, auditFor("sale.update")).ok());
  ASSERT_TRUE(
      waitFor(absl::Seconds(1), [&] { return b_.seen.size() == 2 && a_.seen.size() == 2; }));
  EXPECT_EQ(seen(a_)[1], ControlTopic::kSales);
  EXPECT_EQ(seen(b_)[1], ControlTopic::kSales);

  // Audit-only entries change no state: nobody is told.
  ASSERT_TRUE(a_.store->appendAudit(auditFor("engine.start")).ok());
  // A's own writes never came back to A, nor B's to B.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(seen(a_), (std::vector<ControlTopic>{ControlTopic::kBreakers, ControlTopic::kSales}));
  EXPECT_EQ(seen(b_), (std::vector<ControlTopic>{ControlTopic::kRules, ControlTopic::kSales}));
}

TEST_F(RedisControlStoreTest, ChangesBeforeWatchAreNotReported) {
  ASSERT_TRUE(a_.store->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1)).ok());
  watchBoth();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(seen(a_).empty());
  EXPECT_TRUE(seen(b_).empty());
  EXPECT_TRUE(absl::IsFailedPrecondition(a_.store->watch([](ControlTopic) {})));
}

TEST_F(RedisControlStoreTest, StaleCommitNamesTheCurrentVersion) {
  ASSERT_TRUE(a_.store->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1)).ok());
  ASSERT_TRUE(a_.store->commitRules(1, ruleVersionFor(2), auditFor("rules.apply", 2)).ok());
  absl::Status stale = b_.store->commitRules(1, ruleVersionFor(2), auditFor("rules.apply", 2));
  EXPECT_TRUE(absl::IsAborted(stale)) << stale;
  EXPECT_EQ(control::currentVersionOf(stale), 2u);
  EXPECT_TRUE(absl::IsInvalidArgument(
      b_.store->commitRules(2, ruleVersionFor(4), auditFor("rules.apply", 4))));
  EXPECT_EQ(*server.query({"GET", std::string(redis_keys::kControlRulesVersion)}), "2");
  EXPECT_EQ(*server.query({"XLEN", std::string(redis_keys::kControlAudit)}), "2");
}

TEST_F(RedisControlStoreTest, KeyOfTheWrongTypeFailsTheChangeWithNothingWritten) {
  ASSERT_TRUE(server.query({"SET", std::string(redis_keys::kControlAudit), "oops"}).ok());
  absl::Status s = a_.store->commitRules(0, ruleVersionFor(1), auditFor("rules.seed", 1));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("WRONGTYPE"), absl::string_view::npos) << s;
  EXPECT_FALSE(a_.store->currentRules()->has_value());
  EXPECT_FALSE(a_.store->putSale({fullSaleSpec("drop", 1), ""}, auditFor("sale.create")).ok());
  EXPECT_TRUE(a_.store->sales()->empty());
  EXPECT_EQ(*server.query({"EXISTS", std::string(redis_keys::kControlGen)}), "0");
}

TEST_F(RedisControlStoreTest, CorruptJsonIsReportedWithItsKey) {
  ASSERT_TRUE(server.query({"SET", std::string(redis_keys::kControlRules), "{oops"}).ok());
  absl::StatusOr<std::optional<control::RuleVersion>> current = a_.store->currentRules();
  EXPECT_TRUE(absl::IsDataLoss(current.status())) << current.status();
  EXPECT_NE(std::string(current.status().message()).find(redis_keys::kControlRules),
            std::string::npos)
      << current.status();
}

// Every key is in the {control} slot, so each change stays one script call on a cluster.
TEST(RedisClusterControlStoreTest, TheWholeStateLivesInOneSlot) {
  RedisCluster cluster;
  ASSERT_TRUE(cluster.start().ok());
  RedisClientOptions o;
  absl::StatusOr<std::vector<RedisEndpoint>> seeds = parseRedisAddressList(cluster.seeds());
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  o.seeds = *seeds;
  o.scripts = controlScripts();
  RedisClient client(o);
  ASSERT_TRUE(client.clusterMode());
  {
    RedisControlStore store(client);
    for (uint64_t v = 1; v <= 3; ++v) {
      ASSERT_TRUE(store.commitRules(v - 1, ruleVersionFor(v), auditFor("rules.apply", v)).ok());
    }
    EXPECT_TRUE(absl::IsAborted(store.commitRules(1, ruleVersionFor(2), auditFor("x", 2))));
    ASSERT_TRUE(store.putSale({fullSaleSpec("drop", 1), ""}, auditFor("sale.create")).ok());
    ASSERT_TRUE(store.putBreakerSetting({"redis"}, auditFor("breaker.mode")).ok());
    EXPECT_EQ(store.ruleVersions(10)->size(), 3u);
    EXPECT_EQ(store.sales()->size(), 1u);
    EXPECT_EQ(store.breakerSettings()->size(), 1u);
    EXPECT_EQ(allAudit(store, {}, 2).size(), 5u);
  }
  client.shutdown();
}

}  // namespace
}  // namespace seckill::testing
