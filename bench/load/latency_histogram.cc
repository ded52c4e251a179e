#include "bench/load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace seckill::load {

size_t LatencyHistogram::bucketIndex(uint64_t v) {
  if (v < 2 * kSubBuckets) return static_cast<size_t>(v);
  // Shift v into [kSubBuckets, 2 * kSubBuckets); e buckets of width 2^e follow.
  const int e = std::bit_width(v) - (kSubBucketBits + 1);
  const size_t index = kSubBuckets * static_cast<size_t>(e) + static_cast<size_t>(v >> e);
  return std::min(index, kBucketCount - 1);
}

uint64_t LatencyHistogram::bucketLow(size_t index) {
  if (index < 2 * kSubBuckets) return index;
  const size_t e = index / kSubBuckets - 1;
  const uint64_t mantissa = index % kSubBuckets + kSubBuckets;
  return mantissa << e;
}

uint64_t LatencyHistogram::bucketHigh(size_t index) {
  if (index + 1 >= kBucketCount) return std::numeric_limits<uint64_t>::max();
  return bucketLow(index + 1) - 1;
}

void LatencyHistogram::record(uint64_t micros) {
  if (counts_.empty()) counts_.resize(kBucketCount, 0);
  ++counts_[bucketIndex(micros)];
  ++count_;
  min_ = std::min(min_, micros);
  max_ = std::max(max_, micros);
  sum_ += static_cast<long double>(micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (counts_.empty()) counts_.resize(kBucketCount, 0);
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min();
  if (q >= 1) return max_;
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  // The smallest and the largest value are known exactly.
  if (rank == 1) return min();
  if (rank >= count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t low = bucketLow(i);
      const uint64_t mid = low + (std::min(bucketHigh(i), max_) - low) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace seckill::load
