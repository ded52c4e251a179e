#pragma once

#include "absl/functional/any_invocable.h"

namespace seckill {

// Completion of an asynchronous store call. Called exactly once, possibly inline
// (the memory stores) or on another thread (a networked store, the FIFO consumer):
// the receiver must hop back to its own executor if it needs one.
template <typename T>
using Callback = absl::AnyInvocable<void(T) &&>;

}  // namespace seckill
