#include "console/ctl/args.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace seckill::ctl {
namespace {

// Debian's abseil keeps its own string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr char kUsagePayload[] = "seckillctl.usage";

// Lower case, '-' as '_', surrounding blanks dropped.
std::string word(std::string_view text) {
  std::string w = absl::AsciiStrToLower(absl::StripAsciiWhitespace(av(text)));
  absl::StrReplaceAll({{"-", "_"}}, &w);
  return w;
}

absl::Status unknownWord(std::string_view what, std::string_view text, std::string_view choices) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ", av(what), " \"", av(text), "\" (", av(choices), ")"));
}

}  // namespace

absl::StatusOr<absl::Duration> parseDuration(std::string_view text) {
  absl::Duration d;
  const std::string t(absl::StripAsciiWhitespace(av(text)));
  if (t.empty() || !absl::ParseDuration(t, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a duration: \"", t, "\" (e.g. 200ms, 10s, 15m, 1h30m)"));
  }
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the duration must be finite and not negative: \"", t, "\""));
  }
  return d;
}

absl::StatusOr<absl::Time> parseRfc3339(std::string_view text) {
  absl::Time t;
  std::string err;
  const std::string s(absl::StripAsciiWhitespace(av(text)));
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time: \"", s, "\" (e.g. 2024-05-01T12:00:00Z)"));
  }
  return t;
}

absl::StatusOr<absl::Time> parseInstant(std::string_view text, absl::Time now) {
  absl::Duration d;
  const std::string s(absl::StripAsciiWhitespace(av(text)));
  if (absl::ParseDuration(s, &d)) {
    if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the duration must be finite and not negative: \"", s, "\""));
    }
    return now - d;
  }
  absl::StatusOr<absl::Time> t = parseRfc3339(s);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a time: \"", s,
                     "\" (a duration before now, e.g. 10m, or RFC 3339, e.g. "
                     "2024-05-01T12:00:00Z)"));
  }
  return t;
}

absl::StatusOr<StockChange> parseStockChange(std::string_view text) {
  const std::string s(absl::StripAsciiWhitespace(av(text)));
  StockChange change;
  absl::string_view digits = s;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    change.delta = true;
    digits.remove_prefix(1);
  }
  const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  int64_t n = 0;
  if (!all_digits || !absl::SimpleAtoi(digits, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a stock: \"", s, "\" (N sets the total; +N or -N moves it by N)"));
  }
  change.value = (!s.empty() && s[0] == '-') ? -n : n;
  return change;
}

absl::StatusOr<v1::OverrideMode> parseOverrideMode(std::string_view text) {
  const std::string w = word(text);
  if (w == "dry_run") return v1::DRY_RUN;
  if (w == "shed") return v1::SHED;
  if (w == "none") return v1::NONE;
  return unknownWord("override mode", text, "dry_run, shed, none");
}

absl::StatusOr<v1::OnLimit> parseOnLimit(std::string_view text) {
  const std::string w = word(text);
  if (w == "reject") return v1::REJECT;
  if (w == "queue") return v1::QUEUE;
  if (w == "log") return v1::LOG;
  return unknownWord("rule mode", text, "reject, queue, log");
}

absl::StatusOr<v1::BreakerMode> parseBreakerMode(std::string_view text) {
  const std::string w = word(text);
  if (w == "automatic") return v1::AUTOMATIC;
  if (w == "forced_open") return v1::MODE_FORCED_OPEN;
  if (w == "disabled") return v1::MODE_DISABLED;
  if (w == "metrics_only") return v1::MODE_METRICS_ONLY;
  return unknownWord("breaker mode", text, "automatic, forced_open, disabled, metrics_only");
}

absl::StatusOr<v1::StockStrategy> parseStrategy(std::string_view text) {
  const std::string w = word(text);
  if (w == "atomic") return v1::ATOMIC;
  if (w == "fifo") return v1::FIFO;
  if (w == "optimistic") return v1::OPTIMISTIC;
  if (w == "counter_gate") return v1::COUNTER_GATE;
  return unknownWord("stock strategy", text, "atomic, fifo, optimistic, counter_gate");
}

absl::Status usageError(std::string_view message) {
  absl::Status s = absl::InvalidArgumentError(av(message));
  s.SetPayload(kUsagePayload, absl::Cord("1"));
  return s;
}

bool isUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

int exitCode(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (isUsageError(status)) return kExitUsage;
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitDenied;
    case absl::StatusCode::kAborted:
      return kExitConflict;
    default:
      return kExitFailed;
  }
}

std::string errorLine(const absl::Status& status) {
  if (isUsageError(status)) return absl::StrCat("seckillctl: ", status.message());
  return absl::StrCat("seckillctl: ", absl::StatusCodeToString(status.code()), ": ",
                      status.message());
}

}  // namespace seckill::ctl
