#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "engine/core/delay_queue.h"
#include "engine/core/sale_service.h"

namespace seckill {

// Consumes the delayed cancel messages (payload: order id) published when an
// order is created, and expires the orders still unpaid. A message is
// acknowledged only after its expire() completed OK, so a failure or a crash
// means redelivery, and expire() is idempotent. Driven by a timer in the app
// and by hand in tests; not thread-safe itself (one driver).
class CancelConsumer {
 public:
  CancelConsumer(DelayQueue& queue, OrderLifecycle& lifecycle,
                 absl::Duration visibility = absl::Seconds(30), size_t batch = 512)
      : queue_(queue), lifecycle_(lifecycle), visibility_(visibility), batch_(batch) {}

  // Handles every message due at `now` (in batches). Returns how many were
  // acknowledged during the call (completions that arrive later ack later).
  size_t runOnce(absl::Time now);

  // Messages acknowledged so far, including completions that arrived after
  // their runOnce() returned (networked stores complete on their threads).
  uint64_t acked() const { return total_acked_->load(std::memory_order_relaxed); }

 private:
  DelayQueue& queue_;
  OrderLifecycle& lifecycle_;
  absl::Duration visibility_;
  size_t batch_;
  // Shared with the completions, which may outlive this consumer.
  std::shared_ptr<std::atomic<uint64_t>> total_acked_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace seckill
