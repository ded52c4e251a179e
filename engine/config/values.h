#pragma once

// The value syntaxes of the config and rule files that are not TOML's own.

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace seckill::config {

// Parses a duration with units ("500ms", "30s", "15m", "1h", "1h30m") that is
// > 0 and finite; bare numbers are rejected as ambiguous.
absl::StatusOr<absl::Duration> parsePositiveDuration(std::string_view s);

// Parses an RFC 3339 time with an explicit offset: "2026-11-28T10:00:00Z",
// "2026-11-28T12:00:00+02:00".
absl::StatusOr<absl::Time> parseRfc3339(std::string_view s);

}  // namespace seckill::config
