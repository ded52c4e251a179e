#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/status/statusor.h"
#include "engine/core/sale.h"
#include "engine/core/snapshot_cell.h"
#include "engine/core/strings.h"

namespace seckill {

// The counter gate of StockStrategy::kCounterGate: drops traffic beyond the
// remaining stock before it reaches the store. It keeps, in one atomic word,
// `permits` (units believed left) and `holders` (attempts in flight).
//
// enter() hands out a permit while there is one. With none left but attempts
// still in flight, one of those may yet fail (a duplicate, an invalid token)
// and free its unit, so the attempt passes through to the store, which is
// authoritative; only with no permit and nothing in flight is the answer
// "sold out" without a store call. finish() settles the books: a permit
// taken by an attempt that created nothing comes back; an order created by a
// pass-through attempt consumes one (permits may dip below zero meanwhile).
// So once everything settles, permits = stock - created + cancelled, and the
// gate never answers sold out while a unit can still be sold. Lock-free.
class CounterGate {
 public:
  enum class Entry { kPermit, kPassThrough, kClosed };

  // `permits` must fit in 31 bits (validated with the sale).
  explicit CounterGate(int64_t permits) : word_(pack(permits, 0)) {}

  // kPermit or kPassThrough: the attempt goes on and finish() must follow.
  // kClosed: sold out, nothing changed.
  Entry enter() {
    uint64_t w = word_.load(std::memory_order_acquire);
    while (true) {
      const int64_t p = permitsOf(w);
      const int64_t h = holdersOf(w);
      Entry e;
      uint64_t next;
      if (p > 0) {
        e = Entry::kPermit;
        next = pack(p - 1, h + 1);
      } else if (h > 0) {
        e = Entry::kPassThrough;
        next = pack(p, h + 1);
      } else {
        return Entry::kClosed;
      }
      if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel)) return e;
    }
  }
  // Settles an entered attempt; `created` iff it took a unit.
  void finish(Entry e, bool created) {
    const int64_t dp = (e == Entry::kPermit && !created)       ? 1
                       : (e == Entry::kPassThrough && created) ? -1
                                                                : 0;
    update(dp, -1);
  }
  // A cancelled order's unit is back.
  void giveBack() { update(1, 0); }
  // The sale's total stock moved by `delta` (an operator's adjustment).
  void adjust(int64_t delta) { update(delta, 0); }

  int64_t permits() const { return permitsOf(word_.load(std::memory_order_relaxed)); }
  int64_t holders() const { return holdersOf(word_.load(std::memory_order_relaxed)); }

 private:
  static uint64_t pack(int64_t permits, int64_t holders) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(permits))) << 32) |
           static_cast<uint32_t>(holders);
  }
  static int64_t permitsOf(uint64_t w) { return static_cast<int32_t>(static_cast<uint32_t>(w >> 32)); }
  static int64_t holdersOf(uint64_t w) { return static_cast<uint32_t>(w); }
  void update(int64_t dp, int64_t dh) {
    uint64_t w = word_.load(std::memory_order_acquire);
    while (!word_.compare_exchange_weak(w, pack(permitsOf(w) + dp, holdersOf(w) + dh),
                                        std::memory_order_acq_rel)) {
    }
  }

  std::atomic<uint64_t> word_;
};

