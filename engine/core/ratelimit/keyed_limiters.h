#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/time/time.h"
#include "engine/core/ratelimit/limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/stats.h"

namespace seckill::ratelimit {

// A rule's traffic counters, monotonically increasing, for /metrics (rates come from the
// scrape). Each evaluation of a rule counts exactly one of passed / queued / limited /
// shadow_limited. One cache line per thread shard holds all of them (1 KiB per rule, not
// 1 KiB per counter as separate ShardedCounters would cost with 10k rules).
class RuleCounters {
 public:
  enum Field { kPassed, kQueued, kLimited, kShadowLimited, kOverflowed, kFields };
  void add(Field f, uint64_t n = 1) {
    slots_[statsShard()].v[f].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value(Field f) const {
    uint64_t sum = 0;
    for (const auto& s : slots_) sum += s.v[f].load(std::memory_order_relaxed);
    return sum;
  }
  uint64_t passed() const { return value(kPassed); }
  uint64_t queued() const { return value(kQueued); }
  uint64_t limited() const { return value(kLimited); }
  uint64_t shadowLimited() const { return value(kShadowLimited); }
  // Requests of keys beyond the table's cap, decided by the shared overflow state.
  uint64_t overflowed() const { return value(kOverflowed); }

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<uint64_t>, kFields> v{};
  };
  std::array<Slot, kStatsShards> slots_;
};

struct KeyedOptions {
  // Hard cap on tracked keys per rule (split evenly over the shards).
  size_t max_keys = 1 << 20;
  // Lock shards; a power of two.
  size_t shards = 16;
  // Incremental eviction: every `sweep_every` acquires on a shard examine `sweep_batch` slots.
  uint32_t sweep_every = 16;
  uint32_t sweep_batch = 32;
};

// A rule's limiter state: one state per key (user id, IP, header value), or exactly one for the
// global scope, plus the rule's counters. Shared by every RuleSet version in which the rule's
// identity is unchanged, so a reload keeps both. Thread-safe.
//
// Keys are hashed to 64 bits and only the hash is stored; two keys whose hashes collide share
// one state (probability ~n^2/2^65: negligible at a million keys, and a shared state can only
// be stricter). The table is split into `shards`, each behind its own absl::Mutex.
//
// Eviction never changes a decision: a state is dropped only when it is equivalent to a fresh
// one (isFresh: bucket refilled and cold, window expired). It runs incrementally inside acquire
// (a few slots every few operations per shard) and fully in evictIdle(), which the stats tick
// calls.
//
// The cap is hard: when a shard is full even after sweeping, a new key is not tracked; its
// request is decided by one overflow state per shard that all untracked keys share (counted as
// `overflowed`). A flood of fresh keys thus cannot evict — and so reset — the limits of keys
// already tracked; the price is that newcomers during such a flood share a stricter budget
// until idle keys free room.
class KeyedLimiters {
 public:
  static std::shared_ptr<KeyedLimiters> create(const RuleSpec& rule, const KeyedOptions& options);
  virtual ~KeyedLimiters() = default;

  // Decides one request of `hits` units for `key` (ignored for the global scope). See
  // Limiter::acquire.
  virtual Decision acquire(std::string_view key, absl::Time now, absl::Duration max_wait,
                           uint32_t hits) = 0;
  // A request of one unit.
  Decision acquire(std::string_view key, absl::Time now, absl::Duration max_wait) {
    return acquire(key, now, max_wait, 1);
  }
  // Drops every state equivalent to a fresh one at `now`; returns how many.
  virtual size_t evictIdle(absl::Time now) = 0;
  // Keys currently tracked (0 for the global scope).
  virtual size_t size() const = 0;

  RuleCounters& counters() { return counters_; }
  const RuleCounters& counters() const { return counters_; }

 private:
  RuleCounters counters_;
};

}  // namespace seckill::ratelimit
