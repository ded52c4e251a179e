// [store] and [orders]: the backend choice, its addresses and how the two fit.
#include <string>
#include <string_view>

#include "engine/app/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::app {
namespace {

using ::testing::HasSubstr;

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

TEST(BackendConfigTest, BadValuesNameTheKeyAndLine) {
  EXPECT_THAT(errorOf(R"(
[store]
kind = "etcd"
)"),
              HasSubstr("prod.toml:2: store.kind must be \"memory\" | \"redis\""));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
)"),
              HasSubstr("prod.toml:2: store.kind = \"redis\" needs store.redis"));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:99999"
)"),
              HasSubstr("prod.toml:3: store.redis: redis address \"tcp://127.0.0.1:99999\""));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "unix:///run/redis.sock"
)"),
              HasSubstr("prod.toml:3: store.redis: redis address \"unix:///run/redis.sock\""));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = [1, 2]
)"),
              HasSubstr("prod.toml:3: store.redis must be a string or a list of strings"));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:6379"
[orders]
kind = "mysql"
mysql = "postgres://x@y/z"
)"),
              HasSubstr("prod.toml:6: orders.mysql: must start with mysql://"));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:6379"
[orders]
kind = "mysql"
mysql = "mysql://app@127.0.0.1:3306/"
)"),
              HasSubstr("needs a database"));
  EXPECT_THAT(errorOf(R"(
[orders]
pool = 0
)"),
              HasSubstr("prod.toml:2: orders.pool must be >= 1"));
}

TEST(BackendConfigTest, StoreAndOrdersMustFit) {
  EXPECT_THAT(errorOf(R"(
[orders]
kind = "mysql"
mysql = "mysql://app:pw@127.0.0.1:3306/seckill"
)"),
              HasSubstr("prod.toml:2: orders.kind = \"mysql\" needs [store] kind = \"redis\""));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:6379"
[orders]
kind = "memory"
)"),
              HasSubstr("prod.toml:5: orders.kind = \"memory\" needs [store] kind = \"memory\""));
  EXPECT_THAT(errorOf(R"(
[store]
kind = "redis"
redis = "tcp://127.0.0.1:6379"
[orders]
kind = "mysql"
)"),
              HasSubstr("orders.kind = \"mysql\" needs orders.mysql"));
}

}  // namespace
}  // namespace seckill::app
