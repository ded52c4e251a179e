#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/delay_queue.h"

namespace seckill {

// An in-process delay queue: messages ordered by due time; a delivery not
// acknowledged within its visibility timeout becomes due again. Thread-safe.
// Not durable: the embedded default loses queued messages with the process.
//
// Sharded: publishers (every created order) spread over kShards locks, so
// lock contention does not stall the request path. Compact: a message costs
// its 24-byte slot, its payload's bytes and a 16-byte heap entry (a pending
// order's delayed cancel is one). Order of delivery is by due time within a shard; across
// shards every message is still delivered once it is due.
class MemoryDelayQueue final : public DelayQueue {
 public:
  MemoryDelayQueue() = default;
  MemoryDelayQueue(const MemoryDelayQueue&) = delete;
  MemoryDelayQueue& operator=(const MemoryDelayQueue&) = delete;

  std::string publish(std::string_view payload, absl::Time due) override;
  void consume(absl::Time now, size_t max, absl::Duration visibility,
               std::vector<Delivery>& out) override;
  void ack(const std::string& id) override;
  size_t pending() const override;

 private:
  // A message: its payload is in the shard's byte log from `offset` on. 16 bytes, against
  // about 250 for a std::multimap node plus a hash-map entry plus two strings.
  struct Slot {
    int64_t due_ns;    // when it is (next) due, Unix nanoseconds
    uint32_t offset;   // of its payload in the byte log, modulo 2^32 (a shard holds < 4 GB)
    uint16_t size;     // of its payload; kLong: in long_payloads
    int16_t attempts;  // deliveries so far (counting stops at 32767); kAcked once acknowledged
  };
  static_assert(sizeof(Slot) == 16);
  static constexpr int16_t kAcked = -1;
  static constexpr uint16_t kLong = 0xFFFF;
  // A heap entry: a message's due time and number (modulo 2^32: a shard holds fewer messages).
  struct Due {
    uint32_t due_hi, due_lo;
    uint32_t n;
    int64_t due() const { return static_cast<int64_t>((uint64_t{due_hi} << 32) | due_lo); }
    static Due of(int64_t due_ns, uint64_t n) {
      const auto u = static_cast<uint64_t>(due_ns);
      return Due{static_cast<uint32_t>(u >> 32), static_cast<uint32_t>(u), static_cast<uint32_t>(n)};
    }
    bool operator>(const Due& o) const { return due() != o.due() ? due() > o.due() : n > o.n; }
  };
  static_assert(sizeof(Due) == 12);

  static constexpr size_t kShards = 16;
  // A cache line of its own: two threads on neighbouring shards do not take each other's line.
  struct alignas(64) Shard {
    mutable absl::Mutex mu;
    std::atomic<size_t> pending{0};  // messages not acknowledged (written under mu)
    // Messages by number: slots[i] is message first + i. Acknowledged messages leave from the
    // front; one still waiting keeps those after it (24 bytes each) until it goes.
    std::deque<Slot> slots ABSL_GUARDED_BY(mu);
    uint64_t first ABSL_GUARDED_BY(mu) = 1;
    // The payloads, in publishing order; bytes[0] is byte `bytes_first` of the log.
    std::deque<char> bytes ABSL_GUARDED_BY(mu);
    uint64_t bytes_first ABSL_GUARDED_BY(mu) = 0;
    // Payloads over 65535 bytes (size kLong in their slot), by message number.
    absl::flat_hash_map<uint64_t, std::string> long_payloads ABSL_GUARDED_BY(mu);
    // Due times, earliest first. An entry whose message was acknowledged or re-filed since is
    // stale: skipped when it comes up.
    std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due ABSL_GUARDED_BY(mu);
  };
  // The shard and message number named by a message id ("<shard>.<n>").
  bool parseId(const std::string& id, size_t& shard, uint64_t& n) const;

  std::array<Shard, kShards> shards_;
};

}  // namespace seckill
