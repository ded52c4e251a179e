#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/core/strings.h"
#include "engine/core/sale.h"

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

// A served sale: its spec and the core's per-sale runtime state.
struct Sale {
  SaleSpec spec;
  std::unique_ptr<CounterGate> gate;  // only for kCounterGate
  SoldOutFlag sold_out;
};

// The sales the engine serves. Built once before serving and immutable after,
// so lookups take no lock.
class SaleCatalog {
 public:
  // Fails (naming the sale) on an invalid spec or a duplicate id.
  static absl::StatusOr<std::unique_ptr<SaleCatalog>> create(std::vector<SaleSpec> specs);

  // nullptr when unknown.
  Sale* find(std::string_view id) const;
  const std::vector<std::unique_ptr<Sale>>& all() const { return sales_; }

 private:
  SaleCatalog() = default;
  std::vector<std::unique_ptr<Sale>> sales_;
  absl::flat_hash_map<std::string, Sale*> by_id_;
};

}  // namespace seckill
