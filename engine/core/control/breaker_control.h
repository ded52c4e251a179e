#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/clock.h"
#include "engine/core/control/actor.h"
#include "engine/core/control/control_store.h"
#include "engine/core/ratelimit/circuit_breaker.h"

namespace seckill::control {

// The one path by which a circuit breaker's operator mode changes: persisted with its audit
// entry, then set on the breaker; other nodes sharing the state follow (follow()).
//
// Precedence: the config file's [breaker] mode applies at start unless the state holds a mode
// set through the API while the file said the same as now; a file edited since wins (and
// Notify says so).
//
// Thread-safety: thread-safe; calls block on the store.
class BreakerControl {
 public:
  // `breakers` must outlive this.
  BreakerControl(const Clock& clock, ControlStore& store,
                 std::vector<ratelimit::CircuitBreaker*> breakers, std::string node,
                 Notify notify = {});

  // Sets each breaker's mode at start: the state's or the file's (see above).
  absl::Status start(ratelimit::CircuitBreaker::Mode file_mode);
  // NotFound for an unknown breaker; InvalidArgument for a mode out of range.
  absl::StatusOr<ratelimit::CircuitBreaker*> setMode(std::string_view name,
                                                     ratelimit::CircuitBreaker::Mode mode,
                                                     const Actor& actor,
                                                     const std::string& comment);
  // Applies the modes another node set.
  absl::Status follow();

  const std::vector<ratelimit::CircuitBreaker*>& breakers() const { return breakers_; }
  ratelimit::CircuitBreaker* find(std::string_view name) const;

 private:
  const Clock& clock_;
  ControlStore& store_;
  const std::vector<ratelimit::CircuitBreaker*> breakers_;
  const std::string node_;
  const Notify notify_;
  absl::Mutex mu_;
  ratelimit::CircuitBreaker::Mode file_mode_ ABSL_GUARDED_BY(mu_) =
      ratelimit::CircuitBreaker::Mode::kNormal;
};

}  // namespace seckill::control
