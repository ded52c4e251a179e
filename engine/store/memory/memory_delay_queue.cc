#include "engine/store/memory/memory_delay_queue.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

std::string MemoryDelayQueue::publish(std::string_view payload, absl::Time due) {
  // Each thread goes round the shards on its own: no counter shared by every publisher.
  thread_local size_t next_shard = 0;
  const size_t index = next_shard++ % kShards;
  Shard& shard = shards_[index];
  uint64_t n;
  {
    absl::MutexLock lock(&shard.mu);
    n = shard.first + shard.slots.size();
    const uint64_t offset = shard.bytes_first + shard.bytes.size();
    uint16_t size = kLong;
    if (payload.size() < kLong) {
      size = static_cast<uint16_t>(payload.size());
      shard.bytes.insert(shard.bytes.end(), payload.begin(), payload.end());
    } else {
      shard.long_payloads.emplace(n, std::string(payload));
    }
    const int64_t due_ns = absl::ToUnixNanos(due);
    shard.slots.push_back(Slot{.due_ns = due_ns,
                               .offset = static_cast<uint32_t>(offset),
                               .size = size,
                               .attempts = 0});
    shard.due.push(Due::of(due_ns, n));
    shard.pending.fetch_add(1, std::memory_order_relaxed);
  }
  return absl::StrCat(index, ".", n);
}

void MemoryDelayQueue::consume(absl::Time now, size_t max, absl::Duration visibility,
                               std::vector<Delivery>& out) {
  const int64_t now_ns = absl::ToUnixNanos(now);
  const int64_t again_ns = absl::ToUnixNanos(now + visibility);
  size_t taken = 0;
  for (size_t index = 0; index < kShards; ++index) {
    Shard& shard = shards_[index];
    absl::MutexLock lock(&shard.mu);
    while (taken < max && !shard.due.empty() && shard.due.top().due() <= now_ns) {
      const Due top = shard.due.top();
      shard.due.pop();
      // Numbers are kept modulo 2^32; one before `first` wraps beyond the slots.
      const uint32_t rel = top.n - static_cast<uint32_t>(shard.first);
      if (rel >= shard.slots.size()) continue;  // acknowledged and gone
      Slot& slot = shard.slots[rel];
      if (slot.attempts == kAcked || slot.due_ns != top.due()) continue;  // stale entry
      if (slot.attempts < INT16_MAX) ++slot.attempts;
      const uint64_t n = shard.first + rel;
      std::string payload;
      if (slot.size == kLong) {
        payload = shard.long_payloads.at(n);
      } else {
        const uint32_t at = slot.offset - static_cast<uint32_t>(shard.bytes_first);
        const auto begin = shard.bytes.begin() + at;
        payload.assign(begin, begin + slot.size);
      }
      out.push_back(Delivery{.id = absl::StrCat(index, ".", n),
                             .payload = std::move(payload),
                             .attempts = slot.attempts});
      slot.due_ns = again_ns;
      shard.due.push(Due::of(again_ns, n));
      ++taken;
    }
    if (taken >= max) return;
  }
}

bool MemoryDelayQueue::parseId(const std::string& id, size_t& shard, uint64_t& n) const {
  const size_t dot = id.find('.');
  if (dot == std::string::npos) return false;
  const std::string_view view(id);
  return absl::SimpleAtoi(av(view.substr(0, dot)), &shard) && shard < kShards &&
         absl::SimpleAtoi(av(view.substr(dot + 1)), &n);
}

void MemoryDelayQueue::ack(const std::string& id) {
  size_t index = 0;
  uint64_t n = 0;
  if (!parseId(id, index, n)) return;
  Shard& shard = shards_[index];
  {
    absl::MutexLock lock(&shard.mu);
    if (n < shard.first || n - shard.first >= shard.slots.size()) return;
    Slot& slot = shard.slots[n - shard.first];
    if (slot.attempts == kAcked) return;
    slot.attempts = kAcked;
    if (slot.size == kLong) shard.long_payloads.erase(n);
    // Acknowledged messages at the front leave, with their payload bytes.
    size_t drop_bytes = 0;
    while (!shard.slots.empty() && shard.slots.front().attempts == kAcked) {
      const Slot& front = shard.slots.front();
      if (front.size != kLong) drop_bytes += front.size;
      shard.slots.pop_front();
      ++shard.first;
    }
    shard.bytes.erase(shard.bytes.begin(), shard.bytes.begin() + static_cast<ptrdiff_t>(drop_bytes));
    shard.bytes_first += drop_bytes;
    if (shard.slots.empty()) {
      shard.slots.shrink_to_fit();
      shard.bytes.shrink_to_fit();
      // Every entry left in the heap is stale.
      shard.due = {};
    }
    shard.pending.fetch_sub(1, std::memory_order_relaxed);
  }
}

size_t MemoryDelayQueue::pending() const {
  size_t n = 0;
  for (const Shard& shard : shards_) n += shard.pending.load(std::memory_order_relaxed);
  return n;
}

}  // namespace seckill
