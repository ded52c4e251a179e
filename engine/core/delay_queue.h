#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace seckill {

// A message handed to a consumer. `id` is what acknowledges it.
struct Delivery {
  std::string id;
  std::string payload;
  int attempts = 0;  // 1 on first delivery
};

// A delayed, at-least-once message queue: publish with a due time, consume what
// is due, acknowledge what was handled. A delivery not acknowledged within the
// visibility timeout is delivered again, so handlers must be idempotent.
// Thread-safe.
class DelayQueue {
 public:
  virtual ~DelayQueue() = default;

  // Queues `payload` for delivery at or after `due`. Returns the message id.
  virtual std::string publish(std::string_view payload, absl::Time due) = 0;

  // Appends to `out` up to `max` messages due at `now` (new ones, and those whose
  // earlier delivery was not acknowledged within `visibility`).
  virtual void consume(absl::Time now, size_t max, absl::Duration visibility,
                       std::vector<Delivery>& out) = 0;

  // Removes a delivered message for good. Unknown ids are ignored.
  virtual void ack(const std::string& id) = 0;

  // Messages published and not yet acknowledged.
  virtual size_t pending() const = 0;
};

}  // namespace seckill
