#include "bench/load/user_source.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace seckill::load {
namespace {

// The `width` low base-36 digits of v, zero-padded.
std::string base36(uint64_t v, int width) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i, v /= 36) out[static_cast<size_t>(i)] = kDigits[v % 36];
  return out;
}

}  // namespace

std::string makeRunPrefix(uint64_t unix_seconds, uint64_t random_bits) {
  // 7 digits of seconds repeat every ~2500 years; 8 digits hold 40 random bits.
  return absl::StrCat("ld", base36(unix_seconds, 7),
                      base36(random_bits & ((uint64_t{1} << 40) - 1), 8));
}

UserSource::UserSource(const UserSpec& spec, std::string prefix, int worker, uint64_t seed)
    : spec_(spec),
      prefix_(std::move(prefix)),
      worker_(worker),
      rng_(seed + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(worker + 1)) {}

std::string UserSource::next() {
  if (spec_.mode == UserMode::kFresh) return absl::StrCat(prefix_, "-", worker_, "-", counter_++);
  std::uniform_int_distribution<int64_t> pick(0, spec_.pool_size - 1);
  return absl::StrCat(prefix_, "-p", pick(rng_));
}

bool PayDecider::payNext() {
  ++created_;
  const auto due = static_cast<int64_t>(std::floor(fraction_ * static_cast<double>(created_)));
  if (paid_ >= due) return false;
  ++paid_;
  return true;
}

}  // namespace seckill::load
