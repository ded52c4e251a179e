#include "engine/core/stats.h"

#include <algorithm>
#include <cmath>

#include "engine/core/snapshot_cell.h"

namespace seckill {

uint64_t nextSnapshotCellId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

size_t statsShard() {
  static std::atomic<size_t> next{0};
  thread_local size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kStatsShards;
  return shard;
}

size_t FineLatency::bucketOf(uint64_t micros) {
  if (micros < kSubBuckets) return static_cast<size_t>(micros);
  if (micros >= (uint64_t{1} << 32)) return kBuckets - 1;
  const int e = 63 - __builtin_clzll(micros);  // 4..31
  const uint64_t mantissa = micros >> (e - 4);  // 16..31
  return kSubBuckets + static_cast<size_t>(e - 4) * kSubBuckets + static_cast<size_t>(mantissa - 16);
}

uint64_t FineLatency::lowerBound(size_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const size_t e = (bucket - kSubBuckets) / kSubBuckets + 4;
  const uint64_t mantissa = 16 + (bucket - kSubBuckets) % kSubBuckets;
  return mantissa << (e - 4);
}

double FineLatency::quantileMicros(const std::array<uint64_t, kBuckets>& counts, double q) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  // The rank of the q-quantile, 1-based: the smallest value with at least q of the mass at or
  // below it.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * total)));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) {
      const double lo = static_cast<double>(lowerBound(i));
      const double hi = i + 1 < kBuckets ? static_cast<double>(lowerBound(i + 1)) : lo;
      return i < kSubBuckets ? lo : (lo + hi) / 2;
    }
  }
  return static_cast<double>(lowerBound(kBuckets - 1));
}

void LatencyHistogram::observeMicros(uint64_t micros) {
  size_t i = 0;
  while (i < kBoundsMicros.size() && micros > kBoundsMicros[i]) ++i;
  Slot& s = slots_[statsShard()];
  s.buckets[i].fetch_add(1, std::memory_order_relaxed);
  s.sum_micros.fetch_add(micros, std::memory_order_relaxed);
  s.fine[FineLatency::bucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  uint64_t max = s.max_micros.load(std::memory_order_relaxed);
  while (micros > max &&
         !s.max_micros.compare_exchange_weak(max, micros, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::takeMaxMicros() {
  uint64_t max = 0;
  for (Slot& s : slots_) max = std::max(max, s.max_micros.exchange(0, std::memory_order_relaxed));
  return max;
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot out;
  for (const Slot& s : slots_) {
    for (size_t i = 0; i < out.buckets.size(); ++i) {
      uint64_t v = s.buckets[i].load(std::memory_order_relaxed);
      out.buckets[i] += v;
      out.count += v;
    }
    out.sum_micros += s.sum_micros.load(std::memory_order_relaxed);
    for (size_t i = 0; i < out.fine.size(); ++i) out.fine[i] += s.fine[i].load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace seckill
