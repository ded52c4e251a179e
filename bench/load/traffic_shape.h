#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace seckill::load {

enum class ShapeKind : uint8_t {
  kSteady,  // steady:RATE
  kRamp,    // ramp:FROM:TO, linear over the run
  kSpike,   // spike:BASE:PEAK:AT:LEN
  kReplay,  // replay:FILE, one rate per second
  kMax,     // closed loop: as fast as the connections allow
};

// A parsed --shape. Rates are requests per second; times are seconds from the
// start of the run. For kReplay the caller reads `file` and fills `per_second`.
struct ShapeSpec {
  ShapeKind kind = ShapeKind::kSteady;
  double rate = 0;                 // kSteady
  double from = 0;                 // kRamp
  double to = 0;                   // kRamp
  double base = 0;                 // kSpike
  double peak = 0;                 // kSpike
  double at_s = 0;                 // kSpike: when the peak starts
  double len_s = 0;                // kSpike: how long it lasts
  std::string file;                // kReplay
  std::vector<double> per_second;  // kReplay: rate of second i

  // True for every shape but kMax: requests go out at scheduled times.
  bool openLoop() const { return kind != ShapeKind::kMax; }
};

// Parses "steady:RATE", "ramp:FROM:TO", "spike:BASE:PEAK:AT:LEN" (AT and LEN
// are durations: "5", "5s", "500ms"), "replay:FILE" or "max". InvalidArgument
// with the reason when the text is not one of them or a number is out of
// range (a steady rate <= 0, a negative rate, a zero-length spike, ...).
absl::StatusOr<ShapeSpec> parseShapeSpec(std::string_view text);

// Parses a rate file: one rate (requests/s, >= 0) per line for consecutive
// seconds; blank lines and lines starting with '#' are skipped, as is anything
// after a '#'. InvalidArgument naming the line on a bad rate, or when no line
// holds a rate or every rate is 0.
absl::StatusOr<std::vector<double>> parseRateFile(std::string_view text);

// A human description: "steady 100/s", "spike 50/s -> 500/s at 5s for 2s".
std::string describeShape(const ShapeSpec& shape);

// The open-loop schedule of a rate shape over [0, duration): arrival k
// (k = 0, 1, ...) is due when the expected number of arrivals, the integral
// of the rate from 0, first reaches k + 1/2. So steady:100 sends at 5 ms,
// 15 ms, ... and exactly 100 per second, and a ramp from 0 starts gently.
// Immutable and thread-safe once created.
class ArrivalSchedule {
 public:
  // InvalidArgument for kMax (no schedule), a duration <= 0, a spike that
  // starts at or after the end of the run, or more than 2^53 arrivals.
  static absl::StatusOr<ArrivalSchedule> create(const ShapeSpec& shape, double duration_s);

  double duration() const { return duration_s_; }

  // The intended rate at time t (requests/s); 0 outside [0, duration).
  double rateAt(double t) const;

  // The expected number of arrivals in [0, t], t clamped to [0, duration].
  double expectedBy(double t) const;

  // How many arrivals fall in [0, duration).
  int64_t totalArrivals() const { return total_; }

  // When arrival k is due, in seconds from the start; k < totalArrivals().
  double arrivalTime(int64_t k) const;

  // How many arrivals fall in [second, second + 1): the offered load of a second.
  int64_t arrivalsIn(int64_t second) const;

 private:
  ArrivalSchedule(ShapeSpec shape, double duration_s);

  // The number of arrivals due strictly before t.
  int64_t arrivalsBefore(double t) const;

  ShapeSpec shape_;
  double duration_s_;
  std::vector<double> prefix_;  // kReplay: prefix_[i] = sum of the rates of seconds < i
  int64_t total_ = 0;  // -1: too many to count (create() refuses the schedule)
};

}  // namespace seckill::load
