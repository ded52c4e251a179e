// RedisClient on a real three-master Redis Cluster (tests/support/redis_cluster.h),
// the pure cluster arithmetic, and RedisSubscriber.
#include "engine/store/redis/redis_cluster.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/sale_catalog.h"
#include "engine/core/sale_service.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_endpoint.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_order_repository.h"
#include "engine/store/redis/redis_sale_store.h"
#include "engine/store/redis/redis_subscriber.h"
#include "gtest/gtest.h"
#include "tests/support/await.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace seckill {
namespace {

using testing::RedisCluster;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// ---- the pure parts -------------------------------------------------------

TEST(RedisClusterMathTest, Crc16IsTheSpecificationsXmodem) {
  EXPECT_EQ(redis_cluster::crc16("123456789"), 0x31C3);
  EXPECT_EQ(redis_cluster::crc16(""), 0);
}

TEST(RedisClusterMathTest, KeySlotFollowsTheHashTagRule) {
  EXPECT_EQ(redis_cluster::keySlot("sk:{s1}:stock"), redis_cluster::routeSlot("s1"));
  EXPECT_EQ(redis_cluster::keySlot("sk:{s1}:d:alice"), redis_cluster::routeSlot("s1"));
  EXPECT_EQ(redis_cluster::keySlot("foo{}{bar}"), redis_cluster::routeSlot("foo{}{bar}"));
  EXPECT_EQ(redis_cluster::keySlot("foo{{bar}}zap"), redis_cluster::routeSlot("{bar"));
  EXPECT_EQ(redis_cluster::keySlot("foo{bar}{zap}"), redis_cluster::routeSlot("bar"));
  EXPECT_EQ(redis_cluster::keySlot("plain"), redis_cluster::routeSlot("plain"));
  EXPECT_EQ(redis_cluster::routeSlot("123456789"), 0x31C3 & 16383);
}

TEST(RedisClusterMathTest, RedirectsAreParsed) {
  auto moved = redis_cluster::parseRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->target, (RedisEndpoint{"127.0.0.1", 6381}));
  auto ask = redis_cluster::parseRedirect("ASK 12 :7000");
  ASSERT_TRUE(ask.has_value());
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->target.host, "");
  EXPECT_EQ(ask->target.port, 7000);
  EXPECT_FALSE(redis_cluster::parseRedirect("ERR wrong number of arguments").has_value());
  EXPECT_FALSE(redis_cluster::parseRedirect("MOVED 99999 h:1").has_value());
  EXPECT_FALSE(redis_cluster::parseRedirect("MOVED x h:1").has_value());
}

TEST(RedisEndpointTest, AddressesInEveryAcceptedForm) {
  for (const char* a :
       {"tcp://10.0.0.1:7000", "redis://10.0.0.1:7000", "10.0.0.1:7000", "tcp://10.0.0.1:7000/"}) {
    auto e = parseRedisAddress(a);
    ASSERT_TRUE(e.ok()) << a << ": " << e.status();
    EXPECT_EQ(*e, (RedisEndpoint{"10.0.0.1", 7000})) << a;
  }
  auto v6 = parseRedisAddress("tcp://[::1]:6379");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->toString(), "[::1]:6379");
  EXPECT_EQ(parseRedisAddress("redis.local:6379")->toString(), "redis.local:6379");
}

TEST(RedisEndpointTest, BadAddressesAreNamed) {
  for (const char* a : {"", "localhost", "tcp://:6379", "tcp://h:0", "tcp://h:70000", "h:12x",
                        "http://h:1", "::1:6379", "tcp://h:"}) {
    auto e = parseRedisAddress(a);
    EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << a;
    EXPECT_NE(std::string(e.status().message()).find(std::string("\"") + a + "\""),
              std::string::npos)
        << e.status();
  }
}

TEST(RedisEndpointTest, UrlsCarryCredentials) {
  auto plain = parseRedisUrl("tcp://10.0.0.1:7000");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->endpoint, (RedisEndpoint{"10.0.0.1", 7000}));
  EXPECT_FALSE(plain->auth.enabled());

  auto pass = parseRedisUrl("redis://:s3cret@10.0.0.1:7000");
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->endpoint, (RedisEndpoint{"10.0.0.1", 7000}));
  EXPECT_EQ(pass->auth, (RedisAuth{"", "s3cret"}));

  auto user = parseRedisUrl("tcp://app:p%40ss%3Aw%25rd@[::1]:6379/");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->endpoint, (RedisEndpoint{"::1", 6379}));
  EXPECT_EQ(user->auth, (RedisAuth{"app", "p@ss:w%rd"}));

  // A raw "@" in the password: the last one ends the credentials.
  auto raw = parseRedisUrl("redis://:a@b@h:1");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->auth.password, "a@b");
  EXPECT_EQ(raw->endpoint.host, "h");
}

