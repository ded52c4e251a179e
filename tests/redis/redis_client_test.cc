#include "engine/store/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/store/redis/redis_reply_util.h"
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

// The client formats its commands itself: byte for byte what hiredis would send.
TEST(RedisEncodeCommandTest, MatchesHiredisFormatting) {
  std::string binary("a\0b\r\n$*", 8);
  const std::vector<std::vector<std::string>> commands = {
      {"PING"},
      {"SET", "k", ""},
      {"HSET", "h", binary, std::string(1000, 'x')},
      {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "2", "k1", "k2", "1", "22", "333",
       "4444", "55555", "666666", "7777777"},
  };
  std::string wire;
  for (const auto& argv : commands) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    char* theirs = nullptr;
    const int len =
        redisFormatCommandArgv(&theirs, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    ASSERT_GT(len, 0);
    redis_internal::encodeCommand(argv, wire);
    EXPECT_EQ(wire, std::string(theirs, static_cast<size_t>(len))) << argv[0];
    redisFreeCommand(theirs);
  }
  // The scratch string is reused: a shorter command after a longer one keeps its capacity.
  const size_t capacity = wire.capacity();
  redis_internal::encodeCommand({"PING"}, wire);
  EXPECT_EQ(wire, "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(wire.capacity(), capacity);
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
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr(":" + std::to_string(server.port()) +
                                   ": 0 commands queued, none more taken"));
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

// requirepass and an ACL user on the test's server; the client sends AUTH on
// every connection, and a refusal is named in the Unavailable it answers.
TEST_F(RedisClientTest, PasswordsAndAclUsersAreSentWithAuth) {
  ASSERT_EQ(*server.query({"ACL", "SETUSER", "app", "on", ">app-pw", "~*", "&*", "+@all"}), "OK");
  ASSERT_EQ(*server.query({"CONFIG", "SET", "requirepass", "s3cret"}), "OK");

  RedisClientOptions none = optionsFor(server);
  none.scripts = {{"ping", "return 'pong'"}};
  RedisClient anonymous(none);
  EXPECT_EQ(anonymous.connectedCount(), 0);
  auto refused = anonymous.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::AllOf(::testing::HasSubstr("127.0.0.1:" + std::to_string(server.port())),
                               ::testing::HasSubstr("NOAUTH")));

  RedisClientOptions wrong = optionsFor(server);
  wrong.auth = {.user = "", .password = "guess"};
  RedisClient guessing(wrong);
  auto wrong_pw = guessing.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(wrong_pw.status())) << wrong_pw.status();
  EXPECT_THAT(std::string(wrong_pw.status().message()), ::testing::HasSubstr("WRONGPASS"));
  EXPECT_THAT(std::string(wrong_pw.status().message()), ::testing::Not(::testing::HasSubstr("guess")));

  for (const RedisAuth& auth : {RedisAuth{"", "s3cret"}, RedisAuth{"app", "app-pw"}}) {
    RedisClientOptions o = optionsFor(server);
    o.auth = auth;
    o.scripts = {{"ping", "return 'pong'"}};
    RedisClient client(o);
    EXPECT_EQ(client.connectedCount(), 2) << auth.user;
    auto set = client.commandSync("x", {"SET", "k", auth.user});
    ASSERT_TRUE(set.ok()) << auth.user << ": " << set.status();
    auto got = client.commandSync("x", {"GET", "k"});
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->str, auth.user);
    std::promise<absl::StatusOr<RedisReply>> script;
    client.eval("x", 0, {}, {}, [&](absl::StatusOr<RedisReply> r) { script.set_value(r); });
    auto pong = script.get_future().get();
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(pong->str, "pong");
    auto who = client.commandSync("x", {"ACL", "WHOAMI"});
    ASSERT_TRUE(who.ok()) << who.status();
    EXPECT_EQ(who->str, auth.user.empty() ? "default" : auth.user);
  }
}

TEST(RedisClientNoServerTest, NoServerMeansUnavailableAtOnce) {
  RedisClientOptions o;
  o.port = 1;  // nothing listens there
  RedisClient client(o);
  EXPECT_EQ(client.connectedCount(), 0);
  auto started = std::chrono::steady_clock::now();
  auto r = client.commandSync("x", {"PING"});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("redis 127.0.0.1:1 is down: Connection refused"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace seckill
