#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/redis/redis_world.h"
#include "tests/support/sale_flow_suite.h"

// The sale flows (tests/support/sale_flow_suite.h) on the Redis stores, each
// test against its own redis-server.
namespace seckill::testing {
namespace {

class RedisBackend : public RedisTest {
 protected:
  using World = RedisWorld;
  // Every call is a round trip: a smaller race than on the memory stores.
  static constexpr int kRacingOrders = 100;

  std::unique_ptr<RedisWorld> makeWorld(std::vector<SaleSpec> specs) {
    return std::make_unique<RedisWorld>(server, std::move(specs));
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, SaleFlowTest, RedisBackend);

}  // namespace seckill::testing
