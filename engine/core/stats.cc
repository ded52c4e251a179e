#include "engine/core/stats.h"

namespace seckill {

size_t statsShard() {
  static std::atomic<size_t> next{0};
  thread_local size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kStatsShards;
  return shard;
}

void LatencyHistogram::observeMicros(uint64_t micros) {
  size_t i = 0;
  while (i < kBoundsMicros.size() && micros > kBoundsMicros[i]) ++i;
  Slot& s = slots_[statsShard()];
  s.buckets[i].fetch_add(1, std::memory_order_relaxed);
  s.sum_micros.fetch_add(micros, std::memory_order_relaxed);
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
  }
  return out;
}

}  // namespace seckill
