#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace seckill {

// A unique id per SnapshotCell ever created (never reused, unlike an address).
uint64_t nextSnapshotCellId();

// Holds the current immutable snapshot of a T, published by writers and read on every request.
//
// The read scheme (read()): each thread keeps a small cache of (cell id, generation,
// shared_ptr) entries. A read loads the cell's atomic generation (one acquire load of a line
// that is only written on publish) and, if its cached entry has that generation, uses the
// cached snapshot: no lock, no reference-count traffic. Only the first read after a publish
// takes the cell's mutex to copy the new shared_ptr. Writers publish under the mutex and then
// bump the generation, so a reader sees either the snapshot it had or the new one — never a
// mix, since a snapshot is immutable.
//
// Consequences: a replaced snapshot stays alive until every thread that read it reads again
// (or exits); the reference read() returns stays valid until the calling thread's next read()
// of any SnapshotCell<T> (the cache is shared by cells of the same T and may recycle entries).
template <class T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::shared_ptr<const T> initial) : value_(std::move(initial)) {}
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Makes `next` the current snapshot. Thread-safe.
  void store(std::shared_ptr<const T> next) {
    {
      absl::MutexLock lock(&mu_);
      std::swap(value_, next);
      gen_.fetch_add(1, std::memory_order_release);
    }
    // `next` (the old snapshot) is released here, outside the lock.
  }

  // The current snapshot, by a locked copy. For non-hot paths.
  std::shared_ptr<const T> load() const {
    absl::MutexLock lock(&mu_);
    return value_;
  }

  // The current snapshot, lock-free unless it changed since this thread last looked.
  const T& read() const { return *entry().value; }

  // As read(), but shares ownership (one reference-count increment): the snapshot stays alive
  // as long as the returned pointer, for work that outlives the calling thread's next read().
  std::shared_ptr<const T> readShared() const { return entry().value; }

 private:
  static constexpr size_t kWays = 4;
  struct Entry {
    uint64_t cell = 0;
    uint64_t gen = 0;
    std::shared_ptr<const T> value;
  };
  struct ThreadCache {
    std::array<Entry, kWays> entries;
    size_t next = 0;
  };
  static ThreadCache& cache() {
    thread_local ThreadCache c;
    return c;
  }

  // This thread's cache entry for the cell, refreshed if the cell changed.
  Entry& entry() const {
    const uint64_t gen = gen_.load(std::memory_order_acquire);
    ThreadCache& c = cache();
    for (Entry& e : c.entries) {
      if (e.cell == id_) {
        if (e.gen != gen) refresh(e);
        return e;
      }
    }
    Entry& e = c.entries[c.next++ % kWays];
    e.cell = id_;
    refresh(e);
    return e;
  }

  void refresh(Entry& e) const {
    std::shared_ptr<const T> old;
    {
      absl::MutexLock lock(&mu_);
      old = std::exchange(e.value, value_);
      e.gen = gen_.load(std::memory_order_relaxed);  // consistent with value_ under mu_
    }
  }

  const uint64_t id_ = nextSnapshotCellId();
  alignas(64) std::atomic<uint64_t> gen_{1};
  mutable absl::Mutex mu_;
  std::shared_ptr<const T> value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill
