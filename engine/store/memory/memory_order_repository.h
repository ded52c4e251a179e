#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/order_repository.h"

namespace seckill {

// Orders in process memory, sharded by id. Calls complete inline. Thread-safe.
//
// Finished orders (paid, cancelled) are kept for `keep_finished` after the later of their last
// change and their pay_before (so the delayed cancel of each has run before it goes), then
// forgetFinished() drops them: get() answers NotFound. Pending orders are never dropped.
class MemoryOrderRepository final : public OrderRepository {
 public:
  explicit MemoryOrderRepository(absl::Duration keep_finished = absl::InfiniteDuration())
      : keep_finished_(keep_finished) {}
  MemoryOrderRepository(const MemoryOrderRepository&) = delete;
  MemoryOrderRepository& operator=(const MemoryOrderRepository&) = delete;

  // Records a new order (the memory sale store's atomic step calls this).
  // Returns false, changing nothing, if the id exists.
  bool insert(Order order);

  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override;
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override;
  // Orders per state ever recorded: a forgotten order still counts as paid or cancelled (the
  // books of a sale: stock = paid + pending + left).
  OrderCounts counts() const override;
  // Drops the finished orders whose retention ended before `now`; returns how many. The engine
  // calls it periodically. O(orders dropped).
  size_t forgetFinished(absl::Time now);
  // Orders dropped so far, and those held now.
  int64_t forgotten() const { return forgotten_.load(std::memory_order_relaxed); }
  size_t size() const;
  // Pages in order-id order; the page token is the last id of the previous page. Scans every
  // shard (one lock at a time), so a page costs O(orders); for the admin API only.
  void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) override;

 private:
  static constexpr size_t kShards = 64;
  struct Finished {
    absl::Time forget_after;
    std::string id;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Order> orders ABSL_GUARDED_BY(mu);
    // Finished orders in the order they finished (forget_after almost ascending).
    std::deque<Finished> finished ABSL_GUARDED_BY(mu);
  };
  Shard& shardFor(std::string_view id);

  std::array<Shard, kShards> shards_;
  const absl::Duration keep_finished_;
  std::array<std::atomic<int64_t>, 3> by_state_{};  // indexed by OrderState
  std::atomic<int64_t> forgotten_{0};
};

}  // namespace seckill
