#include "engine/store/redis/redis_client.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"

namespace seckill {
namespace {

using testing::RedisTest;

using RedisClientTest = RedisTest;

RedisClientOptions optionsFor(const testing::RedisServer& server) {
  RedisClientOptions o;
  o.port = server.port();
  return o;
}

TEST_F(RedisClientTest, ManyThreadsShareFewConnections) {
  RedisClient client(optionsFor(server));
  EXPECT_EQ(client.connectedCount(), 2);
  constexpr int kThreads = 4, kPerThread = 500;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "k" + std::to_string(t);
        client.command(key, {"INCR", key}, [&](absl::StatusOr<RedisReply> r) {
          if (r.ok() && r->type == RedisReply::Type::kInteger) ++ok;
          ++done;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (done.load() < kThreads * kPerThread && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(*server.query({"GET", "k" + std::to_string(t)}), std::to_string(kPerThread));
  }
  // One connection per client thread, plus the query's own.
  std::string clients = *server.query({"CLIENT", "LIST"});
  EXPECT_EQ(std::count(clients.begin(), clients.end(), '\n'), 3);
}

TEST_F(RedisClientTest, ErrorRepliesBecomeStatuses) {
  RedisClient client(optionsFor(server));
  auto r = client.commandSync("x", {"NOSUCHCOMMAND"});
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  auto nil = client.commandSync("x", {"GET", "missing"});
  ASSERT_TRUE(nil.ok());
  EXPECT_TRUE(nil->isNil());
}

TEST_F(RedisClientTest, BlockingCallOnAConnectionThreadIsRefused) {
  RedisClient client(optionsFor(server));
  auto inner = testing::await<absl::Status>([&](Callback<absl::Status> done) {
    client.command("x", {"PING"}, [&, done = std::move(done)](absl::StatusOr<RedisReply>) mutable {
      std::move(done)(client.commandSync("x", {"PING"}).status());
    });
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(inner)) << inner;
}

TEST_F(RedisClientTest, ASlowServerTimesOutAsUnavailableThenRecovers) {
  RedisClientOptions o = optionsFor(server);
  o.command_timeout = absl::Milliseconds(200);
  RedisClient client(o);
  ASSERT_TRUE(client.commandSync("x", {"PING"}).ok());
  ASSERT_EQ(*server.query({"CLIENT", "PAUSE", "600", "ALL"}), "OK");
  auto started = std::chrono::steady_clock::now();
  auto r = client.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!client.commandSync("x", {"PING"}).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(client.commandSync("x", {"PING"}).ok());
}

TEST_F(RedisClientTest, AFullQueueAnswersUnavailableAtOnce) {
  RedisClientOptions o = optionsFor(server);
  o.max_queued = 0;
  RedisClient client(o);
  auto r = client.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
}

TEST_F(RedisClientTest, ASeedListFromConfigFindsAStandaloneServer) {
  // What `[store] redis = "tcp://..., tcp://..."` becomes; a dead seed is skipped.
  auto seeds = parseRedisAddressList("tcp://127.0.0.1:1, redis://127.0.0.1:" +
                                     std::to_string(server.port()));
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  RedisClientOptions o;
  o.seeds = *seeds;
  RedisClient client(o);
  EXPECT_FALSE(client.clusterMode());
  EXPECT_EQ(client.endpointFor("x"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(client.connectedCount(), 2);
  auto r = client.commandSync("x", {"SET", "k", "v"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*server.query({"GET", "k"}), "v");
}

TEST(RedisClientNoServerTest, NoServerMeansUnavailableAtOnce) {
  RedisClientOptions o;
  o.port = 1;  // nothing listens there
  RedisClient client(o);
  EXPECT_EQ(client.connectedCount(), 0);
  auto started = std::chrono::steady_clock::now();
  auto r = client.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace seckill
