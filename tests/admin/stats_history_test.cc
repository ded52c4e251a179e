#include "engine/admin/stats_history.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace seckill::admin {
namespace {

// A second as a busy engine produces it: every route, the top rules, a few sales.
StatsSample busySecond(uint64_t seq, absl::Time at) {
  StatsSample s;
  s.seq = seq;
  s.at = at;
  s.requests = 1000 + seq;
  for (const char* r : {"order", "pay", "cancel", "sale", "token", "get_order", "metrics"}) {
    s.routes.push_back({.route = r, .requests = 10, .status_2xx = 9, .status_4xx = 1});
  }
  for (size_t i = 0; i < StatsSample::kTopRules; ++i) {
    s.rules.push_back({.id = absl::StrCat("POST /api/v1/sales/*/orders user /s #", i), .passed = i});
  }
  for (int i = 0; i < 8; ++i) {
    s.sales.push_back({.id = absl::StrCat("sale-", i), .left = 5, .total = 10, .state = "open"});
  }
  s.breakers = {{"stock_store", "closed", "normal"}, {"order_store", "closed", "normal"}};
  return s;
}

TEST(StatsHistoryTest, KeepsAnHourOfSecondsInFixedMemory) {
  StatsHistory h;
  ASSERT_GE(h.capacity(), 3600u);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  for (uint64_t i = 1; i <= 3600; ++i) h.push(busySecond(i, t0 + absl::Seconds(i)));
  EXPECT_EQ(h.size(), 3600u);
  const size_t bytes_for_an_hour = h.bytes();
  // A second hour of the same traffic replaces the first and costs nothing more.
  for (uint64_t i = 3601; i <= 7200; ++i) h.push(busySecond(i, t0 + absl::Seconds(i)));
  EXPECT_EQ(h.size(), 3600u);
  EXPECT_EQ(h.bytes(), bytes_for_an_hour);
  EXPECT_LT(bytes_for_an_hour, 32u << 20) << "the bytes per hour docs/benchmarks.md quotes";
  std::printf("stats history: %zu bytes for one hour (%zu per second)\n", bytes_for_an_hour,
              bytes_for_an_hour / 3600);

  std::vector<StatsSample> all = h.since(absl::InfinitePast());
  ASSERT_EQ(all.size(), 3600u);
  EXPECT_EQ(all.front().seq, 3601u) << "oldest first; the first hour is gone";
  EXPECT_EQ(all.back().seq, 7200u);
  EXPECT_EQ(all.back().rules.size(), StatsSample::kTopRules);
  EXPECT_EQ(h.latest()->seq, 7200u);
  std::vector<StatsSample> recent = h.since(t0 + absl::Seconds(7190));
  ASSERT_EQ(recent.size(), 10u);
  EXPECT_EQ(recent.front().seq, 7191u);
}

TEST(StatsHistoryTest, BytesFollowTheSlotsBuffers) {
  StatsHistory h(2);
  const size_t empty = h.bytes();
  EXPECT_EQ(empty, 2 * sizeof(StatsSample));
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  h.push(busySecond(1, t0));
  const size_t one = h.bytes();
  // A fresh slot's buffers hold exactly the sample, as a copy of it does.
  EXPECT_EQ(one, sizeof(StatsSample) + h.latest()->bytes());
  EXPECT_GT(one, empty);
  h.push(busySecond(2, t0 + absl::Seconds(1)));
  EXPECT_EQ(h.bytes(), 2 * one - empty);
  // A quiet second in the oldest slot: its vectors keep their buffers, the rules' names go.
  StatsSample quiet;
  quiet.seq = 3;
  quiet.at = t0 + absl::Seconds(2);
  h.push(quiet);
  EXPECT_TRUE(h.latest()->rules.empty());
  const size_t after_quiet = h.bytes();
  EXPECT_LT(after_quiet, 2 * one - empty);
  EXPECT_GT(after_quiet, one);
  // A busy second over a busy one costs nothing more; over the quiet one, what it cost before.
  h.push(busySecond(4, t0 + absl::Seconds(3)));
  EXPECT_EQ(h.bytes(), after_quiet);
  h.push(busySecond(5, t0 + absl::Seconds(4)));
  EXPECT_EQ(h.bytes(), 2 * one - empty);
}

TEST(StatsHistoryTest, ASubscriberGetsTheHistoryThenEveryNewSecondOnce) {
  StatsHistory h(10);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  for (uint64_t i = 1; i <= 5; ++i) h.push(busySecond(i, t0 + absl::Seconds(i)));
  std::vector<uint64_t> live;
  auto [id, history] = h.subscribe(t0 + absl::Seconds(2), [&](const StatsSample& s) {
    live.push_back(s.seq);
  });
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history.front().seq, 3u);
  h.push(busySecond(6, t0 + absl::Seconds(6)));
  h.push(busySecond(7, t0 + absl::Seconds(7)));
  EXPECT_EQ(live, (std::vector<uint64_t>{6, 7}));
  h.unsubscribe(id);
  h.push(busySecond(8, t0 + absl::Seconds(8)));
  EXPECT_EQ(live.size(), 2u);
  EXPECT_FALSE(StatsHistory(3).latest().has_value());
}

}  // namespace
}  // namespace seckill::admin
