#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/snapshot_cell.h"

namespace seckill {

// Objects named by a string id that are added at run time and never removed while the map
// lives: a sale's slot in a store, say. find() takes no lock (a SnapshotCell read), so the
// request path can look an id up while an admin call adds another; a T* handed out stays valid
// as long as the map. add() is serialized by a mutex and copies the (small) index.
template <class T>
class AppendOnlyMap {
 public:
  AppendOnlyMap() : cell_(std::make_shared<const Index>()) {}
  AppendOnlyMap(const AppendOnlyMap&) = delete;
  AppendOnlyMap& operator=(const AppendOnlyMap&) = delete;

  // The object named `id`, or nullptr. Lock-free unless the map changed since this thread's
  // last look.
  T* find(std::string_view id) const {
    const Index& index = cell_.read();
    auto it = index.by_id.find(id);
    return it == index.by_id.end() ? nullptr : it->second;
  }

  // Adds `value` under `id`. Returns it and true; or, if `id` is taken, the existing object
  // and false (`value` is dropped).
  std::pair<T*, bool> add(std::string id, std::unique_ptr<T> value) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<const Index> cur = cell_.load();
    if (auto it = cur->by_id.find(id); it != cur->by_id.end()) return {it->second, false};
    T* raw = value.get();
    owned_.push_back(std::move(value));
    auto next = std::make_shared<Index>(*cur);
    next->by_id.emplace(std::move(id), raw);
    next->order.push_back(raw);
    cell_.store(std::move(next));
    return {raw, true};
  }

  // Every object, in the order added.
  std::vector<T*> all() const { return cell_.load()->order; }
  size_t size() const { return cell_.load()->order.size(); }

 private:
  struct Index {
    // std::map: Debian's abseil trips UBSan on lookups in an empty flat_hash_map.
    std::map<std::string, T*, std::less<>> by_id;
    std::vector<T*> order;
  };

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<T>> owned_ ABSL_GUARDED_BY(mu_);
  SnapshotCell<Index> cell_;
};

}  // namespace seckill
