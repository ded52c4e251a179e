#pragma once

// The HTTP fields of a verdict, as every edge sends them: Retry-After and the IETF httpapi
// RateLimit-Policy / RateLimit values (docs/architecture.md §8). Formatting only: no I/O.

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "engine/core/ratelimit/rate_limiter.h"

namespace seckill::ratelimit {

// Whole seconds for Retry-After and the RateLimit fields: `d` rounded up, at least 1.
int64_t ceilSeconds(absl::Duration d);

// RateLimit-Policy: `"<rule>";q=<limit>;w=<window s>`; "" when the verdict has no quota.
// The rule name is a structured-field string (RFC 8941): " and \ escaped, any byte outside
// printable ASCII written as '?'.
std::string rateLimitPolicyField(const Verdict& v);

// RateLimit: `"<rule>";r=<remaining>;t=<reset s>`; "" when the verdict has no quota.
std::string rateLimitField(const Verdict& v);

// The same, appended to `out` (nothing when the verdict has no quota): an edge that keeps its
// header buffers between requests formats them without allocating.
void appendRateLimitPolicyField(std::string& out, const Verdict& v);
void appendRateLimitField(std::string& out, const Verdict& v);

}  // namespace seckill::ratelimit