TEST(RedisEndpointTest, BadCredentialsAreNamedWithoutThePassword) {
  const struct {
    const char* url;
    const char* why;
  } cases[] = {
      {"redis://s3cret@h:1", "user:password@ or :password@"},
      {"redis://app:@h:1", "empty password"},
      {"redis://app:s3cret%4@h:1", "%-escape"},
      {"redis://app:s3cret%zz@h:1", "%-escape"},
      {":s3cret@h:1", "need the redis:// or tcp:// scheme"},
      {"redis://app:s3cret@h:0", "port must be 1..65535"},
      {"redis://app:s3cret@:6379", "missing host"},
  };
  for (const auto& c : cases) {
    auto u = parseRedisUrl(c.url);
    ASSERT_TRUE(absl::IsInvalidArgument(u.status())) << c.url;
    const std::string message(u.status().message());
    EXPECT_NE(message.find(c.why), std::string::npos) << c.url << ": " << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << c.url << ": " << message;
  }
  EXPECT_NE(std::string(parseRedisUrl("redis://app:s3cret@h:0").status().message())
                .find("\"redis://app:***@h:0\""),
            std::string::npos);
}

TEST(RedisEndpointTest, ListsOfSeeds) {
  auto list = parseRedisAddressList("tcp://127.0.0.1:7000, tcp://127.0.0.1:7001 127.0.0.1:7002");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2], (RedisEndpoint{"127.0.0.1", 7002}));
  auto bad = parseRedisAddressList("tcp://127.0.0.1:7000,tcp://127.0.0.1:x");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(std::string(bad.status().message()).find("tcp://127.0.0.1:x"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(parseRedisAddressList(" , ").status()));
  auto vec = parseRedisAddressList(std::vector<std::string>{"a:1", "b:2"});
  ASSERT_TRUE(vec.ok());
  EXPECT_EQ(vec->size(), 2u);
}

// ---- against a real cluster -----------------------------------------------

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster.start();
    ASSERT_TRUE(s.ok()) << s;
    owners = cluster.slotOwners();
  }

  RedisClientOptions options(std::vector<RedisScript> scripts = {}) {
    RedisClientOptions o;
    auto seeds = parseRedisAddressList(cluster.seeds());
    EXPECT_TRUE(seeds.ok()) << seeds.status();
    o.seeds = *seeds;
    o.scripts = std::move(scripts);
    return o;
  }

  // `n` routes (r<k>) whose slots the given master owns.
  std::vector<std::string> routesOn(int master, int n, const std::string& prefix = "r") {
    std::vector<std::string> out;
    for (int k = 0; static_cast<int>(out.size()) < n; ++k) {
      std::string r = prefix + std::to_string(k);
      if (owners[redis_cluster::routeSlot(r)] == master) out.push_back(r);
    }
    return out;
  }

  std::string endpoint(int master) const {
    return "127.0.0.1:" + std::to_string(cluster.port(master));
  }

  RedisCluster cluster;
  std::vector<int> owners;
};

TEST_F(RedisClusterTest, SlotsAgreeWithClusterKeyslot) {
  for (std::string key : {"sk:{s1}:stock", "sk:{drop}:d:alice", "plain", "123456789", "{}x",
                          "a{b}c{d}", "sk:{sale-42}:orders"}) {
    EXPECT_EQ(*cluster.query(0, {"CLUSTER", "KEYSLOT", key}),
              std::to_string(redis_cluster::keySlot(key)))
        << key;
  }
  for (int i = 0; i < 200; ++i) {
    std::string sale = "sale" + std::to_string(i);
    EXPECT_EQ(*cluster.query(0, {"CLUSTER", "KEYSLOT", redis_keys::stock(sale)}),
              std::to_string(redis_cluster::routeSlot(sale)));
  }
}

