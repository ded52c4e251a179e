#include "engine/store/memory/memory_delay_queue.h"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace seckill {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(MemoryDelayQueueTest, DeliversOnlyDueMessages) {
  MemoryDelayQueue q;
  q.publish("late", kT0 + absl::Seconds(20));
  q.publish("early", kT0 + absl::Seconds(10));
  std::vector<Delivery> out;
  q.consume(kT0 + absl::Seconds(9), 10, absl::Seconds(30), out);
  EXPECT_TRUE(out.empty());
  q.consume(kT0 + absl::Seconds(10), 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "early");
  EXPECT_EQ(out[0].attempts, 1);
  q.consume(kT0 + absl::Seconds(20), 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload, "late");
}

TEST(MemoryDelayQueueTest, UnacknowledgedMessagesComeBackAfterVisibility) {
  MemoryDelayQueue q;
  q.publish("a", kT0);
  q.publish("b", kT0);
  std::vector<Delivery> out;
  q.consume(kT0, 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 2u);
  q.ack(out[0].id);
  std::vector<Delivery> again;
  q.consume(kT0 + absl::Seconds(29), 10, absl::Seconds(30), again);
  EXPECT_TRUE(again.empty());
  q.consume(kT0 + absl::Seconds(30), 10, absl::Seconds(30), again);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].payload, out[1].payload);
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_EQ(q.pending(), 1u);
  q.ack(again[0].id);
  q.ack(again[0].id);  // unknown ids are ignored
  EXPECT_EQ(q.pending(), 0u);
}

TEST(MemoryDelayQueueTest, ConsumeHonoursMax) {
  MemoryDelayQueue q;
  for (int i = 0; i < 5; ++i) q.publish("m", kT0);
  std::vector<Delivery> out;
  q.consume(kT0, 3, absl::Seconds(1), out);
  EXPECT_EQ(out.size(), 3u);
  q.consume(kT0, 3, absl::Seconds(1), out);
  EXPECT_EQ(out.size(), 5u);
}

TEST(MemoryDelayQueueTest, ManyPublishersEveryMessageDeliveredOnce) {
  MemoryDelayQueue q;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&q, t] {
      for (int i = 0; i < 1000; ++i) {
        q.publish(std::to_string(t * 1000 + i), kT0 + absl::Milliseconds(i));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(q.pending(), 4000u);
  std::vector<Delivery> out;
  q.consume(kT0 + absl::Seconds(1), 10000, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 4000u);
  std::set<std::string> payloads;
  for (const Delivery& d : out) {
    payloads.insert(d.payload);
    q.ack(d.id);
  }
  EXPECT_EQ(payloads.size(), 4000u);
  EXPECT_EQ(q.pending(), 0u);
  q.ack("garbage");
  q.ack("99.1");
  EXPECT_EQ(q.pending(), 0u);
}

}  // namespace
}  // namespace seckill

namespace seckill {
namespace {

TEST(MemoryDelayQueueCompactTest, PayloadsOfEverySizeComeBackWhole) {
  MemoryDelayQueue q;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  const std::string big(70'000, 'x');  // beyond the 16-bit size a slot holds
  std::vector<std::string> sent = {"", "a", std::string(100, 'b'), big, "last"};
  for (const std::string& p : sent) q.publish(p, t0);
  std::vector<Delivery> out;
  q.consume(t0, 100, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), sent.size());
  std::vector<std::string> got;
  for (const Delivery& d : out) got.push_back(d.payload);
  std::sort(got.begin(), got.end());
  std::sort(sent.begin(), sent.end());
  EXPECT_EQ(got, sent);
  // Acknowledged out of order: the rest still come back, whole, after the visibility timeout.
  q.ack(out[1].id);
  q.ack(out[3].id);
  EXPECT_EQ(q.pending(), 3u);
  std::vector<Delivery> again;
  q.consume(t0 + absl::Seconds(31), 100, absl::Seconds(30), again);
  ASSERT_EQ(again.size(), 3u);
  for (const Delivery& d : again) {
    EXPECT_EQ(d.attempts, 2);
    const bool known = d.id == out[0].id || d.id == out[2].id || d.id == out[4].id;
    EXPECT_TRUE(known) << d.id;
    for (const Delivery& first : out) {
      if (first.id == d.id) {
        EXPECT_EQ(first.payload, d.payload);
      }
    }
    q.ack(d.id);
    q.ack(d.id);  // twice: ignored
  }
  EXPECT_EQ(q.pending(), 0u);
  std::vector<Delivery> none;
  q.consume(t0 + absl::Hours(1), 100, absl::Seconds(30), none);
  EXPECT_TRUE(none.empty());
  // Still usable after emptying.
  q.publish("again", t0);
  q.consume(t0 + absl::Hours(1), 100, absl::Seconds(30), none);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].payload, "again");
}

}  // namespace
}  // namespace seckill
