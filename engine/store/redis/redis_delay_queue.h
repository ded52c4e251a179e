#pragma once

#include <string>
#include <vector>

#include "engine/core/delay_queue.h"
#include "engine/core/sale_ids.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The delayed cancels of the Redis stores: one sorted set per sale
// (sk:{sale}:cancel, score = due time in us) that RedisSaleStore's attempt
// script fills with one member per group of orders: their ids separated by
// spaces, scored by the group's latest pay_before (a group's orders were
// created within one Redis round trip, so none is cancelled early and none
// late by more than that). consume() runs consume_due.lua per sale, which
// splits a due group into one member per order and re-scores each delivered
// one to now + visibility, so an unacknowledged delivery comes back; ack()
// removes the order's member. Message ids are "<sale>|<order id>".
// pending() reads the orders queued from the sale's counts hash
// (cancel_queue), which the scripts keep.
//
// consume() and pending() block (one round trip per sale) and must run on the
// cancel consumer's own thread, never on a RedisClient connection thread (they
// then deliver nothing). publish() and ack() only queue their command: a lost
// ack means one redelivery, which the handler tolerates. Thread-safe.
class RedisDelayQueue final : public DelayQueue {
 public:
  // `client` must have been built with storeScripts() and outlive this.
  RedisDelayQueue(RedisClient& client, SaleIdList sale_ids)
      : client_(client), sale_ids_(std::move(sale_ids)) {}
  RedisDelayQueue(const RedisDelayQueue&) = delete;
  RedisDelayQueue& operator=(const RedisDelayQueue&) = delete;

  // `payload` must be an order id naming its sale; otherwise nothing is queued
  // and the id returned is empty.
  std::string publish(std::string_view payload, absl::Time due) override;
  void consume(absl::Time now, size_t max, absl::Duration visibility,
               std::vector<Delivery>& out) override;
  void ack(const std::string& id) override;
  // Unacknowledged messages over the served sales; 0 for a sale Redis cannot answer for.
  size_t pending() const override;

 private:
  RedisClient& client_;
  const SaleIdList sale_ids_;
};

}  // namespace seckill
