#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace seckill::load {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view): the bridges for absl::StrCat, StrSplit and Status.
inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Parses a finite decimal number ("100", "2.5", "1e3"); the whole text must be
// the number. InvalidArgument naming `what` otherwise.
absl::StatusOr<double> parseNumber(std::string_view text, std::string_view what);

// Parses a duration in seconds: "10s", "250ms", "2m", "1h", "1.5s", or a bare
// number of seconds. InvalidArgument naming `what` on anything else or a
// negative value.
absl::StatusOr<double> parseDurationSeconds(std::string_view text, std::string_view what);

// Formats seconds the way parseDurationSeconds reads them back: "10s", "250ms".
std::string formatSeconds(double seconds);

}  // namespace seckill::load
