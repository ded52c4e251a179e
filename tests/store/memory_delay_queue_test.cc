#include "engine/store/memory/memory_delay_queue.h"

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
