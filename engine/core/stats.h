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

// Log-linear latency buckets for percentiles: 16 per power of two (about 6% wide), exact below
// 16 us, up to 2^32 us (71 minutes; longer counts in the last bucket).
struct FineLatency {
  static constexpr size_t kSubBuckets = 16;
  static constexpr size_t kBuckets = 16 + (32 - 4) * kSubBuckets;  // 464
  // The bucket of a latency.
  static size_t bucketOf(uint64_t micros);
  // The smallest latency of a bucket.
  static uint64_t lowerBound(size_t bucket);
  // The latency under which a share `q` (0..1] of `counts` falls: the midpoint of its bucket.
  // 0 when empty.
  static double quantileMicros(const std::array<uint64_t, kBuckets>& counts, double q);
};

// A latency histogram, sharded by thread: fixed Prometheus-style buckets (seconds) for
// /metrics, the fine buckets above for percentiles of any interval (difference two
// snapshots), and the largest value since the last takeMaxMicros().
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
    std::array<uint64_t, FineLatency::kBuckets> fine{};  // cumulative since start, per bucket
  };
  Snapshot snapshot() const;
  // The largest value observed since the previous call (0 if none); resets it.
  uint64_t takeMaxMicros();

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> buckets{};
    std::atomic<uint64_t> sum_micros{0};
    std::atomic<uint64_t> max_micros{0};
    std::array<std::atomic<uint64_t>, FineLatency::kBuckets> fine{};
  };
  std::array<Slot, kStatsShards> slots_;
};

}  // namespace seckill
