#pragma once

#include <future>
#include <utility>

#include "absl/functional/any_invocable.h"

namespace seckill {

// Completion of an asynchronous store call. Called exactly once, possibly inline
// (the memory stores) or on another thread (a networked store, the FIFO consumer):
// the receiver must hop back to its own executor if it needs one.
template <typename T>
using Callback = absl::AnyInvocable<void(T) &&>;

// Runs an asynchronous call and blocks until its callback ran, wherever that happens: for
// callers on threads of their own (the admin API, start-up), never on a request or store
// thread, which the callback may need.
//   absl::StatusOr<StockLevel> level = awaitCall<absl::StatusOr<StockLevel>>(
//       [&](auto done) { store.stockLevel(id, std::move(done)); });
template <typename T, typename F>
T awaitCall(F&& start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  std::forward<F>(start)(Callback<T>([&promise](T value) { promise.set_value(std::move(value)); }));
  return future.get();
}

}  // namespace seckill
