#pragma once

#include <utility>

#include "engine/core/callback.h"

namespace seckill::testing {

// Runs an asynchronous call and waits for its completion, wherever it happens
// (inline for the memory stores, on the FIFO consumer thread otherwise).
//   OrderReply r = await<OrderReply>([&](auto done) { svc.placeOrder(..., std::move(done)); });
template <typename T, typename F>
T await(F&& start) {
  return awaitCall<T>(std::forward<F>(start));
}

}  // namespace seckill::testing
