#pragma once

#include <string>
#include <vector>

#include "engine/core/order_repository.h"
#include "engine/core/sale_ids.h"
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
  RedisOrderRepository(RedisClient& client, SaleIdList sale_ids)
      : client_(client), sale_ids_(std::move(sale_ids)) {}
  RedisOrderRepository(const RedisOrderRepository&) = delete;
  RedisOrderRepository& operator=(const RedisOrderRepository&) = delete;

  void get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) override;
  void transition(std::string_view order_id, OrderState from, OrderState to, CancelReason reason,
                  absl::Time at, std::optional<absl::Time> only_before,
                  Callback<absl::StatusOr<Transition>> done) override;
  // Summed over the served sales; a sale Redis cannot answer for counts as zero.
  OrderCounts counts() const override;
  // HSCAN of the sale's records hash: the page token is the scan cursor, so pages come in the
  // hash's order (not by id), and an order present through the whole listing is listed once.
  void list(const OrderQuery& query, Callback<absl::StatusOr<OrderPage>> done) override;

 private:
  RedisClient& client_;
  const SaleIdList sale_ids_;
};

}  // namespace seckill
