#include "bench/load/text_parse.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace seckill::load {

absl::StatusOr<double> parseNumber(std::string_view text, std::string_view what) {
  const std::string s(text);
  if (s.empty() || s.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(av(what), ": \"", av(text), "\" is not a number"));
  }
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  // strtod also reads "inf", "nan" and hex; only plain finite decimals are meant.
  if (end != s.c_str() + s.size() || !std::isfinite(v) ||
      s.find_first_of("xXnN") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(av(what), ": \"", av(text), "\" is not a number"));
  }
  return v;
}

absl::StatusOr<double> parseDurationSeconds(std::string_view text, std::string_view what) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  // "ms" before "s" and "m": the longest suffix that matches wins.
  static constexpr Unit kUnits[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}};
  std::string_view number = text;
  double scale = 1;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      number = text.substr(0, text.size() - u.suffix.size());
      scale = u.seconds;
      break;
    }
  }
  absl::StatusOr<double> v = parseNumber(number, what);
  if (!v.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        av(what), ": \"", av(text), "\" is not a duration (examples: 10s, 250ms, 2m, or seconds)"));
  }
  if (*v < 0) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), ": \"", av(text), "\" is negative"));
  }
  // "1e308h" is a finite number of hours but no finite number of seconds.
  if (!std::isfinite(*v * scale)) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), ": \"", av(text), "\" is too long"));
  }
  return *v * scale;
}

std::string formatSeconds(double seconds) {
  if (seconds != 0 && seconds < 1) return absl::StrFormat("%gms", seconds * 1000);
  return absl::StrFormat("%gs", seconds);
}

}  // namespace seckill::load
