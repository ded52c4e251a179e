#pragma once

#include <functional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace seckill::app {

// Runs a task on its own thread every `period` of real time (fixed delay: the
// next wait starts when a run ends) until stopped. This is where wall-clock
// time drives the engine's background work; the task itself should take its
// time from a Clock.
//
// start() and stop() are called from one owner thread; stop() wakes a waiting
// task thread at once and joins it (a run in progress finishes first). Must not
// be called from inside the task.
class PeriodicTask {
 public:
  PeriodicTask(absl::Duration period, std::function<void()> task)
      : period_(period), task_(std::move(task)) {}
  ~PeriodicTask() { stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread; the first run is one period later. Once only.
  void start();
  // Stops and joins. Idempotent.
  void stop();

 private:
  void loop();

  const absl::Duration period_;
  std::function<void()> task_;  // touched only by the task thread once started
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace seckill::app