TEST_F(RedisClusterTest, CommandsLandOnTheMasterOfTheRoutesSlot) {
  RedisClient client(options());
  ASSERT_TRUE(client.clusterMode());
  EXPECT_EQ(client.connectedCount(), 3 * 2);  // two connections per master
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    for (const std::string& r : routesOn(m, 4)) {
      EXPECT_EQ(client.endpointFor(r), endpoint(m));
      auto set = client.commandSync(r, {"SET", "sk:{" + r + "}:k", "v-" + r});
      ASSERT_TRUE(set.ok()) << set.status();
      EXPECT_EQ(*cluster.query(m, {"GET", "sk:{" + r + "}:k"}), "v-" + r);
    }
  }
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    EXPECT_EQ(*cluster.query(m, {"DBSIZE"}), "4") << "master " << m;
  }
  // Nothing was redirected: one command written per SET (plus the probes).
  uint64_t before = client.commandsSent();
  ASSERT_TRUE(
      client.commandSync(routesOn(2, 1)[0], {"GET", "sk:{" + routesOn(2, 1)[0] + "}:k"}).ok());
  EXPECT_EQ(client.commandsSent() - before, 1u);
}

TEST_F(RedisClusterTest, ScriptsRunByEvalshaOnEveryMaster) {
  RedisClient client(
      options({RedisScript{"incrby", "return redis.call('INCRBY', KEYS[1], ARGV[1])"}}));
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    std::string r = routesOn(m, 1)[0];
    for (int i = 0; i < 3; ++i) {
      auto v = client.evalSync(r, 0, {"sk:{" + r + "}:n"}, {"5"});
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(v->integer, 5 * (i + 1));
    }
    EXPECT_EQ(*cluster.query(m, {"GET", "sk:{" + r + "}:n"}), "15");
  }
  // A master that lost its scripts gets them again (NOSCRIPT, reload, retry).
  ASSERT_EQ(*cluster.query(1, {"SCRIPT", "FLUSH"}), "OK");
  std::string r1 = routesOn(1, 1)[0];
  auto v = client.evalSync(r1, 0, {"sk:{" + r1 + "}:n"}, {"1"});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->integer, 16);
}

TEST_F(RedisClusterTest, MovedIsFollowedAfterTheSlotMigrates) {
  RedisClient client(options({RedisScript{"get", "return redis.call('GET', KEYS[1])"}}));
  std::string r = routesOn(0, 1)[0];
  int slot = redis_cluster::routeSlot(r);
  std::string key = "sk:{" + r + "}:k";
  ASSERT_TRUE(client.commandSync(r, {"SET", key, "before"}).ok());
  ASSERT_EQ(client.endpointFor(r), endpoint(0));

  absl::Status moved = cluster.moveSlot(slot, 0, 2);
  ASSERT_TRUE(moved.ok()) << moved;
  EXPECT_EQ(*cluster.query(0, {"DBSIZE"}), "0");
  EXPECT_EQ(*cluster.query(2, {"DBSIZE"}), "1");

  // The client still maps the slot to master 0: it gets MOVED and follows it.
  auto got = client.commandSync(r, {"GET", key});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str, "before");
  EXPECT_EQ(client.endpointFor(r), endpoint(2));
  auto script = client.evalSync(r, 0, {key}, {});
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_EQ(script->str, "before");
  ASSERT_TRUE(client.commandSync(r, {"SET", key, "after"}).ok());
  EXPECT_EQ(*cluster.query(2, {"GET", key}), "after");
}

// Calls of `command` (e.g. "cluster|slots") over all masters since the last CONFIG RESETSTAT.
long callsOnAllMasters(const RedisCluster& cluster, const std::string& command) {
  long n = 0;
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    absl::StatusOr<std::string> info = cluster.query(m, {"INFO", "commandstats"});
    if (!info.ok()) continue;
    std::string prefix = "cmdstat_" + command + ":calls=";
    size_t at = info->find(prefix);
    if (at != std::string::npos) n += std::atol(info->c_str() + at + prefix.size());
  }
  return n;
}

