#include "bench/load/traffic_shape.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/load/text_parse.h"

namespace seckill::load {
namespace {

constexpr std::string_view kShapeHelp =
    "steady:RATE, ramp:FROM:TO, spike:BASE:PEAK:AT:LEN, replay:FILE or max";

absl::Status badShape(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--shape \"", av(text), "\": ", av(why)));
}

// A rate field: a number >= 0 (> 0 when `positive`).
absl::StatusOr<double> rateField(std::string_view shape_text, std::string_view field,
                                 std::string_view name, bool positive) {
  absl::StatusOr<double> v = parseNumber(field, name);
  if (!v.ok()) return badShape(shape_text, sv(v.status().message()));
  if (positive ? *v <= 0 : *v < 0) {
    return badShape(shape_text, absl::StrCat(av(name), " must be ", positive ? "> 0" : ">= 0",
                                             ", not ", av(field)));
  }
  return *v;
}

absl::StatusOr<double> timeField(std::string_view shape_text, std::string_view field,
                                 std::string_view name) {
  absl::StatusOr<double> v = parseDurationSeconds(field, name);
  if (!v.ok()) return badShape(shape_text, sv(v.status().message()));
  return *v;
}

std::string rateText(double r) { return absl::StrFormat("%g/s", r); }

}  // namespace

absl::StatusOr<ShapeSpec> parseShapeSpec(std::string_view text) {
  std::vector<std::string_view> f;
  for (absl::string_view piece : absl::StrSplit(av(text), ':')) f.push_back(sv(piece));
  const std::string_view kind = f[0];
  ShapeSpec s;
  auto wantFields = [&](size_t n, std::string_view form) -> absl::Status {
    if (f.size() == n) return absl::OkStatus();
    return badShape(text, absl::StrCat("expected ", av(form)));
  };

  if (kind == "max") {
    if (f.size() != 1) return badShape(text, "\"max\" takes no parameters");
    s.kind = ShapeKind::kMax;
    return s;
  }
  if (kind == "steady") {
    if (absl::Status st = wantFields(2, "steady:RATE"); !st.ok()) return st;
    s.kind = ShapeKind::kSteady;
    absl::StatusOr<double> rate = rateField(text, f[1], "RATE", /*positive=*/true);
    if (!rate.ok()) return rate.status();
    s.rate = *rate;
    return s;
  }
  if (kind == "ramp") {
    if (absl::Status st = wantFields(3, "ramp:FROM:TO"); !st.ok()) return st;
    s.kind = ShapeKind::kRamp;
    absl::StatusOr<double> from = rateField(text, f[1], "FROM", false);
    if (!from.ok()) return from.status();
    absl::StatusOr<double> to = rateField(text, f[2], "TO", false);
    if (!to.ok()) return to.status();
    if (*from == 0 && *to == 0) return badShape(text, "FROM and TO cannot both be 0");
    s.from = *from;
    s.to = *to;
    return s;
  }
  if (kind == "spike") {
    if (absl::Status st = wantFields(5, "spike:BASE:PEAK:AT:LEN"); !st.ok()) return st;
    s.kind = ShapeKind::kSpike;
    absl::StatusOr<double> base = rateField(text, f[1], "BASE", false);
    if (!base.ok()) return base.status();
    absl::StatusOr<double> peak = rateField(text, f[2], "PEAK", true);
    if (!peak.ok()) return peak.status();
    absl::StatusOr<double> at = timeField(text, f[3], "AT");
    if (!at.ok()) return at.status();
    absl::StatusOr<double> len = timeField(text, f[4], "LEN");
    if (!len.ok()) return len.status();
    if (*len <= 0) return badShape(text, "LEN must be > 0");
    s.base = *base;
    s.peak = *peak;
    s.at_s = *at;
    s.len_s = *len;
    return s;
  }
  if (kind == "replay") {
    // The file name may itself hold ':'; everything after "replay:" is the name.
    std::string_view file = text.substr(std::min(text.size(), kind.size() + 1));
    if (f.size() < 2 || file.empty()) return badShape(text, "expected replay:FILE");
    s.kind = ShapeKind::kReplay;
    s.file = std::string(file);
    return s;
  }
  return badShape(text,
                  absl::StrCat("unknown shape \"", av(kind), "\" (use ", av(kShapeHelp), ")"));
}

absl::StatusOr<std::vector<double>> parseRateFile(std::string_view text) {
  std::vector<double> rates;
  int line_no = 0;
  bool any_positive = false;
  for (absl::string_view piece : absl::StrSplit(av(text), '\n')) {
    std::string_view line = sv(piece);
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = sv(absl::StripAsciiWhitespace(av(line)));
    if (line.empty()) continue;
    absl::StatusOr<double> v = parseNumber(line, "rate");
    if (!v.ok() || *v < 0) {
      return absl::InvalidArgumentError(absl::StrCat("rate file line ", line_no, ": \"", av(line),
                                                     "\" is not a rate (a number >= 0)"));
    }
    any_positive = any_positive || *v > 0;
    rates.push_back(*v);
  }
  if (rates.empty()) return absl::InvalidArgumentError("rate file holds no rates");
  if (!any_positive) return absl::InvalidArgumentError("rate file: every rate is 0");
  return rates;
}

