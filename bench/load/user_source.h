#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "bench/load/options.h"

namespace seckill::load {

// A run prefix for user ids that no other run shares: "ld", the time in
// seconds (7 base-36 digits), 40 random bits (8 digits): 17 chars of [a-z0-9].
std::string makeRunPrefix(uint64_t unix_seconds, uint64_t random_bits);

// The user ids one worker sends as X-User-Id. Not thread-safe: one per worker.
//  - fresh: "<prefix>-<worker>-<n>", n = 0, 1, ... (unique across workers and,
//    through the prefix, across runs);
//  - pool:N: "<prefix>-p<i>" with i uniform in [0, N), the same pool for
//    every worker of the run, drawn from a generator seeded with `seed`.
class UserSource {
 public:
  UserSource(const UserSpec& spec, std::string prefix, int worker, uint64_t seed);

  std::string next();

 private:
  UserSpec spec_;
  std::string prefix_;
  int worker_;
  uint64_t counter_ = 0;
  std::mt19937_64 rng_;
};

// Decides which created orders to pay so that, at every point, the number
// paid is floor(fraction * created): spread evenly, deterministic.
class PayDecider {
 public:
  explicit PayDecider(double fraction) : fraction_(fraction) {}

  // Called once per created order; true: pay this one.
  bool payNext();

 private:
  double fraction_;
  int64_t created_ = 0;
  int64_t paid_ = 0;
};

}  // namespace seckill::load
