#include "engine/store/memory/memory_order_repository.h"

#include <algorithm>
#include <queue>
#include <vector>

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
        if (to != OrderState::kPendingPayment && keep_finished_ != absl::InfiniteDuration()) {
          shard.finished.push_back(
              {std::max(at, order.pay_before) + keep_finished_, std::string(order_id)});
        }
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

size_t MemoryOrderRepository::forgetFinished(absl::Time now) {
  size_t dropped = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    // Entries are in finishing order; their forget_after (pay_before + keep_finished, mostly)
    // is ascending within a sale. Stopping at the first entry still kept may keep some orders
    // longer (by at most the difference between two sales' pay_timeouts), never drops one
    // early.
    while (!shard.finished.empty() && shard.finished.front().forget_after <= now) {
      auto it = shard.orders.find(shard.finished.front().id);
      if (it != shard.orders.end() && it->second.state != OrderState::kPendingPayment) {
        shard.orders.erase(it);
        ++dropped;
      }
      shard.finished.pop_front();
    }
    if (shard.finished.empty()) shard.finished.shrink_to_fit();
  }
  forgotten_.fetch_add(static_cast<int64_t>(dropped), std::memory_order_relaxed);
  return dropped;
}

size_t MemoryOrderRepository::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    n += shard.orders.size();
  }
  return n;
}

void MemoryOrderRepository::list(const OrderQuery& query,
                                 Callback<absl::StatusOr<OrderPage>> done) {
  const size_t limit = std::max<size_t>(query.limit, 1);
  // The `limit + 1` smallest ids after the page token: a max-heap of that size.
  auto by_id = [](const Order& a, const Order& b) { return a.id < b.id; };
  std::priority_queue<Order, std::vector<Order>, decltype(by_id)> best(by_id);
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (const auto& [id, order] : shard.orders) {
      if (order.sale_id != query.sale_id) continue;
      if (!query.user_id.empty() && order.user_id != query.user_id) continue;
      if (!query.page.empty() && !(id > query.page)) continue;
      if (best.size() <= limit) {
        best.push(order);
      } else if (id < best.top().id) {
        best.pop();
        best.push(order);
      }
    }
  }
  OrderPage page;
  const bool more = best.size() > limit;
  if (more) best.pop();
  page.orders.resize(best.size());
  for (size_t i = best.size(); i-- > 0;) {
    page.orders[i] = best.top();
    best.pop();
  }
  if (more) page.next = page.orders.back().id;
  std::move(done)(std::move(page));
}

}  // namespace seckill
