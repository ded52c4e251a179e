#pragma once

#include <future>
#include <utility>

#include "engine/core/callback.h"

namespace seckill::testing {

// Runs an asynchronous call and waits for its completion, wherever it happens
// (inline for the memory stores, on the FIFO consumer thread otherwise).
//   OrderReply r = await<OrderReply>([&](auto done) { svc.placeOrder(..., std::move(done)); });
template <typename T, typename F>
T await(F&& start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  std::forward<F>(start)(Callback<T>([&promise](T value) { promise.set_value(std::move(value)); }));
  return future.get();
}

}  // namespace seckill::testing
