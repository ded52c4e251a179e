#include "bench/load/latency_histogram.h"

#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"

namespace seckill::load {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogramTest, BucketsCoverEveryValueContiguously) {
  EXPECT_EQ(H::bucketLow(0), 0u);
  for (size_t i = 0; i + 1 < H::kBucketCount; ++i) {
    ASSERT_EQ(H::bucketHigh(i) + 1, H::bucketLow(i + 1)) << "bucket " << i;
    ASSERT_EQ(H::bucketIndex(H::bucketLow(i)), i);
    ASSERT_EQ(H::bucketIndex(H::bucketHigh(i)), i);
  }
}

TEST(LatencyHistogramTest, BucketsAreNarrowRelativeToTheirValues) {
  for (size_t i = 2 * H::kSubBuckets; i + 1 < H::kBucketCount; ++i) {
    const double low = static_cast<double>(H::bucketLow(i));
    const double width = static_cast<double>(H::bucketHigh(i) - H::bucketLow(i) + 1);
    ASSERT_LE(width / low, 1.0 / 32) << "bucket " << i;
  }
  // Exact below 64 us.
  for (uint64_t v = 0; v < 64; ++v) EXPECT_EQ(H::bucketLow(H::bucketIndex(v)), v);
  // Huge values share the last bucket.
  EXPECT_EQ(H::bucketIndex(UINT64_MAX), H::kBucketCount - 1);
}

TEST(LatencyHistogramTest, EmptyReadsZero) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  H h;
  for (uint64_t v : {5, 7, 9, 11}) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 7u);
  EXPECT_EQ(h.percentile(0.75), 9u);
  EXPECT_EQ(h.percentile(1), 11u);
  EXPECT_EQ(h.percentile(0), 5u);
  EXPECT_DOUBLE_EQ(h.mean(), 8);
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpreadAreWithinTheBucketError) {
  H h;
  for (uint64_t v = 1; v <= 100000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100000u);
  EXPECT_NEAR(h.mean(), 50000.5, 1e-6);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = q * 100000;
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), want, want / 64 + 1) << "q=" << q;
  }
}

TEST(LatencyHistogramTest, ATailShowsInTheHighPercentiles) {
  H h;
  for (int i = 0; i < 990; ++i) h.record(1000);    // 1 ms
  for (int i = 0; i < 10; ++i) h.record(2000000);  // 2 s
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 1000, 16);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 1000, 16);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.995)), 2000000, 2000000 / 64.0);
  EXPECT_EQ(h.max(), 2000000u);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  H a, b, both;
  for (uint64_t v = 1; v < 5000; v += 3) {
    (v % 2 ? a : b).record(v * 7);
    both.record(v * 7);
  }
  H merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(H{});  // an empty one changes nothing
  EXPECT_EQ(merged.count(), both.count());
  EXPECT_EQ(merged.min(), both.min());
  EXPECT_EQ(merged.max(), both.max());
  EXPECT_DOUBLE_EQ(merged.mean(), both.mean());
  for (double q : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(merged.percentile(q), both.percentile(q));
}

}  // namespace
}  // namespace seckill::load
