#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/sale_catalog.h"
#include "engine/core/sale_events.h"
#include "engine/core/sale_store.h"
#include "engine/store/redis/redis_client.h"
#include "engine/store/redis/redis_subscriber.h"

namespace seckill::app {

// Keeps the local sold-out flags (SoldOutFlag) of every engine node on one
// Redis in step: "soldout"/"restock" messages on the pub/sub channel
// kSaleChannel, published by the node that learned it and applied by the
// others. Pub/sub may lose a message while a subscriber reconnects, so
// refresh() also asks Redis for the stock of each sale flagged sold out (one
// GET per flagged sale per call, off the request path): a missed "restock"
// costs at most one refresh interval of "sold out" answers; a missed
// "soldout" only costs the store calls the flag would have spared.
//
// Messages: "<kind> <node> <sale id>"; a node ignores its own.
// Thread-safety: thread-safe; soldOut/restocked only queue a PUBLISH.
class SaleBroadcast final : public SaleEvents {
 public:
  static constexpr std::string_view kSaleChannel = "sk:sales";

  // Subscribes at once (to any of `seeds`, as `auth`). `client`, `catalog`
  // and `store` must outlive this.
  SaleBroadcast(RedisClient& client, std::vector<RedisEndpoint> seeds, RedisAuth auth,
                const SaleCatalog& catalog, SaleStore& store, std::string node);
  ~SaleBroadcast() override;  // stop()

  void soldOut(std::string_view sale_id) override;
  void restocked(std::string_view sale_id) override;

  // Clears the flag of every flagged sale whose stock in Redis is above zero.
  // Completes asynchronously; call from a timer.
  void refresh();
  // Stops listening; no flag changes after it returns. Idempotent.
  void stop();

  // Applies one message as the subscriber does (exposed for tests).
  void apply(std::string_view payload);

  uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  uint64_t applied() const { return applied_.load(std::memory_order_relaxed); }
  bool subscribed() const { return subscriber_ && subscriber_->subscribed(); }

 private:
  void publish(std::string_view kind, std::string_view sale_id);

  RedisClient& client_;
  const SaleCatalog& catalog_;
  SaleStore& store_;
  const std::string node_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> applied_{0};
  std::unique_ptr<RedisSubscriber> subscriber_;  // last: its thread calls apply()
};

}  // namespace seckill::app
