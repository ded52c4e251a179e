#pragma once

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace seckill {

// A fixed set of threads running blocking work (MySQL calls) off the callers'
// threads, from a bounded FIFO queue.
//
// Thread-safety: thread-safe. shutdown() (also run by the destructor) stops
// accepting work, runs what is still queued, and joins; call it from an owner
// thread, never from a task.
class TaskPool {
 public:
  TaskPool(int threads, size_t max_queued);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`; false (and `task` not run) when the queue is full or the
  // pool is shut down.
  bool submit(absl::AnyInvocable<void() &&> task);
  void shutdown();

 private:
  void run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace seckill