TEST_F(RedisClusterTest, ABurstOfMovedRepliesCostsFewMapRefreshes) {
  RedisClient client(options());
  std::vector<std::string> routes = routesOn(1, 20);
  for (const std::string& r : routes) {
    ASSERT_TRUE(client.commandSync(r, {"SET", "sk:{" + r + "}:k", r}).ok());
  }
  // Every one of those slots moves to master 0 behind the client's back.
  for (const std::string& r : routes) {
    ASSERT_TRUE(cluster.moveSlot(redis_cluster::routeSlot(r), 1, 0).ok());
  }
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    ASSERT_EQ(*cluster.query(m, {"CONFIG", "RESETSTAT"}), "OK");
  }
  constexpr int kCommands = 400;
  std::atomic<int> ok{0}, done{0};
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kCommands; ++i) {
    const std::string& r = routes[i % routes.size()];
    client.command(r, {"GET", "sk:{" + r + "}:k"}, [&, r](absl::StatusOr<RedisReply> got) {
      if (got.ok() && got->str == r) ++ok;
      ++done;
    });
  }
  ASSERT_TRUE(eventually([&] { return done.load() == kCommands; }));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ok.load(), kCommands);
  // Twenty slots moved, hundreds of MOVED replies: the refreshes are bounded
  // by the refresh interval (100 ms), not by the replies.
  long refreshes = callsOnAllMasters(cluster, "cluster|slots");
  EXPECT_GE(refreshes, 1);
  EXPECT_LE(refreshes, 2 + elapsed / std::chrono::milliseconds(100));
  for (const std::string& r : routes) EXPECT_EQ(client.endpointFor(r), endpoint(0));
}

TEST_F(RedisClusterTest, AskIsFollowedWhileTheSlotIsMidMigration) {
  RedisClient client(options());
  std::string r = routesOn(1, 1)[0];
  int slot = redis_cluster::routeSlot(r);
  std::string old_key = "sk:{" + r + "}:old";
  std::string new_key = "sk:{" + r + "}:new";
  ASSERT_TRUE(client.commandSync(r, {"SET", old_key, "o"}).ok());
  absl::Status begun = cluster.beginMigration(slot, 1, 0);
  ASSERT_TRUE(begun.ok()) << begun;

  // A key still on the source is served there; a new key is ASKed over to
  // the target (ASKING + SET there); the map is not changed by an ASK.
  auto old_value = client.commandSync(r, {"GET", old_key});
  ASSERT_TRUE(old_value.ok()) << old_value.status();
  EXPECT_EQ(old_value->str, "o");
  uint64_t before = client.commandsSent();
  auto set = client.commandSync(r, {"SET", new_key, "n"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(client.commandsSent() - before, 3u);  // SET, then ASKING + SET
  EXPECT_EQ(*cluster.query(0, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}), "1");
  EXPECT_EQ(*cluster.query(1, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}), "1");
  EXPECT_EQ(client.endpointFor(r), endpoint(1));

  ASSERT_TRUE(cluster.migrateKeys(slot, 1, 0).ok());
  // Both keys are on the target now: a GET of the old key is ASKed as well.
  auto moved_old = client.commandSync(r, {"GET", old_key});
  ASSERT_TRUE(moved_old.ok()) << moved_old.status();
  EXPECT_EQ(moved_old->str, "o");
  ASSERT_TRUE(cluster.finishMigration(slot, 0).ok());
  auto moved_new = client.commandSync(r, {"GET", new_key});
  ASSERT_TRUE(moved_new.ok()) << moved_new.status();
  EXPECT_EQ(moved_new->str, "n");
  EXPECT_EQ(client.endpointFor(r), endpoint(0));
}

TEST_F(RedisClusterTest, ARedirectLoopEndsUnavailable) {
  RedisClient client(options());
  std::string r = routesOn(0, 1)[0];
  std::string slot = std::to_string(redis_cluster::routeSlot(r));
  // Masters 0 and 2 each claim the other owns the slot: MOVED back and forth.
  ASSERT_EQ(*cluster.query(0, {"CLUSTER", "SETSLOT", slot, "NODE", cluster.nodeId(2)}), "OK");
  ASSERT_EQ(*cluster.query(2, {"CLUSTER", "SETSLOT", slot, "NODE", cluster.nodeId(0)}), "OK");
  auto got = client.commandSync(r, {"GET", "sk:{" + r + "}:k"});
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
  EXPECT_NE(std::string(got.status().message()).find("redirects"), std::string::npos)
      << got.status();
}

