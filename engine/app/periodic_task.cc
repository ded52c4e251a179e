#include "engine/app/periodic_task.h"

namespace seckill::app {

void PeriodicTask::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicTask::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // True as soon as stop() sets the flag; false when the period elapsed.
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_)) return;
    }
    task_();
  }
}

}  // namespace seckill::app
