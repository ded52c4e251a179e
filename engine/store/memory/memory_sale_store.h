#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/append_only_map.h"
#include "engine/core/delay_queue.h"
#include "engine/core/strings.h"
#include "engine/core/sale_store.h"
#include "engine/store/memory/compact_string.h"
#include "engine/store/memory/memory_order_repository.h"
#include "engine/store/memory/token_log.h"

namespace seckill {

// The embedded SaleStore: stock, dedup keys and tokens in process memory, compactly (a pending
// order costs about 240 bytes with its dedup key, used token and delayed cancel:
// docs/architecture.md "Memory per order").
// The atomic order step records orders in `orders` and publishes their delayed
// cancel to `cancels`. Calls complete inline, except for kFifo sales, whose
// attempts complete on that sale's consumer thread.
//
// Thread-safety: all calls are thread-safe. The sale table is an AppendOnlyMap: addSale() may
// run while serving and lookups take no lock.
class MemorySaleStore final : public SaleStore {
 public:
  struct Options {
    size_t fifo_capacity = 65536;  // attempts waiting per kFifo sale; beyond: kBusy
    int optimistic_retries = 16;   // CAS attempts per kOptimistic deduction; then kBusy
  };

  MemorySaleStore(MemoryOrderRepository& orders, DelayQueue& cancels)
      : MemorySaleStore(orders, cancels, Options()) {}
  MemorySaleStore(MemoryOrderRepository& orders, DelayQueue& cancels, Options options);
  ~MemorySaleStore() override;
  MemorySaleStore(const MemorySaleStore&) = delete;
  MemorySaleStore& operator=(const MemorySaleStore&) = delete;

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

  // Stops the FIFO consumers; attempts still queued complete with kBusy.
  // Idempotent; the destructor calls it.
  void shutdown();

  // Tokens currently stored (fresh, in flight or used and not yet expired).
  size_t tokenCount() const;

 private:
  struct FifoLane;
  static constexpr size_t kShards = 64;

  // A sale's (user, sale) dedup keys: user id -> what holds the key. An attempt holds it
  // (kInFlight) from before it touches stock until it ends; a created order holds it until that
  // order is cancelled, as the order's compact key in the order repository (8 bytes, not the
  // id's text), or kOtherId with the id in `other_ids` (an id without a compact key).
  static constexpr uint64_t kInFlight = ~uint64_t{0};
  static constexpr uint64_t kOtherId = ~uint64_t{1};
  struct alignas(64) DedupShard {  // a cache line of its own (see the other shards)
    absl::Mutex mu;
    absl::flat_hash_map<CompactString, uint64_t, CompactStringHash, CompactStringEq> holds
        ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<CompactString, std::string, CompactStringHash, CompactStringEq> other_ids
        ABSL_GUARDED_BY(mu);
  };

  struct SaleSlot {
    SaleSpec spec;
    std::atomic<int64_t> stock{0};  // units left (may dip below 0 for an instant: takeUnit)
    std::atomic<int64_t> total{0};  // written under admin_mu_ only
    std::unique_ptr<FifoLane> fifo;  // kFifo only
    std::array<DedupShard, kShards> dedup;
    ~SaleSlot();
  };
  SaleSlot* find(std::string_view sale_id) const;
  // The whole atomic step, on the caller's thread (or the FIFO consumer's).
  AttemptResult runAttempt(SaleSlot& sale, OrderAttempt& attempt, absl::Time now);
  // Takes one unit with the sale's strategy. kCreated, kSoldOut or kBusy.
  AttemptOutcome takeUnit(SaleSlot& sale);
  // Ends a token's use begun in runAttempt (serial 0 with no token: nothing): the answer is
  // kept for replays when `consume`, else the token is usable again.
  void finishToken(bool has_token, uint64_t serial, const AttemptResult& result, bool consume);
  // A used token's answer (TokenLog's word) back to the AttemptResult it stands for.
  AttemptResult replayOf(const TokenLog::Use& use, const OrderAttempt& a) const;
  static DedupShard& dedupShard(SaleSlot& sale, std::string_view user_id);
  // The id of the order a hold names ("" for an attempt in flight).
  std::string heldBy(DedupShard& shard, std::string_view user_id, uint64_t hold) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  MemoryOrderRepository& orders_;
  DelayQueue& cancels_;
  Options options_;
  absl::Mutex admin_mu_;  // one addSale / adjustStock at a time
  AppendOnlyMap<SaleSlot> sales_;
  TokenLog tokens_;
};

}  // namespace seckill