TEST_F(RedisClusterTest, ATransactionRunsOnTheRoutesMasterAndFailsOnMoved) {
  RedisClient client(options());
  std::string r = routesOn(2, 1)[0];
  std::string key = "sk:{" + r + "}:n";
  auto txn = [&] {
    return testing::await<absl::StatusOr<RedisReply>>(
        [&](Callback<absl::StatusOr<RedisReply>> done) {
          client.transact(
              r,
              [key](RedisClient::Session& s) -> absl::StatusOr<RedisReply> {
                auto replies = s.pipeline({{"WATCH", key}, {"GET", key}});
                if (!replies.ok()) return replies.status();
                auto exec = s.pipeline({{"MULTI"}, {"INCR", key}, {"EXEC"}});
                if (!exec.ok()) return exec.status();
                return exec->back();
              },
              std::move(done));
        });
  };
  auto first = txn();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*cluster.query(2, {"GET", key}), "1");
  ASSERT_TRUE(cluster.moveSlot(redis_cluster::routeSlot(r), 2, 1).ok());
  auto during = txn();
  EXPECT_TRUE(absl::IsUnavailable(during.status())) << during.status();
  // The MOVED updated the map: the retry runs on the new master.
  auto retry = txn();
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(*cluster.query(1, {"GET", key}), "2");
}

TEST_F(RedisClusterTest, AMasterThatGoesAwayIsReconnectedWhenItReturns) {
  RedisClientOptions o = options();
  RedisClient client(o);
  std::string on0 = routesOn(0, 1)[0], on2 = routesOn(2, 1)[0];
  ASSERT_TRUE(client.commandSync(on2, {"SET", "sk:{" + on2 + "}:k", "v"}).ok());
  cluster.stop(2);
  auto down = client.commandSync(on2, {"GET", "sk:{" + on2 + "}:k"});
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();
  // The other masters keep serving their slots (within the node timeout).
  EXPECT_TRUE(client.commandSync(on0, {"SET", "sk:{" + on0 + "}:k", "v"}).ok());
  ASSERT_TRUE(cluster.restart(2).ok());
  EXPECT_TRUE(eventually([&] {
    auto r = client.commandSync(on2, {"PING"});
    return r.ok();
  }));
  EXPECT_EQ(client.connectedCount(), 3 * 2);
  EXPECT_EQ(client.endpointFor(on2), endpoint(2));
}

TEST_F(RedisClusterTest, TheSeedListMayNameDeadNodes) {
  RedisClientOptions o = options();
  o.seeds.insert(o.seeds.begin(), RedisEndpoint{"127.0.0.1", 1});  // nothing listens there
  RedisClient client(o);
  ASSERT_TRUE(client.clusterMode());
  std::string r = routesOn(1, 1)[0];
  EXPECT_TRUE(client.commandSync(r, {"SET", "sk:{" + r + "}:k", "v"}).ok());
}

// ---- the storm: the real stack on the cluster ------------------------------

// The engine core on the Redis stores, against the cluster: RedisWorld's
// cluster twin (tests/redis/redis_world.h).
struct ClusterWorld {
  ClusterWorld(RedisClientOptions options, std::vector<SaleSpec> specs)
      : client(std::make_unique<RedisClient>(std::move(options))), store(*client) {
    auto created = SaleCatalog::create(std::move(specs));
    EXPECT_TRUE(created.ok()) << created.status();
    catalog = *std::move(created);
    sales = std::make_unique<SaleService>(clock, *catalog, store, ids);
    absl::Status s = sales->registerSales();
    EXPECT_TRUE(s.ok()) << s;
  }
  ~ClusterWorld() { client->shutdown(); }

  OrderReply order(std::string_view sale, std::string_view user) {
    return testing::await<OrderReply>(
        [&](Callback<OrderReply> done) { sales->placeOrder(sale, user, {}, std::move(done)); });
  }

  ManualClock clock;
  OrderIdGenerator ids{7};
  std::unique_ptr<RedisClient> client;
  RedisSaleStore store;
  std::unique_ptr<SaleCatalog> catalog;
  std::unique_ptr<SaleService> sales;
};

