#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace seckill::load {

// Latencies in microseconds, counted in log-spaced buckets like an HDR
// histogram: exact below 64 us, then 32 buckets per power of two, so a
// percentile read back is within 1/64 (~1.6%) of a value that was recorded.
// Values from 2^41 us (~25 days) up share the last bucket. Memory is taken at
// the first record (~9 KiB), so an empty histogram costs nothing.
// Not thread-safe: keep one per thread and merge().
class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 32
  static constexpr size_t kBucketCount = kSubBuckets * 37;

  void record(uint64_t micros);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The value at quantile q (0 <= q <= 1): the ceil(q * count)-th smallest
  // value, read as the midpoint of its bucket clamped to [min, max], exact when
  // it is the smallest or the largest (so q = 0 is min(), q = 1 is max()).
  // 0 when empty.
  uint64_t percentile(double q) const;

  // The bucket a value falls in, and the values a bucket covers (inclusive).
  static size_t bucketIndex(uint64_t micros);
  static uint64_t bucketLow(size_t index);
  static uint64_t bucketHigh(size_t index);

 private:
  std::vector<uint64_t> counts_;  // empty until the first record
  uint64_t count_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace seckill::load
