#pragma once

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/admin/stats_history.h"
#include "engine/core/callback.h"
#include "engine/core/clock.h"
#include "engine/core/engine_stats.h"

namespace seckill::app {

// Once a second, at each whole second of the clock: collects the engine's stats, differences
// them with the previous second's and pushes the sample into the history ring. On a thread of
// its own (collecting may wait for the store's stock answers).
class StatsSampler {
 public:
  // Collects the engine's stats as of now (take the latency maximum); may answer later.
  using Collect = std::function<void(Callback<EngineStats>)>;

  StatsSampler(const Clock& clock, Collect collect, admin::StatsHistory& history);
  ~StatsSampler();  // stop()
  StatsSampler(const StatsSampler&) = delete;
  StatsSampler& operator=(const StatsSampler&) = delete;

  // Takes the baseline and starts the thread. Once.
  void start();
  // Stops and joins. Idempotent.
  void stop();
  // One sampling step now (the thread's body; tests drive it by hand).
  void sampleOnce();

 private:
  void run();

  const Clock& clock_;
  const Collect collect_;
  admin::StatsHistory& history_;
  EngineStats prev_;      // sampler thread only
  StatsSample sample_;    // sampler thread only: its buffers are reused
  uint64_t seq_ = 0;      // sampler thread only
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace seckill::app
