#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/delay_queue.h"

namespace seckill {

// An in-process delay queue: messages ordered by due time; a delivery not
// acknowledged within its visibility timeout becomes due again. Thread-safe.
// Not durable: the embedded default loses queued messages with the process.
class MemoryDelayQueue final : public DelayQueue {
 public:
  MemoryDelayQueue() = default;
  MemoryDelayQueue(const MemoryDelayQueue&) = delete;
  MemoryDelayQueue& operator=(const MemoryDelayQueue&) = delete;

  std::string publish(std::string payload, absl::Time due) override;
  void consume(absl::Time now, size_t max, absl::Duration visibility,
               std::vector<Delivery>& out) override;
  void ack(const std::string& id) override;
  size_t pending() const override;

 private:
  struct Message {
    std::string payload;
    int attempts = 0;
    std::multimap<absl::Time, std::string>::iterator due_it;
  };

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Due time -> message id; an unacknowledged delivery is re-filed at its
  // visibility deadline.
  std::multimap<absl::Time, std::string> due_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Message> messages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill
