#include "engine/store/memory/shard_of.h"

#include <array>
#include <string>

#include "gtest/gtest.h"

namespace seckill {
namespace {

TEST(ShardOfTest, TakesTheHashsTopBits) {
  EXPECT_EQ(shardOfHash<64>(0), 0u);
  EXPECT_EQ(shardOfHash<64>(~uint64_t{0}), 63u);
  EXPECT_EQ(shardOfHash<64>(uint64_t{1} << 58), 1u);
  EXPECT_EQ(shardOfHash<16>(uint64_t{0xB} << 60), 0xBu);
  // The low bits, which absl's maps use as their slot tags, do not pick the shard.
  EXPECT_EQ(shardOfHash<64>((uint64_t{5} << 58) | 0x7F), 5u);
  EXPECT_EQ(shardOfHash<2>(uint64_t{1} << 63), 1u);
}

TEST(ShardOfTest, KeysOfOneShardKeepVariedLowBits) {
  // What the top bits are for: within one shard, the low seven bits (the map's tags) of the
  // keys' hashes still take many values, so a lookup compares few slots.
  std::array<std::array<bool, 128>, 64> tags{};
  for (int i = 0; i < 64 * 400; ++i) {
    const std::string key = "user-" + std::to_string(i);
    const uint64_t hash = absl::HashOf(av(key));
    ASSERT_EQ(shardOf<64>(key), shardOfHash<64>(hash));
    tags[shardOf<64>(key)][hash & 0x7F] = true;
  }
  for (const auto& shard : tags) {
    int distinct = 0;
    for (bool seen : shard) distinct += seen;
    EXPECT_GT(distinct, 64);
  }
}

}  // namespace
}  // namespace seckill
