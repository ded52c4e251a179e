#pragma once

#include <array>
#include <atomic>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/order_repository.h"

namespace seckill {

// Orders in process memory, sharded by id. Calls complete inline. Thread-safe.
class MemoryOrderRepository final : public OrderRepository {
 public:
  MemoryOrderRepository() = default;
  MemoryOrderRepository(const MemoryOrderRepository&) = delete;
  MemoryOrderRepository& operator=(const MemoryOrderRepository&) = delete;

  // Records a new order (the memory sale store's atomic step calls this).
  // Returns false, changing nothing, if the id exists.
  bool insert(Order order);

  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override;
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override;
  OrderCounts counts() const override;
  // Pages in order-id order; the page token is the last id of the previous page. Scans every
  // shard (one lock at a time), so a page costs O(orders); for the admin API only.
  void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) override;

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Order> orders ABSL_GUARDED_BY(mu);
  };
  Shard& shardFor(std::string_view id);

  std::array<Shard, kShards> shards_;
  std::array<std::atomic<int64_t>, 3> by_state_{};  // indexed by OrderState
};

}  // namespace seckill