TEST_F(RedisClusterTest, StormOnTheClusterNeverOversells) {
  // Eight sales spread over the three masters (3 + 3 + 2), one of them on the
  // optimistic (WATCH/MULTI) strategy.
  std::vector<std::string> sale_ids;
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    for (const std::string& id : routesOn(m, m < 2 ? 3 : 2, "sale-")) sale_ids.push_back(id);
  }
  constexpr int64_t kStock = 40;
  std::vector<SaleSpec> specs;
  for (size_t i = 0; i < sale_ids.size(); ++i) {
    SaleSpec s;
    s.id = sale_ids[i];
    s.name = s.id;
    s.stock = kStock;
    if (i == 4) s.strategy = StockStrategy::kOptimistic;
    specs.push_back(s);
  }
  RedisClientOptions o = options(storeScripts());
  ClusterWorld w(o, specs);
  ASSERT_TRUE(w.client->clusterMode());

  constexpr int kThreads = 8, kPerThread = 300, kUsers = 60;
  std::mutex mu;
  std::map<std::string, std::set<std::string>> winners;  // sale -> users with an order
  std::map<std::string, int> created;
  std::atomic<int> duplicates_of_strangers{0}, unexpected{0}, twice{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& sale = sale_ids[(t + i) % sale_ids.size()];
        // Half the requests come from a small crowd that repeats itself, half
        // from fresh users.
        std::string user = (i % 2 == 0) ? "crowd" + std::to_string((i * 7 + t) % kUsers)
                                        : "fresh-" + std::to_string(t) + "-" + std::to_string(i);
        OrderReply r = w.order(sale, user);
        std::lock_guard<std::mutex> lock(mu);
        switch (r.outcome) {
          case Outcome::kCreated:
            ++created[sale];
            if (!winners[sale].insert(user).second) ++twice;
            break;
          case Outcome::kDuplicate:
            if (winners[sale].count(user) == 0 && r.order.user_id != user)
              ++duplicates_of_strangers;
            break;
          case Outcome::kSoldOut:
            break;
          default:
            ++unexpected;
            break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(twice.load(), 0);  // at most one order per (user, sale)
  EXPECT_EQ(duplicates_of_strangers.load(), 0);
  int64_t total_created = 0;
  for (const std::string& sale : sale_ids) {
    auto left = testing::await<absl::StatusOr<int64_t>>(
        [&](Callback<absl::StatusOr<int64_t>> done) { w.store.stockLeft(sale, std::move(done)); });
    ASSERT_TRUE(left.ok()) << left.status();
    EXPECT_LE(created[sale], kStock) << sale;          // no oversell
    EXPECT_EQ(*left + created[sale], kStock) << sale;  // stock conserved
    EXPECT_GT(created[sale], 0) << sale;
    total_created += created[sale];
    // The sale's keys live on its master alone.
    int m = owners[redis_cluster::routeSlot(sale)];
    EXPECT_EQ(*cluster.query(m, {"XLEN", redis_keys::orderStream(sale)}),
              std::to_string(created[sale]));
  }
  EXPECT_EQ(total_created, static_cast<int64_t>(sale_ids.size()) * kStock);  // all sold out
  for (int m = 0; m < RedisCluster::kMasters; ++m) {
    auto dbsize = cluster.query(m, {"DBSIZE"});
    ASSERT_TRUE(dbsize.ok());
    EXPECT_GT(std::stoi(*dbsize), 0) << "master " << m << " holds no sale";
  }
}

TEST_F(RedisClusterTest, AStormFollowsItsSaleToAnotherMaster) {
  // One sale's slot is resharded from master 0 to master 1 while orders pour
  // in: attempts caught mid-migration answer 503 (TRYAGAIN: the script's keys
  // are split between the nodes) and run nowhere; the rest follow ASK, then
  // MOVED. No unit is lost or sold twice.
  const std::string sale = routesOn(0, 1, "moving-")[0];
  const int slot = redis_cluster::routeSlot(sale);
  constexpr int64_t kStock = 2000;  // not sold out before the move ends
  SaleSpec spec;
  spec.id = sale;
  spec.name = sale;
  spec.stock = kStock;
  ClusterWorld w(options(storeScripts()), {spec});

  std::atomic<int> created{0}, unavailable{0}, unexpected{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        OrderReply r = w.order(sale, "u" + std::to_string(t) + "-" + std::to_string(i));
        if (r.outcome == Outcome::kCreated) {
          ++created;
        } else if (r.outcome == Outcome::kUnavailable) {
          ++unavailable;
        } else {
          ++unexpected;
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return created.load() >= 20; }));
  absl::Status moved = cluster.moveSlot(slot, 0, 1);
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_TRUE(moved.ok()) << moved;
  EXPECT_EQ(unexpected.load(), 0);

  // After the move every attempt succeeds on master 1 until the sale sells out.
  int64_t after = 0;
  for (int i = 0; i < 2 * kStock; ++i) {
    OrderReply r = w.order(sale, "late-" + std::to_string(i));
    if (r.outcome == Outcome::kSoldOut) break;
    ASSERT_EQ(r.outcome, Outcome::kCreated) << static_cast<int>(r.outcome);
    ++after;
  }
  EXPECT_EQ(created.load() + after, kStock);
  EXPECT_EQ(*cluster.query(1, {"XLEN", redis_keys::orderStream(sale)}), std::to_string(kStock));
  EXPECT_EQ(*cluster.query(1, {"GET", redis_keys::stock(sale)}), "0");
  EXPECT_EQ(*cluster.query(0, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}), "0");
  EXPECT_EQ(w.client->endpointFor(sale), endpoint(1));
  std::printf("migration storm: %d created while the slot moved, %d answered 503, %lld after\n",
              created.load(), unavailable.load(), static_cast<long long>(after));
}

