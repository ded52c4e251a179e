#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace seckill {

// Per-thread slot index used by the sharded counters: each thread gets its own
// cache line, so the request path never bounces a shared line.
size_t statsShard();
inline constexpr size_t kStatsShards = 16;

// A monotonically increasing counter, sharded by thread. add() is wait-free;
// value() sums the shards (read by the /metrics scrape).
class ShardedCounter {
 public:
  void add(uint64_t n = 1) { slots_[statsShard()].v.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const {
    uint64_t sum = 0;
    for (const auto& s : slots_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> v{0};
  };
  std::array<Slot, kStatsShards> slots_;
};

// A latency histogram with fixed Prometheus-style buckets (seconds), sharded by thread.
class LatencyHistogram {
 public:
  // Upper bounds in microseconds; the last bucket (+Inf) is implicit.
  static constexpr std::array<uint64_t, 14> kBoundsMicros = {
      50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

  void observeMicros(uint64_t micros);

  struct Snapshot {
    std::array<uint64_t, kBoundsMicros.size() + 1> buckets{};  // non-cumulative, last = +Inf
    uint64_t count = 0;
    uint64_t sum_micros = 0;
  };
  Snapshot snapshot() const;

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> buckets{};
    std::atomic<uint64_t> sum_micros{0};
  };
  std::array<Slot, kStatsShards> slots_;
};

}  // namespace seckill