// The local sold-out flag of one sale: once the store has said "sold out",
// order attempts (and token requests) are answered here, with no store call,
// until a unit comes back. This is what keeps a sold-out sale off Redis.
//
// A unit can come back (a cancel) while a "sold out" answer is in flight; that
// answer must not set the flag over the newer news. So the flag carries an
// epoch that every clear() advances: a caller reads epoch() before asking the
// store, and setIfUnchanged(epoch) sets the flag only if nothing was returned
// in between. Lock-free.
class SoldOutFlag {
 public:
  bool isSet() const { return (word_.load(std::memory_order_acquire) & 1) != 0; }
  uint64_t epoch() const { return word_.load(std::memory_order_acquire) >> 1; }
  // Sets the flag iff no clear() happened since `epoch` was read. True iff
  // this call set it.
  bool setIfUnchanged(uint64_t epoch) {
    uint64_t expected = epoch << 1;
    return word_.compare_exchange_strong(expected, expected | 1, std::memory_order_acq_rel);
  }
  // Sets the flag whatever happened meanwhile (another node reported sold out).
  // True iff it was not set.
  bool set() { return (word_.fetch_or(1, std::memory_order_acq_rel) & 1) == 0; }
  // A unit came back: clears the flag and advances the epoch. True iff it was set.
  bool clear() {
    uint64_t w = word_.load(std::memory_order_acquire);
    while (!word_.compare_exchange_weak(w, ((w >> 1) + 1) << 1, std::memory_order_acq_rel)) {
    }
    return (w & 1) != 0;
  }

 private:
  std::atomic<uint64_t> word_{0};  // epoch << 1 | set
};

// The core's runtime state of one sale id. Created with the sale and kept for as long as the
// catalog lives (a sale is never removed, only closed), so a SaleRuntime* captured by an
// asynchronous completion stays valid whatever happens to the spec meanwhile.
struct SaleRuntime {
  explicit SaleRuntime(std::string sale_id) : id(std::move(sale_id)) {}
  const std::string id;
  std::unique_ptr<CounterGate> gate;  // only for kCounterGate; set at creation
  SoldOutFlag sold_out;
};

// A sale as served now: one immutable version of its spec and its runtime state.
struct Sale {
  SaleSpec spec;
  SaleRuntime* runtime = nullptr;
};

// The sales the engine serves, changeable under live traffic: sales are added and their specs
// replaced (stock, window) by the admin API or by another node's change, while request threads
// read without a lock. The catalog is an immutable snapshot (SnapshotCell) swapped whole on each
// change; a reader sees the old catalog or the new one.
//
// Thread-safety: every method is thread-safe; writers are serialized by a mutex.
class SaleCatalog {
 public:
  // Fails (naming the sale) on an invalid spec or a duplicate id.
  static absl::StatusOr<std::unique_ptr<SaleCatalog>> create(std::vector<SaleSpec> specs);
  SaleCatalog(const SaleCatalog&) = delete;
  SaleCatalog& operator=(const SaleCatalog&) = delete;

  // The sale, or nullptr. The pointer stays valid until this thread's next read of a
  // SaleCatalog (find, findShared); keep its `runtime` (always valid) for later.
  const Sale* find(std::string_view id) const;
  // The sale, or nullptr, kept alive by the pointer: for answers formed later.
  std::shared_ptr<const Sale> findShared(std::string_view id) const;
  // Every sale, in the order added.
  std::vector<std::shared_ptr<const Sale>> all() const;
  size_t size() const;

  // Adds a sale. InvalidArgument for an invalid spec, AlreadyExists for a known id.
  absl::StatusOr<std::shared_ptr<const Sale>> add(SaleSpec spec);
  // Replaces the spec of a known sale (NotFound otherwise). The strategy cannot change
  // (FailedPrecondition). A counter gate follows a change of `stock` by its difference.
  absl::StatusOr<std::shared_ptr<const Sale>> update(SaleSpec spec);

 private:
  struct Table {
    std::vector<std::shared_ptr<const Sale>> sales;
    // std::map: Debian's abseil trips UBSan on lookups in an empty flat_hash_map.
    std::map<std::string, std::shared_ptr<const Sale>, std::less<>> by_id;
  };
  SaleCatalog();
  // Publishes `sales` as the new table. Requires mu_.
  void publish(std::vector<std::shared_ptr<const Sale>> sales) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<SaleRuntime>> runtimes_ ABSL_GUARDED_BY(mu_);
  SnapshotCell<Table> cell_;
};

}  // namespace seckill