// ---- pub/sub ----------------------------------------------------------------

// Collects messages from a subscriber's thread.
struct Inbox {
  void add(std::string_view channel, std::string_view payload) {
    std::lock_guard<std::mutex> lock(mu);
    messages.emplace_back(std::string(channel), std::string(payload));
  }
  bool has(const std::string& channel, const std::string& payload) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [c, p] : messages) {
      if (c == channel && p == payload) return true;
    }
    return false;
  }
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> messages;
};

TEST(RedisSubscriberTest, DeliversAndSurvivesARedisRestart) {
  testing::RedisServer server;
  ASSERT_TRUE(server.start().ok());
  RedisClientOptions o;
  o.port = server.port();
  RedisClient client(o);
  Inbox inbox;
  RedisSubscriber sub(
      {.seeds = {{"127.0.0.1", server.port()}}, .channels = {"sk:soldout", "sk:restock"}},
      [&](std::string_view c, std::string_view p) { inbox.add(c, p); });
  ASSERT_TRUE(eventually([&] { return sub.subscribed(); }));
  auto n = client.commandSync("s1", {"PUBLISH", "sk:soldout", "s1"});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->integer, 1);  // one subscriber got it
  EXPECT_TRUE(eventually([&] { return inbox.has("sk:soldout", "s1"); }));
  EXPECT_TRUE(client.commandSync("s1", {"PUBLISH", "other", "x"}).ok());

  server.stop();
  EXPECT_TRUE(eventually([&] { return !sub.subscribed(); }));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return sub.subscribed() && sub.subscriptions() >= 2; }));
  EXPECT_TRUE(eventually([&] {
    auto r = client.commandSync("s2", {"PUBLISH", "sk:restock", "s2"});
    return r.ok() && r->integer == 1;
  }));
  EXPECT_TRUE(eventually([&] { return inbox.has("sk:restock", "s2"); }));
  sub.stop();
  std::lock_guard<std::mutex> lock(inbox.mu);
  for (auto& [c, p] : inbox.messages) EXPECT_NE(c, "other");
}

TEST(RedisSubscriberTest, StopsWhileNoServerAnswers) {
  RedisSubscriber sub({.seeds = {{"127.0.0.1", 1}}, .channels = {"c"}},
                      [](std::string_view, std::string_view) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(sub.subscribed());
  auto started = std::chrono::steady_clock::now();
  sub.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(600));
}

TEST_F(RedisClusterTest, APublishOnOneMasterReachesASubscriberOnAnother) {
  RedisClient client(options());
  Inbox inbox;
  RedisSubscriber sub({.seeds = {{"127.0.0.1", cluster.port(0)}}, .channels = {"sk:soldout"}},
                      [&](std::string_view c, std::string_view p) { inbox.add(c, p); });
  ASSERT_TRUE(eventually([&] { return sub.subscribed(); }));
  std::string r = routesOn(2, 1)[0];  // published on master 2
  ASSERT_TRUE(client.commandSync(r, {"PUBLISH", "sk:soldout", r}).ok());
  EXPECT_TRUE(eventually([&] { return inbox.has("sk:soldout", r); }));
}

}  // namespace
}  // namespace seckill
