#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/append_only_map.h"
#include "engine/core/order_repository.h"
#include "engine/store/memory/compact_string.h"

namespace seckill {

// Orders in process memory, sharded by id (a hash of the id's text). Calls complete inline. Thread-safe.
//
// Finished orders (paid, cancelled) are kept for `keep_finished` after the later of their last
// change and their pay_before (so the delayed cancel of each has run before it goes), then
// forgetFinished() drops them: get() answers NotFound. Pending orders are never dropped.
//
// Memory: an id of OrderIdGenerator's shape, "<node>-<seq>-<sale>", is held as a 60-bit key
// (the (node, sale) pair interned, the sequence as a number) and the order as a 56-byte record
// (times in Unix nanoseconds, the clocks' resolution; the user id inline up to 23
// characters) reached through a 16-byte table slot: about 90 bytes an order with the table's
// spare capacity, against 0.5 KB as an Order keyed by its id string. Any other id,
// or one that names another sale than its order's, is kept as given, in a second table. docs/architecture.md "Memory per order".
class MemoryOrderRepository final : public OrderRepository {
 public:
  // A stored order's compact key (see above); kNoKey for an id kept as a string.
  static constexpr uint64_t kNoKey = 0;
  // Keys are below 2^kKeyBits - 1 (the token log keeps one in 60 bits, all ones a mark).
  static constexpr int kKeyBits = 60;

  explicit MemoryOrderRepository(absl::Duration keep_finished = absl::InfiniteDuration())
      : keep_finished_(keep_finished) {}
  MemoryOrderRepository(const MemoryOrderRepository&) = delete;
  MemoryOrderRepository& operator=(const MemoryOrderRepository&) = delete;

  // Where insert() will put an order: its compact key (kNoKey: kept as a string) and its
  // shard, worked out once.
  class Place {
   private:
    friend class MemoryOrderRepository;
    uint64_t key = kNoKey;
    size_t shard = 0;
  };
  // The place of `order` (interning its (node, sale) pair when its id has one). It also starts
  // loading the lines of the shard's table that an insert under that key reads, so that what the
  // caller does until insert() (the dedup, the unit) overlaps those cache misses: the table
  // grows by an order a request, and the misses were most of the insert's time.
  Place place(const Order& order);
  // Records a new order (the memory sale store's atomic step calls this).
  // Returns false, changing nothing, if the id exists. `key` (optional) receives the order's
  // compact key, or kNoKey. `at` is place(order).
  bool insert(const Order& order, const Place& at, uint64_t* key = nullptr);
  bool insert(const Order& order, uint64_t* key = nullptr) { return insert(order, place(order), key); }
  // The compact key an existing or future order with this id has (kNoKey: none; the id is
  // kept as a string). Never interns anything.
  uint64_t keyOf(std::string_view order_id) const;
  // The id of a compact key keyOf() or insert() gave.
  std::string idOf(uint64_t key) const;
  // The order under a compact key, if it is still held.
  std::optional<Order> find(uint64_t key) const;

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
  static constexpr int kSeqBits = 48;  // the key: 12 bits of pair, 48 of sequence (< 2^60)
  static constexpr size_t kMaxPairs = size_t{1} << (kKeyBits - kSeqBits);

  // A (node, sale) pair of compact ids.
  struct Pair {
    uint64_t index;  // 1.. (0 is never a pair: keys are never kNoKey)
    std::string node;
    std::string sale;
  };
  // An order kept under its compact key.
  struct Record {
    int64_t created_ns;
    int64_t pay_before_ns;
    int64_t updated_ns;
    CompactString user_id;
    OrderState state;
    CancelReason cancel_reason;
  };
  static_assert(sizeof(Record) == 56);
  struct Finished {
    int64_t forget_after_ns;
    uint64_t key;
  };
  struct FinishedOther {
    absl::Time forget_after;
    std::string id;
  };
  // A cache line of its own: two threads on neighbouring shards do not take each other's line.
  struct alignas(64) Shard {
    mutable absl::Mutex mu;
    // Orders by state in this shard (written under mu, summed by counts() without it).
    std::array<std::atomic<int64_t>, 3> by_state{};  // indexed by OrderState
    // Records in a deque (blocks of 9, no slack beyond the last block), reached through a
    // key -> index table (16-byte slots: the hash table's spare capacity is paid on 16 bytes
    // an order instead of 64). A forgotten record's place is reused.
    std::deque<Record> records ABSL_GUARDED_BY(mu);
    std::vector<uint32_t> free_records ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<uint64_t, uint32_t> orders ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, Order> other_orders ABSL_GUARDED_BY(mu);
    // Finished orders in the order they finished (forget_after almost ascending).
    std::deque<Finished> finished ABSL_GUARDED_BY(mu);
    std::deque<FinishedOther> finished_other ABSL_GUARDED_BY(mu);
  };

  // The key of `id`: parses it and looks its pair up, interning a new pair when `intern`.
  uint64_t keyFor(std::string_view id, bool intern);
  const Pair* pairOf(uint64_t key) const;
  Order orderOf(uint64_t key, const Record& r) const;
  static size_t shardIndex(std::string_view id);
  Shard& shardFor(std::string_view id);
  // After a transition that applied: files a finished order for forgetting.
  void fileFinished(Shard& shard, uint64_t key, std::string_view id, absl::Time forget_after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  std::array<Shard, kShards> shards_;
  absl::Mutex intern_mu_;      // one new pair at a time
  AppendOnlyMap<Pair> pairs_;  // by "<node>\x1f<sale>"
  std::array<std::atomic<const Pair*>, kMaxPairs> pair_by_index_{};
  std::atomic<size_t> pair_count_{0};
  const absl::Duration keep_finished_;
  std::atomic<int64_t> forgotten_{0};
};

}  // namespace seckill
