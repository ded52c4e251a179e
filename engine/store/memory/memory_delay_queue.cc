#include "engine/store/memory/memory_delay_queue.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

std::string MemoryDelayQueue::publish(std::string payload, absl::Time due) {
  const size_t index = next_shard_.fetch_add(1, std::memory_order_relaxed) % kShards;
  Shard& shard = shards_[index];
  std::string id;
  {
    absl::MutexLock lock(&shard.mu);
    id = absl::StrCat(index, ".", ++shard.next_id);
    auto due_it = shard.due.emplace(due, id);
    shard.messages.emplace(id, Message{.payload = std::move(payload), .attempts = 0, .due_it = due_it});
  }
  pending_.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void MemoryDelayQueue::consume(absl::Time now, size_t max, absl::Duration visibility,
                               std::vector<Delivery>& out) {
  size_t taken = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    while (taken < max && !shard.due.empty() && shard.due.begin()->first <= now) {
      auto node = shard.due.extract(shard.due.begin());
      Message& msg = shard.messages.at(node.mapped());
      ++msg.attempts;
      out.push_back(
          Delivery{.id = node.mapped(), .payload = msg.payload, .attempts = msg.attempts});
      node.key() = now + visibility;
      msg.due_it = shard.due.insert(std::move(node));
      ++taken;
    }
    if (taken >= max) return;
  }
}

MemoryDelayQueue::Shard* MemoryDelayQueue::shardOf(const std::string& id) {
  size_t dot = id.find('.');
  size_t index = 0;
  if (dot == std::string::npos || !absl::SimpleAtoi(av(std::string_view(id).substr(0, dot)), &index) ||
      index >= kShards) {
    return nullptr;
  }
  return &shards_[index];
}

void MemoryDelayQueue::ack(const std::string& id) {
  Shard* shard = shardOf(id);
  if (shard == nullptr) return;
  {
    absl::MutexLock lock(&shard->mu);
    auto it = shard->messages.find(id);
    if (it == shard->messages.end()) return;
    shard->due.erase(it->second.due_it);
    shard->messages.erase(it);
  }
  pending_.fetch_sub(1, std::memory_order_relaxed);
}

size_t MemoryDelayQueue::pending() const { return pending_.load(std::memory_order_relaxed); }

}  // namespace seckill
