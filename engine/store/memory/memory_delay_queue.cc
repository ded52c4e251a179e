#include "engine/store/memory/memory_delay_queue.h"

#include "absl/strings/str_cat.h"

namespace seckill {

std::string MemoryDelayQueue::publish(std::string payload, absl::Time due) {
  absl::MutexLock lock(&mu_);
  std::string id = absl::StrCat("m", ++next_id_);
  auto due_it = due_.emplace(due, id);
  messages_.emplace(id, Message{.payload = std::move(payload), .attempts = 0, .due_it = due_it});
  return id;
}

void MemoryDelayQueue::consume(absl::Time now, size_t max, absl::Duration visibility,
                               std::vector<Delivery>& out) {
  absl::MutexLock lock(&mu_);
  size_t taken = 0;
  while (taken < max && !due_.empty() && due_.begin()->first <= now) {
    auto node = due_.extract(due_.begin());
    Message& msg = messages_.at(node.mapped());
    ++msg.attempts;
    out.push_back(Delivery{.id = node.mapped(), .payload = msg.payload, .attempts = msg.attempts});
    node.key() = now + visibility;
    msg.due_it = due_.insert(std::move(node));
    ++taken;
  }
}

void MemoryDelayQueue::ack(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  due_.erase(it->second.due_it);
  messages_.erase(it);
}

size_t MemoryDelayQueue::pending() const {
  absl::MutexLock lock(&mu_);
  return messages_.size();
}

}  // namespace seckill
