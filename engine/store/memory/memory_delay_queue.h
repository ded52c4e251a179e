#pragma once

#include <array>
#include <atomic>
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
//
// Sharded: publishers (every created order) spread over kShards locks and
// maps, so neither lock contention nor the rehash of one huge map stalls the
// request path. Order of delivery is by due time within a shard; across
// shards every message is still delivered once it is due.
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

  static constexpr size_t kShards = 16;
  struct Shard {
    mutable absl::Mutex mu;
    uint64_t next_id ABSL_GUARDED_BY(mu) = 0;
    // Due time -> message id; an unacknowledged delivery is re-filed at its
    // visibility deadline.
    std::multimap<absl::Time, std::string> due ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, Message> messages ABSL_GUARDED_BY(mu);
  };
  // The shard named by a message id ("<shard>.<n>"), or nullptr.
  Shard* shardOf(const std::string& id);

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> next_shard_{0};
  std::atomic<size_t> pending_{0};
};

}  // namespace seckill
