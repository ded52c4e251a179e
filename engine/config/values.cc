#include "engine/config/values.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/core/strings.h"

namespace seckill::config {

absl::StatusOr<absl::Duration> parsePositiveDuration(std::string_view s) {
  constexpr std::string_view kExamples = "e.g. \"500ms\", \"30s\", \"15m\", \"1h\"";
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return absl::ascii_isdigit(c) || c == '.' || c == '+' || c == '-';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration \"", av(s), "\" needs a unit (", av(kExamples), ")"));
  }
  absl::Duration d;
  if (!absl::ParseDuration(av(s), &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", av(s), "\" is not a duration (", av(kExamples), ")"));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", av(s), "\" must be finite"));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", av(s), "\" must be > 0"));
  }
  return d;
}

absl::StatusOr<absl::Time> parseRfc3339(std::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::StripAsciiWhitespace(av(s)) != av(s) ||
      !absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err) ||
      t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", av(s), "\" is not an RFC 3339 time with offset (e.g. \"2026-11-28T10:00:00Z\")"));
  }
  return t;
}

}  // namespace seckill::config
