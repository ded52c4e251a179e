#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/hash/hash.h"
#include "engine/core/strings.h"

namespace seckill {

// Which of kShards (a power of two) shards a key belongs to, from its hash's top bits. The
// shard's own absl map hashes the same key and tags its slots with the hash's low seven bits:
// a shard picked by low bits would leave all of its keys with one or two tags, and every
// lookup would compare (a cache miss each) most of the slots it probes.
template <size_t kShards>
size_t shardOfHash(uint64_t hash) {
  static_assert(kShards >= 2 && std::has_single_bit(kShards), "kShards is a power of two");
  return static_cast<size_t>(hash >> (64 - std::countr_zero(kShards)));
}

template <size_t kShards>
size_t shardOf(std::string_view key) {
  return shardOfHash<kShards>(absl::HashOf(av(key)));
}

}  // namespace seckill
