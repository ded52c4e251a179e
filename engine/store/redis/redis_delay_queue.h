#pragma once

#include <string>
#include <vector>

#include "engine/core/delay_queue.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The delayed cancels of the Redis stores: one sorted set per sale
// (sk:{sale}:cancel, member = order id, score = due time in us) that
// RedisSaleStore's attempt script fills. consume() runs consume_due.lua per
// sale, which re-scores each delivered member to now + visibility so an
// unacknowledged delivery comes back; ack() removes the member. Message ids
// are "<sale>|<order id>".
//
// consume() and pending() block (one round trip per sale) and must run on the
// cancel consumer's own thread, never on a RedisClient connection thread (they
// then deliver nothing). publish() and ack() only queue their command: a lost
// ack means one redelivery, which the handler tolerates. Thread-safe.
class RedisDelayQueue final : public DelayQueue {
 public:
  // `client` must have been built with storeScripts() and outlive this.
  RedisDelayQueue(RedisClient& client, std::vector<std::string> sale_ids)
      : client_(client), sale_ids_(std::move(sale_ids)) {}
  RedisDelayQueue(const RedisDelayQueue&) = delete;
  RedisDelayQueue& operator=(const RedisDelayQueue&) = delete;

  // `payload` must be an order id naming its sale; otherwise nothing is queued
  // and the id returned is empty.
  std::string publish(std::string payload, absl::Time due) override;
  void consume(absl::Time now, size_t max, absl::Duration visibility,
               std::vector<Delivery>& out) override;
  void ack(const std::string& id) override;
  // Unacknowledged messages over the known sales; 0 for a sale Redis cannot answer for.
  size_t pending() const override;

 private:
  RedisClient& client_;
  const std::vector<std::string> sale_ids_;
};

}  // namespace seckill
