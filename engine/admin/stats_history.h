#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/engine_stats.h"

namespace seckill::admin {

// The last `capacity` seconds of the engine's stats, one StatsSample each, in fixed memory: a
// ring whose slots are reused (their buffers too), so an hour costs what an hour costs and
// nothing grows after it. The sampler pushes one sample a second; Stats.Watch streams read the
// history and then follow new samples through a listener.
//
// Thread-safety: thread-safe. Listeners run on the pushing thread, outside the lock; they must
// not block (a stream queues the sample and returns).
class StatsHistory {
 public:
  using Listener = std::function<void(const StatsSample&)>;

  // At least one hour: 3600 one-second samples.
  static constexpr size_t kDefaultCapacity = 3600;

  explicit StatsHistory(size_t capacity = kDefaultCapacity);
  StatsHistory(const StatsHistory&) = delete;
  StatsHistory& operator=(const StatsHistory&) = delete;

  // Adds the second that just ended (the oldest one goes once the ring is full), then tells
  // every listener.
  void push(const StatsSample& sample);

  // The samples that end after `since`, oldest first.
  std::vector<StatsSample> since(absl::Time since) const;
  // The newest sample; nullopt before the first.
  std::optional<StatsSample> latest() const;

  // Copies the history after `since` (oldest first) and registers `listener` for every later
  // push, in one step: nothing is missed between the two. Returns the id for unsubscribe().
  std::pair<uint64_t, std::vector<StatsSample>> subscribe(absl::Time since, Listener listener);
  void unsubscribe(uint64_t id);

  size_t capacity() const { return slots_.size(); }
  size_t size() const;
  // Memory held by the samples (their heap buffers included), for the bytes-per-hour figure and
  // /metrics (seckill_stats_history_bytes). Kept as pushes change it, so reading it is O(1).
  size_t bytes() const;

 private:
  void copySince(absl::Time since, std::vector<StatsSample>& out) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<StatsSample> slots_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;   // the slot the next push writes
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;  // slots in use
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;  // what bytes() answers: the slots' bytes, summed
  uint64_t next_listener_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::shared_ptr<const Listener>> listeners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill::admin
