#include "engine/core/cancel_consumer.h"

#include <atomic>
#include <memory>
#include <vector>

namespace seckill {

size_t CancelConsumer::runOnce(absl::Time now) {
  auto acked = std::make_shared<std::atomic<size_t>>(0);
  std::vector<Delivery> batch;
  while (true) {
    batch.clear();
    queue_.consume(now, batch_, visibility_, batch);
    for (Delivery& d : batch) {
      DelayQueue* queue = &queue_;
      std::string id = d.id;
      lifecycle_.expire(d.payload, [queue, id = std::move(id), acked,
                                    total = total_acked_](absl::Status s) {
        // Not acknowledged on failure: the message comes back after the
        // visibility timeout and expire() runs again (it is idempotent).
        if (!s.ok()) return;
        queue->ack(id);
        acked->fetch_add(1, std::memory_order_relaxed);
        total->fetch_add(1, std::memory_order_relaxed);
      });
    }
    if (batch.size() < batch_) break;
  }
  return acked->load(std::memory_order_relaxed);
}

}  // namespace seckill
