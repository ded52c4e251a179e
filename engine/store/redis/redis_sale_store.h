#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/core/sale_store.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The production SaleStore: stock, dedup keys, tokens, orders, the order
// stream and the delayed cancels of each sale live in Redis (layout in
// docs/redis.md). An order attempt is ONE EVALSHA of attempt_order.lua, so
// "unit taken" and "order queued" can never be separated, and costs exactly
// one round trip. Calls complete on a RedisClient connection thread; a Redis
// failure or timeout completes them with Unavailable.
//
// Stock strategies: kAtomic, kCounterGate (gate in the core) and kFifo (the
// sale's commands are serialized in arrival order on one connection and the
// script runs alone) deduct with the script's check-and-decrement.
// kOptimistic is the design notes' WATCH form instead: WATCH the stock, dedup
// and token keys and read them (one round trip), decide, then MULTI ... EXEC
// the same writes (a second round trip); a conflicting write makes EXEC fail
// and the attempt retries, up to `optimistic_retries` times, then kBusy. It
// costs >= 2 round trips and holds its connection meanwhile (docs/redis.md).
//
// Order ids must name their sale (OrderIdGenerator::next(sale_id)):
// RedisOrderRepository finds an order's hash through saleOfOrderId().
//
// Thread-safety: thread-safe; addSale() must happen before serving.
class RedisSaleStore final : public SaleStore {
 public:
  // `client` must have been built with storeScripts() and outlive the store.
  struct Options {
    int optimistic_retries = 16;  // EXEC attempts per kOptimistic attempt; then kBusy
    // Tests only: runs on the connection thread between the optimistic read
    // and its MULTI/EXEC (to provoke a conflict).
    std::function<void()> before_optimistic_write;
  };

  explicit RedisSaleStore(RedisClient& client) : RedisSaleStore(client, Options()) {}
  RedisSaleStore(RedisClient& client, Options options)
      : client_(client), options_(std::move(options)) {}
  RedisSaleStore(const RedisSaleStore&) = delete;
  RedisSaleStore& operator=(const RedisSaleStore&) = delete;

  // Sets the stock only if Redis has none for the sale yet (SET NX): a restarted
  // engine, or a second engine on the same Redis, joins the running sale
  // instead of resetting it. Blocking; Unavailable when Redis is down.
  absl::Status addSale(const SaleSpec& sale) override;
  void issueToken(std::string_view sale_id, std::string_view user_id, absl::Time expires,
                  Callback<absl::StatusOr<std::string>> done) override;
  void attemptOrder(OrderAttempt attempt, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override;
  void releaseUnit(std::string_view sale_id, std::string_view user_id, std::string_view order_id,
                   Callback<absl::StatusOr<bool>> done) override;
  void stockLeft(std::string_view sale_id, Callback<absl::StatusOr<int64_t>> done) override;

  // kOptimistic transactions whose EXEC was aborted by a conflicting write.
  uint64_t optimisticConflicts() const { return conflicts_.load(std::memory_order_relaxed); }

 private:
  const SaleSpec* find(std::string_view sale_id) const;
  // kOptimistic: the WATCH/MULTI/EXEC form of attempt_order.lua.
  void attemptOptimistic(OrderAttempt attempt, absl::Time now,
                         Callback<absl::StatusOr<AttemptResult>> done);

  RedisClient& client_;
  const Options options_;
  std::atomic<uint64_t> conflicts_{0};
  // Written by addSale only. A std::map: a handful of sales, and Debian's
  // abseil trips UBSan on lookups in an empty flat_hash_map.
  std::map<std::string, SaleSpec, std::less<>> sales_;
};

}  // namespace seckill
