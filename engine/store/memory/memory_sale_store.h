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
#include "engine/store/memory/memory_order_repository.h"

namespace seckill {

// The embedded SaleStore: stock, dedup keys and tokens in process memory.
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
  struct SaleSlot {
    SaleSpec spec;
    std::atomic<int64_t> stock{0};  // units left (may dip below 0 for an instant: takeUnit)
    std::atomic<int64_t> total{0};  // written under admin_mu_ only
    std::unique_ptr<FifoLane> fifo;  // kFifo only
    ~SaleSlot();
  };

  // The (user, sale) dedup key. Held by an attempt until `expires`, or by a
  // created order (order_id set) until that order is cancelled.
  struct DedupEntry {
    absl::Time expires;
    std::string order_id;
  };
  enum class TokenState : uint8_t { kFresh, kInFlight, kUsed };
  struct TokenEntry {
    std::string sale_id;
    std::string user_id;
    absl::Time expires;
    TokenState state = TokenState::kFresh;
    AttemptResult result;  // the first use's answer, once kUsed
  };

  static constexpr size_t kShards = 64;
  struct DedupShard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, DedupEntry> keys ABSL_GUARDED_BY(mu);
  };
  struct TokenShard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, TokenEntry> tokens ABSL_GUARDED_BY(mu);
    absl::Time next_sweep ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  };

  SaleSlot* find(std::string_view sale_id) const;
  // The whole atomic step, on the caller's thread (or the FIFO consumer's).
  AttemptResult runAttempt(SaleSlot& sale, OrderAttempt& attempt, absl::Time now);
  // Takes one unit with the sale's strategy. kCreated, kSoldOut or kBusy.
  AttemptOutcome takeUnit(SaleSlot& sale);
  void finishToken(const std::string& token, const AttemptResult& result, bool consume);
  void releaseDedupKey(const std::string& key);

  DedupShard& dedupShard(std::string_view key);
  TokenShard& tokenShard(std::string_view token);

  MemoryOrderRepository& orders_;
  DelayQueue& cancels_;
  Options options_;
  absl::Mutex admin_mu_;  // one addSale / adjustStock at a time
  AppendOnlyMap<SaleSlot> sales_;
  std::array<DedupShard, kShards> dedup_;
  std::array<TokenShard, kShards> tokens_;
};

}  // namespace seckill
