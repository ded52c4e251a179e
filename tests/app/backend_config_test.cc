// [store] and [orders]: the backend choice, its addresses and how the two fit.
#include <string>
#include <string_view>

#include "engine/app/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<EngineConfig> parse(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return parseConfig(text, "prod.toml");
}

std::string errorOf(std::string_view text) {
  absl::StatusOr<EngineConfig> config = parse(text);
  EXPECT_FALSE(config.ok()) << "config unexpectedly parsed";
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(BackendConfigTest, MemoryIsTheDefault) {
  absl::StatusOr<EngineConfig> c = parse("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store.kind, StoreConfig::Kind::kMemory);
  EXPECT_EQ(c->orders.kind, OrdersConfig::Kind::kMemory);
}

TEST(BackendConfigTest, RedisWithMysqlOrders) {
  absl::StatusOr<EngineConfig> c = parse(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:6390"
connections = 4
timeout = "250ms"
[orders]
kind = "mysql"
mysql = "mysql://app:s3cret@127.0.0.1:3306/seckill"
pool = 16
writers = 3
batch = 1000
claim_idle = "10s"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store.kind, StoreConfig::Kind::kRedis);
  ASSERT_EQ(c->store.redis.size(), 1u);
  EXPECT_EQ(c->store.redis[0].host, "127.0.0.1");
  EXPECT_EQ(c->store.redis[0].port, 6390);
  EXPECT_EQ(c->store.connections, 4);
  EXPECT_EQ(c->store.timeout, absl::Milliseconds(250));
  EXPECT_EQ(c->orders.kind, OrdersConfig::Kind::kMysql);
  EXPECT_EQ(c->orders.mysql, "mysql://app:s3cret@127.0.0.1:3306/seckill");
  EXPECT_EQ(c->orders.pool, 16);
  EXPECT_EQ(c->orders.writers, 3);
  EXPECT_EQ(c->orders.batch, 1000);
  EXPECT_EQ(c->orders.claim_idle, absl::Seconds(10));
}

TEST(BackendConfigTest, ClusterSeedListAndOrdersFollowTheStore) {
  absl::StatusOr<EngineConfig> c = parse(R"(
[store]
kind = "redis"
redis = ["tcp://10.0.0.1:7000", "redis://10.0.0.2:7001", "10.0.0.3:7002"]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->store.redis.size(), 3u);
  EXPECT_EQ(c->store.redis[1].host, "10.0.0.2");
  EXPECT_EQ(c->store.redis[1].port, 7001);
  EXPECT_EQ(c->store.redis[2].port, 7002);
  EXPECT_EQ(c->orders.kind, OrdersConfig::Kind::kRedis);
}

TEST(BackendConfigTest, RedisCredentialsComeFromTheUrl) {
  absl::StatusOr<EngineConfig> c = parse(R"(
[store]
kind = "redis"
redis = ["redis://app:s3cr%40t@10.0.0.1:7000", "redis://app:s3cr%40t@10.0.0.2:7001"]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->store.redis.size(), 2u);
  EXPECT_EQ(c->store.redis[0], (RedisEndpoint{"10.0.0.1", 7000}));
  EXPECT_EQ(c->store.redis_auth, (RedisAuth{"app", "s3cr@t"}));

  absl::StatusOr<EngineConfig> none = parse("[store]\nkind = \"redis\"\nredis = \"tcp://h:1\"\n");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->store.redis_auth.enabled());

  const std::string mixed = errorOf(
      "[store]\nkind = \"redis\"\nredis = [\"redis://:s3cret@h:1\", \"redis://h:2\"]\n");
  EXPECT_THAT(mixed, HasSubstr("prod.toml:3: store.redis"));
  EXPECT_THAT(mixed, HasSubstr("same credentials"));
  const std::string bad = errorOf("[store]\nkind = \"redis\"\nredis = \"redis://s3cret@h:1\"\n");
  EXPECT_THAT(bad, HasSubstr("prod.toml:3: store.redis: redis address \"redis://***@h:1\""));
  EXPECT_THAT(bad, Not(HasSubstr("s3cret")));
}

// Each bad config, and what its message must say (file, line, key).
struct BadConfig {
  const char* text;
  const char* message;
};

constexpr char kRedis[] = "[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:6379\"\n";

TEST(BackendConfigTest, BadValuesNameTheKeyAndLine) {
  const std::string redis_mysql = std::string(kRedis) + "[orders]\nkind = \"mysql\"\n";
  const BadConfig cases[] = {
      {"[store]\nkind = \"etcd\"\n", "prod.toml:2: store.kind must be \"memory\" | \"redis\""},
      {"[store]\nkind = \"redis\"\n", "prod.toml:2: store.kind = \"redis\" needs store.redis"},
      {"[store]\nkind = \"redis\"\nredis = \"tcp://127.0.0.1:99999\"\n",
       "prod.toml:3: store.redis: redis address \"tcp://127.0.0.1:99999\""},
      {"[store]\nkind = \"redis\"\nredis = \"unix:///run/redis.sock\"\n",
       "prod.toml:3: store.redis: redis address \"unix:///run/redis.sock\""},
      {"[store]\nkind = \"redis\"\nredis = [1, 2]\n",
       "prod.toml:3: store.redis must be a string or a list of strings"},
      {"[orders]\npool = 0\n", "prod.toml:2: orders.pool must be >= 1"},
      // [store] and [orders] must fit together.
      {"[orders]\nkind = \"mysql\"\nmysql = \"mysql://app:pw@127.0.0.1:3306/seckill\"\n",
       "prod.toml:2: orders.kind = \"mysql\" needs [store] kind = \"redis\""},
      {"[limits]\nrule_store = \"redis\"\n",
       "prod.toml:2: limits.rule_store = \"redis\" needs [store] kind = \"redis\""},
  };
  for (const BadConfig& c : cases) {
    EXPECT_THAT(errorOf(c.text), HasSubstr(c.message)) << c.text;
  }
  // The same with a valid [store] first: the [orders] lines are 4 and 5.
  const BadConfig with_redis[] = {
      // The parser start-up uses, so --check refuses exactly what start-up refuses.
      {"mysql = \"postgres://x@y/z\"\n", "prod.toml:6: orders.mysql: mysql url: must start with mysql://"},
      {"mysql = \"mysql://app@127.0.0.1:3306/\"\n", "prod.toml:6: orders.mysql: mysql url: empty database"},
      {"mysql = \"mysql://app@127.0.0.1:99999/db\"\n", "prod.toml:6: orders.mysql: mysql url: port"},
      {"", "prod.toml:5: orders.kind = \"mysql\" needs orders.mysql"},
  };
  for (const BadConfig& c : with_redis) {
    EXPECT_THAT(errorOf(redis_mysql + c.text), HasSubstr(c.message)) << c.text;
  }
  EXPECT_THAT(errorOf(std::string(kRedis) + "[orders]\nkind = \"memory\"\n"),
              HasSubstr("prod.toml:5: orders.kind = \"memory\" needs [store] kind = \"memory\""));
}

TEST(BackendConfigTest, DistributedRulesAndTheRuleStore) {
  absl::StatusOr<EngineConfig> c = parse(std::string(kRedis) + R"(
[limits]
distributed_failure = "closed"
rule_poll = "250ms"
[[rule]]
path = "/api/v1/sales/*/orders"
rate = 10
distributed = true
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.rule_store, LimitsConfig::RuleStore::kRedis);  // the default with Redis
  EXPECT_EQ(c->limits.distributed_failure, ratelimit::FailurePolicy::kClosed);
  EXPECT_EQ(c->limits.rule_poll, absl::Milliseconds(250));
  ASSERT_EQ(c->limits.rules.size(), 1u);
  EXPECT_TRUE(c->limits.rules[0].distributed);
  EXPECT_EQ(parse("")->limits.rule_store, LimitsConfig::RuleStore::kConfig);
  EXPECT_THAT(errorOf("[limits]\nrule_poll = \"5s\"\n"), HasSubstr("limits.rule_poll must be <= 1s"));
  EXPECT_THAT(errorOf("[limits]\ndistributed_failure = \"maybe\"\n"),
              HasSubstr("prod.toml:2: limits.distributed_failure"));
}

}  // namespace
}  // namespace seckill::app
