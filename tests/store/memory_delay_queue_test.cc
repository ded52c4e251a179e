#include "engine/store/memory/memory_delay_queue.h"

#include <vector>

#include "gtest/gtest.h"

namespace seckill {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(MemoryDelayQueueTest, DeliversOnlyDueMessagesInDueOrder) {
  MemoryDelayQueue q;
  q.publish("late", kT0 + absl::Seconds(20));
  q.publish("early", kT0 + absl::Seconds(10));
  std::vector<Delivery> out;
  q.consume(kT0 + absl::Seconds(9), 10, absl::Seconds(30), out);
  EXPECT_TRUE(out.empty());
  q.consume(kT0 + absl::Seconds(20), 10, absl::Seconds(30), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].payload, "early");
  EXPECT_EQ(out[1].payload, "late");
  EXPECT_EQ(out[0].attempts, 1);
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

}  // namespace
}  // namespace seckill
