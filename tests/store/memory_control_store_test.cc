// The ControlStore contract (tests/support/control_store_suite.h) on the memory store.
#include "engine/store/memory/memory_control_store.h"

#include "gtest/gtest.h"
#include "tests/support/control_store_suite.h"

namespace seckill::testing {
namespace {

class MemoryControlBackend : public ::testing::Test {
 protected:
  control::ControlStore& store() { return store_; }

 private:
  MemoryControlStore store_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, ControlStoreTest, MemoryControlBackend);

}  // namespace seckill::testing
