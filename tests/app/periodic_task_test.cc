#include "engine/app/periodic_task.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace seckill::app {
namespace {

TEST(PeriodicTaskTest, RunsRepeatedlyUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicTask task(absl::Milliseconds(1), [&] { runs.fetch_add(1); });
  task.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runs.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  task.stop();
  EXPECT_GE(runs.load(), 3);
  int after_stop = runs.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runs.load(), after_stop);
}

TEST(PeriodicTaskTest, StopWakesAWaitingThreadPromptly) {
  std::atomic<int> runs{0};
  PeriodicTask task(absl::Hours(1), [&] { runs.fetch_add(1); });
  task.start();
  auto begin = std::chrono::steady_clock::now();
  task.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
  EXPECT_EQ(runs.load(), 0);  // the first run is one period after start
}

TEST(PeriodicTaskTest, StopIsIdempotentAndSafeBeforeStart) {
  PeriodicTask never(absl::Milliseconds(1), [] {});
  never.stop();
  never.stop();
  PeriodicTask twice(absl::Milliseconds(1), [] {});
  twice.start();
  twice.stop();
  twice.stop();
}

}  // namespace
}  // namespace seckill::app
