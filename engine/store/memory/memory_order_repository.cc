#include "engine/store/memory/memory_order_repository.h"

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "engine/core/strings.h"

namespace seckill {

MemoryOrderRepository::Shard& MemoryOrderRepository::shardFor(std::string_view id) {
  return shards_[absl::HashOf(id) % kShards];
}

bool MemoryOrderRepository::insert(Order order) {
  OrderState state = order.state;
  Shard& shard = shardFor(order.id);
  {
    absl::MutexLock lock(&shard.mu);
    std::string id = order.id;
    if (!shard.orders.try_emplace(std::move(id), std::move(order)).second) return false;
  }
  by_state_[static_cast<size_t>(state)].fetch_add(1, std::memory_order_relaxed);
  return true;
}

void MemoryOrderRepository::get(std::string_view order_id,
                                Callback<absl::StatusOr<Order>> done) {
  Shard& shard = shardFor(order_id);
  absl::StatusOr<Order> result = absl::NotFoundError("unknown order");
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.orders.find(av(order_id));
    if (it != shard.orders.end()) result = it->second;
  }
  std::move(done)(std::move(result));
}

void MemoryOrderRepository::transition(std::string_view order_id, OrderState from, OrderState to,
                                       CancelReason reason, absl::Time at,
                                       std::optional<absl::Time> only_before,
                                       Callback<absl::StatusOr<Transition>> done) {
  Shard& shard = shardFor(order_id);
  absl::StatusOr<Transition> result = absl::NotFoundError("unknown order");
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.orders.find(av(order_id));
    if (it != shard.orders.end()) {
      Order& order = it->second;
      bool applies = order.state == from && (!only_before || at < *only_before);
      if (applies) {
        order.state = to;
        order.updated_at = at;
        if (to == OrderState::kCancelled) order.cancel_reason = reason;
        by_state_[static_cast<size_t>(from)].fetch_sub(1, std::memory_order_relaxed);
        by_state_[static_cast<size_t>(to)].fetch_add(1, std::memory_order_relaxed);
      }
      result = Transition{.order = order, .applied = applies};
    }
  }
  std::move(done)(std::move(result));
}

OrderCounts MemoryOrderRepository::counts() const {
  return OrderCounts{
      .pending_payment = by_state_[0].load(std::memory_order_relaxed),
      .paid = by_state_[1].load(std::memory_order_relaxed),
      .cancelled = by_state_[2].load(std::memory_order_relaxed),
  };
}

}  // namespace seckill
