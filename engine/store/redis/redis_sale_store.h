#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "engine/core/append_only_map.h"
#include "engine/core/sale_store.h"
#include "engine/store/redis/redis_client.h"

namespace seckill {

// The production SaleStore: stock, buyers (the dedup), tokens, order records,
// the order stream and the delayed cancels of each sale live in Redis (layout in
// docs/redis.md). Order attempts run in attempt_orders.lua, each one atomic,
// so "unit taken" and "order queued" can never be separated.
//
// Group commit: a sale has at most one attempt_orders.lua call in flight. The
// attempts that arrive meanwhile wait, in arrival order, and go as the next
// call (up to `max_group` of them) as soon as the reply comes: an attempt
// still costs one round trip, while Redis pays the script's fixed cost (and
// the stock read and write, the buyers' HMGET and HSET, the order records'
// HSET, the delayed-cancel ZADD and the counts) once per group instead of
// once per attempt. An idle sale's attempt goes at once,
// alone. More than `max_waiting` attempts waiting on one sale: Unavailable
// (the engine answers 503) rather than an unbounded queue. Calls complete on a
// RedisClient connection thread; a Redis failure or timeout completes every
// attempt of the call with Unavailable (the attempt may have been applied: a
// retry then finds the order through its buyer entry).
//
// Stock strategies: kAtomic, kCounterGate (gate in the core) and kFifo (the
// sale's commands are serialized in arrival order on one connection and the
// script runs alone) deduct with the script's check-and-decrement.
// kOptimistic is the design notes' WATCH form instead, one attempt at a time:
// WATCH the stock, buyers and token keys and read them (one round trip),
// decide, then MULTI ... EXEC the same writes (a second round trip); a
// conflicting write makes EXEC fail and the attempt retries, up to
// `optimistic_retries` times, then kBusy. It costs >= 2 round trips and holds
// its connection meanwhile (docs/redis.md).
//
// Order ids must name their sale (OrderIdGenerator::next(sale_id)):
// RedisOrderRepository finds an order's record through saleOfOrderId().
//
// Thread-safety: thread-safe. addSale() may run while serving (the sales are an AppendOnlyMap).
class RedisSaleStore final : public SaleStore {
 public:
  // `client` must have been built with storeScripts() and outlive the store.
  struct Options {
    int optimistic_retries = 16;  // EXEC attempts per kOptimistic attempt; then kBusy
    size_t max_group = 256;       // attempts per attempt_orders.lua call
    size_t max_waiting = 16384;   // attempts waiting per sale; beyond: Unavailable
    // Append each created order to the sale's order stream, for an OrderWriter
    // to persist. Off when orders live in Redis only: nobody would read (or
    // trim) the stream, and the order record already is the order.
    bool stream_orders = true;
    // Tests only: runs on the connection thread between the optimistic read
    // and its MULTI/EXEC (to provoke a conflict).
    std::function<void()> before_optimistic_write;
  };

  explicit RedisSaleStore(RedisClient& client) : RedisSaleStore(client, Options()) {}
  RedisSaleStore(RedisClient& client, Options options)
      : client_(client), options_(std::move(options)) {}
  // Attempts still waiting (the client was never shut down) fail with Unavailable.
  ~RedisSaleStore() override;
  RedisSaleStore(const RedisSaleStore&) = delete;
  RedisSaleStore& operator=(const RedisSaleStore&) = delete;

  // Sets the stock and its total only if Redis has none for the sale yet (SET NX, HSETNX): a
  // restarted engine, or a second engine on the same Redis, joins the running sale instead of
  // resetting it. Blocking; Unavailable when Redis is down.
  absl::Status addSale(const SaleSpec& sale) override;
  void issueToken(std::string_view sale_id, std::string_view user_id, absl::Time expires,
                  Callback<absl::StatusOr<std::string>> done) override;
  void attemptOrder(OrderAttempt attempt, absl::Time now,
                    Callback<absl::StatusOr<AttemptResult>> done) override;
  void releaseUnit(std::string_view sale_id, std::string_view user_id, std::string_view order_id,
                   Callback<absl::StatusOr<bool>> done) override;
  void stockLeft(std::string_view sale_id, Callback<absl::StatusOr<int64_t>> done) override;
  void adjustStock(std::string_view sale_id, StockChange change,
                   Callback<absl::StatusOr<StockLevel>> done) override;
  void stockLevel(std::string_view sale_id, Callback<absl::StatusOr<StockLevel>> done) override;

  // kOptimistic transactions whose EXEC was aborted by a conflicting write.
  uint64_t optimisticConflicts() const { return conflicts_.load(std::memory_order_relaxed); }
  // attempt_orders.lua calls sent, and the attempts they carried (their ratio
  // is the mean group size).
  uint64_t attemptGroups() const { return groups_.load(std::memory_order_relaxed); }
  uint64_t attemptsGrouped() const { return grouped_.load(std::memory_order_relaxed); }

 private:
  struct Queued {
    OrderAttempt attempt;
    absl::Time now;
    Callback<absl::StatusOr<AttemptResult>> done;
  };
  // One sale: its spec and its group commit state.
  struct Sale {
    SaleSpec spec;
    absl::Mutex mu;
    bool in_flight ABSL_GUARDED_BY(mu) = false;  // its call sent, not yet answered
    std::deque<Queued> waiting ABSL_GUARDED_BY(mu);
  };

  Sale* find(std::string_view sale_id) const;
  // Sends `group` (non-empty, at most max_group) as one attempt_orders.lua call;
  // its reply sends the next group of `sale`, if any, then answers this one.
  void sendGroup(Sale& sale, std::vector<Queued> group);
  static void answerGroup(std::vector<Queued>& group, const absl::StatusOr<RedisReply>& r);
  // kOptimistic: the WATCH/MULTI/EXEC form of attempt_orders.lua, one attempt.
  void attemptOptimistic(OrderAttempt attempt, absl::Time now,
                         Callback<absl::StatusOr<AttemptResult>> done);

  RedisClient& client_;
  const Options options_;
  std::atomic<uint64_t> conflicts_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> grouped_{0};
  absl::Mutex add_mu_;  // one addSale at a time
  AppendOnlyMap<Sale> sales_;
};

}  // namespace seckill
