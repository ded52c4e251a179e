#pragma once

#include <string>
#include <vector>

#include "engine/core/order_repository.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// Orders as records in one Redis hash per sale (field <id> of
// sk:{sale}:records, format in redis_reply_util.h), written by RedisSaleStore's
// attempt script. The sale is read from the order id ("<node>-<seq>-<sale>",
// see saleOfOrderId); an id that names no sale is NotFound. Transitions are
// one script each (compare state, check only_before, set). Per-state counts
// are kept by the scripts in sk:{sale}:counts.
//
// Thread-safety: thread-safe. get/transition complete on a connection thread.
// counts() blocks for one round trip per sale; it must not be called on a
// RedisClient connection thread (it then answers what it could read: zeros).
class RedisOrderRepository final : public OrderRepository {
 public:
  // `client` must have been built with storeScripts() and outlive this.
  RedisOrderRepository(RedisClient& client, std::vector<std::string> sale_ids)
      : client_(client), sale_ids_(std::move(sale_ids)) {}
  RedisOrderRepository(const RedisOrderRepository&) = delete;
  RedisOrderRepository& operator=(const RedisOrderRepository&) = delete;

  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override;
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override;
  // Summed over the known sales; a sale Redis cannot answer for counts as zero.
  OrderCounts counts() const override;

 private:
  RedisClient& client_;
  const std::vector<std::string> sale_ids_;
};

}  // namespace seckill
