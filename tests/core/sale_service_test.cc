#include "engine/core/sale_service.h"

#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/sale_fixture.h"
#include "tests/support/sale_flow_suite.h"

// The sale flows (tests/support/sale_flow_suite.h) on the memory stores.
namespace seckill::testing {
namespace {

struct MemoryBackend : ::testing::Test {
  using World = SaleWorld;
  static constexpr int kRacingOrders = 400;

  static std::unique_ptr<SaleWorld> makeWorld(std::vector<SaleSpec> specs) {
    return std::make_unique<SaleWorld>(std::move(specs));
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SaleFlowTest, MemoryBackend);

}  // namespace seckill::testing
