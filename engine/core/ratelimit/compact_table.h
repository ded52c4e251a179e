#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace seckill::ratelimit {

// An open-addressing (linear probing) map from a non-zero 64-bit key hash to a small State,
// stored inline: one slot is 8 bytes of key + sizeof(State). Written for KeyedLimiters rather
// than using absl::flat_hash_map because eviction must walk the table a few slots at a time
// (a resumable cursor) without stalling a request, and flat_hash_map has no stable position.
// Deletion is backward-shift, so there are no tombstones. Grows at 3/4 load; shrinkToFit()
// gives memory back. Not thread-safe.
template <class State>
class CompactTable {
 public:
  CompactTable() = default;
  CompactTable(const CompactTable&) = delete;
  CompactTable& operator=(const CompactTable&) = delete;

  size_t size() const { return size_; }
  size_t capacity() const { return slots_ ? mask_ + 1 : 0; }

  // The state of `key` (key != 0), or nullptr.
  State* find(uint64_t key) {
    if (!slots_) return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].state;
      if (slots_[i].key == 0) return nullptr;
    }
  }

  // Inserts `key` (absent, != 0) with a default State and returns it.
  State* insert(uint64_t key) {
    if (!slots_ || (size_ + 1) * 4 > capacity() * 3) grow();
    size_t i = home(key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i].key = key;
    ++size_;
    return &slots_[i].state;
  }

  // Gives memory back after a flood: rehashes into a smaller table when at most 1/8 full.
  void shrinkToFit() {
    if (!slots_ || capacity() <= kMinCapacity || size_ * 8 > capacity()) return;
    size_t cap = kMinCapacity;
    while (cap < size_ * 2) cap *= 2;
    rehash(cap);
  }

  // Advances the resumable cursor over up to `n` slots, erasing each entry for which
  // drop(state) is true; n >= capacity() is a full pass. Returns how many were erased.
  template <class Pred>
  size_t sweep(size_t n, Pred&& drop) {
    if (!slots_) return 0;
    size_t erased = 0;
    n = n < capacity() ? n : capacity();
    for (size_t advanced = 0; advanced < n;) {
      const size_t i = cursor_;
      if (slots_[i].key != 0 && drop(slots_[i].state)) {
        // Backward shift may move a later entry into i: look at i again. Each erase shrinks
        // the table, so this terminates.
        eraseAt(i);
        ++erased;
      } else {
        cursor_ = (cursor_ + 1) & mask_;
        ++advanced;
      }
    }
    return erased;
  }

 private:
  static constexpr size_t kMinCapacity = 16;

  struct Slot {
    uint64_t key = 0;  // 0 = empty
    State state{};
  };

  size_t home(uint64_t key) const {
    // Fibonacci hashing: the table index comes from the high bits of the product, so the
    // caller's low/high bits (used for shard choice) do not correlate with the slot.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void grow() { rehash(slots_ ? capacity() * 2 : kMinCapacity); }

  void rehash(size_t cap) {
    const size_t old_cap = capacity();
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_.reset(new Slot[cap]);
    mask_ = cap - 1;
    shift_ = 64 - log2(cap);
    cursor_ = 0;
    for (size_t i = 0; old && i < old_cap; ++i) {
      if (old[i].key == 0) continue;
      size_t j = home(old[i].key);
      while (slots_[j].key != 0) j = (j + 1) & mask_;
      slots_[j].key = old[i].key;
      slots_[j].state = std::move(old[i].state);
    }
  }

  // Backward-shift deletion for linear probing.
  void eraseAt(size_t i) {
    size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (slots_[j].key == 0) break;
      size_t h = home(slots_[j].key);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      bool stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i].key = slots_[j].key;
      slots_[i].state = std::move(slots_[j].state);
      i = j;
    }
    slots_[i].key = 0;
    slots_[i].state = State{};
    --size_;
  }

  static int log2(size_t v) {
    int r = 0;
    while ((size_t{1} << r) < v) ++r;
    return r;
  }

  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
  size_t cursor_ = 0;
};

}  // namespace seckill::ratelimit
