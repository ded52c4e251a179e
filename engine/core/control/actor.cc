#include "engine/core/control/actor.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::control {

absl::Status staleVersion(uint64_t expected, uint64_t current) {
  absl::Status s = absl::AbortedError(absl::StrCat(
      "rule set version ", expected, " is stale: the current version is ", current,
      " (reload it, then apply your change again)"));
  s.SetPayload(av(kCurrentVersionPayload), absl::Cord(absl::StrCat(current)));
  return s;
}

std::optional<uint64_t> currentVersionOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(av(kCurrentVersionPayload));
  uint64_t v = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &v)) return std::nullopt;
  return v;
}

}  // namespace seckill::control
