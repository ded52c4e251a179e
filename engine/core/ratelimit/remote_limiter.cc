#include "engine/core/ratelimit/remote_limiter.h"

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {

absl::StatusOr<FailurePolicy> parseFailurePolicy(std::string_view name) {
  if (name == "open") return FailurePolicy::kOpen;
  if (name == "closed") return FailurePolicy::kClosed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown distributed_failure \"", av(name), "\" (open | closed)"));
}

std::string_view failurePolicyName(FailurePolicy p) {
  switch (p) {
    case FailurePolicy::kOpen: return "open";
    case FailurePolicy::kClosed: return "closed";
  }
  return "?";
}

}  // namespace seckill::ratelimit