std::string describeShape(const ShapeSpec& s) {
  switch (s.kind) {
    case ShapeKind::kSteady:
      return absl::StrCat("steady ", rateText(s.rate));
    case ShapeKind::kRamp:
      return absl::StrCat("ramp ", rateText(s.from), " -> ", rateText(s.to));
    case ShapeKind::kSpike:
      return absl::StrCat("spike ", rateText(s.base), " -> ", rateText(s.peak), " at ",
                          formatSeconds(s.at_s), " for ", formatSeconds(s.len_s));
    case ShapeKind::kReplay:
      return absl::StrCat("replay ", s.file, " (", s.per_second.size(), " s)");
    case ShapeKind::kMax:
      return "max (closed loop)";
  }
  return "?";
}

absl::StatusOr<ArrivalSchedule> ArrivalSchedule::create(const ShapeSpec& shape, double duration_s) {
  if (!shape.openLoop()) {
    return absl::InvalidArgumentError("shape \"max\" is closed-loop: it has no schedule");
  }
  if (!(duration_s > 0) || !std::isfinite(duration_s)) {
    return absl::InvalidArgumentError("the duration must be > 0");
  }
  if (shape.kind == ShapeKind::kSpike && shape.at_s >= duration_s) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape spike starts at ", formatSeconds(shape.at_s),
                     ", at or after the end of the run (", formatSeconds(duration_s), ")"));
  }
  if (shape.kind == ShapeKind::kReplay && shape.per_second.empty()) {
    return absl::InvalidArgumentError("replay shape without rates");
  }
  ArrivalSchedule schedule(shape, duration_s);
  if (schedule.total_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shape ", describeShape(shape), " over ", formatSeconds(duration_s),
        " asks for more requests than a run can count; lower the rates or the duration"));
  }
  return schedule;
}

ArrivalSchedule::ArrivalSchedule(ShapeSpec shape, double duration_s)
    : shape_(std::move(shape)), duration_s_(duration_s) {
  if (shape_.kind == ShapeKind::kReplay) {
    prefix_.resize(shape_.per_second.size() + 1, 0);
    for (size_t i = 0; i < shape_.per_second.size(); ++i) {
      prefix_[i + 1] = prefix_[i] + shape_.per_second[i];
    }
  }
  // Counted in an int64 (and each arrival time found by bisection on doubles): beyond 2^53
  // expected arrivals, or with rates that sum to infinity, there is no schedule (-1).
  const double expected = expectedBy(duration_s_);
  total_ = expected < 0x1p53 ? arrivalsBefore(duration_s_) : -1;
}

double ArrivalSchedule::rateAt(double t) const {
  if (t < 0 || t >= duration_s_) return 0;
  switch (shape_.kind) {
    case ShapeKind::kSteady:
      return shape_.rate;
    case ShapeKind::kRamp:
      return shape_.from + (shape_.to - shape_.from) * t / duration_s_;
    case ShapeKind::kSpike:
      return t >= shape_.at_s && t < shape_.at_s + shape_.len_s ? shape_.peak : shape_.base;
    case ShapeKind::kReplay: {
      const auto s = static_cast<size_t>(t);
      return s < shape_.per_second.size() ? shape_.per_second[s] : 0;
    }
    case ShapeKind::kMax:
      return 0;
  }
  return 0;
}

double ArrivalSchedule::expectedBy(double t) const {
  t = std::clamp(t, 0.0, duration_s_);
  switch (shape_.kind) {
    case ShapeKind::kSteady:
      return shape_.rate * t;
    case ShapeKind::kRamp:
      return shape_.from * t + (shape_.to - shape_.from) * t * t / (2 * duration_s_);
    case ShapeKind::kSpike: {
      const double overlap =
          std::max(0.0, std::min(t, shape_.at_s + shape_.len_s) - std::min(t, shape_.at_s));
      return shape_.base * t + (shape_.peak - shape_.base) * overlap;
    }
    case ShapeKind::kReplay: {
      const size_t n = shape_.per_second.size();
      const double whole = std::floor(t);
      const auto s = static_cast<size_t>(whole);
      if (s >= n) return prefix_[n];
      return prefix_[s] + shape_.per_second[s] * (t - whole);
    }
    case ShapeKind::kMax:
      return 0;
  }
  return 0;
}

int64_t ArrivalSchedule::arrivalsBefore(double t) const {
  // Arrival k is due before t iff k + 1/2 < expectedBy(t).
  const double e = expectedBy(t);
  if (e <= 0.5) return 0;
  return static_cast<int64_t>(std::ceil(e - 0.5));
}

double ArrivalSchedule::arrivalTime(int64_t k) const {
  const double target = static_cast<double>(k) + 0.5;
  // The smallest t with expectedBy(t) >= target; expectedBy is continuous and
  // non-decreasing, so bisection converges to it.
  double lo = 0;
  double hi = duration_s_;
  for (int i = 0; i < 64 && lo < hi; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (expectedBy(mid) >= target) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

int64_t ArrivalSchedule::arrivalsIn(int64_t second) const {
  const auto s = static_cast<double>(second);
  return arrivalsBefore(s + 1) - arrivalsBefore(s);
}

}  // namespace seckill::load
