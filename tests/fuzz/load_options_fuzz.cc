// load_options_fuzz: seckill-load's command line, shapes and rate files (bench/load/options.h,
// traffic_shape.h, text_parse.h).
//
// The input is "ARG\0ARG\0...\0\0RATE FILE": the arguments of a command line and, after an
// empty argument, what any file it names holds (without "\0\0" the whole input is both).
// Each argument is also read alone as a shape, a number, a duration, a user spec and a URL,
// and the file as a rate file.
//
// Invariants:
// - an accepted shape is valid: rates finite and >= 0 (steady and spike peaks > 0), spike
//   times finite with LEN > 0; its schedule over a valid duration is finite and ordered;
// - an accepted rate file has a rate per second, each finite and >= 0, at least one > 0;
// - numbers are finite, durations finite and >= 0, and formatSeconds reads back;
// - parseCommandLine runs with options that hold (durations > 0 and finite, rates as above,
//   threads and connections in range, a usable URL), or refuses with a message;
// - never a crash, undefined behaviour (a float -> int overflow included) or a leak.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/load/options.h"
#include "bench/load/text_parse.h"
#include "bench/load/traffic_shape.h"
#include "tests/fuzz/fuzz_check.h"

namespace seckill::fuzz {
namespace {

using load::ShapeKind;
using load::ShapeSpec;

bool finiteAtLeast(double v, double min) { return std::isfinite(v) && v >= min; }

void checkRefused(const absl::Status& s) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  FUZZ_CHECK(!s.message().empty(), "a refusal without a message");
}

void checkSchedule(const ShapeSpec& shape, double duration_s) {
  absl::StatusOr<load::ArrivalSchedule> s = load::ArrivalSchedule::create(shape, duration_s);
  if (!s.ok()) return checkRefused(s.status());
  const int64_t total = s->totalArrivals();
  FUZZ_CHECK(total >= 0, absl::StrCat("total ", total));
  double previous = 0;
  for (int64_t k = 0; k < std::min<int64_t>(total, 4); ++k) {
    const double t = s->arrivalTime(k);
    FUZZ_CHECK(std::isfinite(t) && t >= previous && t <= duration_s,
               absl::StrCat("arrival ", k, " at ", t, " of ", duration_s));
    previous = t;
  }
  if (total > 0) {
    const double last = s->arrivalTime(total - 1);
    FUZZ_CHECK(std::isfinite(last) && last <= duration_s, absl::StrCat("last arrival at ", last));
  }
  for (int64_t second = 0; second < 3; ++second) {
    FUZZ_CHECK(s->arrivalsIn(second) >= 0, "negative arrivals in a second");
    FUZZ_CHECK(std::isfinite(s->rateAt(static_cast<double>(second))), "rate not finite");
  }
}

void checkShape(const ShapeSpec& s) {
  switch (s.kind) {
    case ShapeKind::kSteady:
      FUZZ_CHECK(finiteAtLeast(s.rate, 0) && s.rate > 0, absl::StrCat("steady ", s.rate));
      break;
    case ShapeKind::kRamp:
      FUZZ_CHECK(finiteAtLeast(s.from, 0) && finiteAtLeast(s.to, 0) && (s.from > 0 || s.to > 0),
                 absl::StrCat("ramp ", s.from, " ", s.to));
      break;
    case ShapeKind::kSpike:
      FUZZ_CHECK(finiteAtLeast(s.base, 0) && finiteAtLeast(s.peak, 0) && s.peak > 0,
                 absl::StrCat("spike ", s.base, " ", s.peak));
      FUZZ_CHECK(finiteAtLeast(s.at_s, 0) && finiteAtLeast(s.len_s, 0) && s.len_s > 0,
                 absl::StrCat("spike at ", s.at_s, " for ", s.len_s));
      break;
    case ShapeKind::kReplay:
      FUZZ_CHECK(!s.file.empty(), "replay without a file");
      for (double r : s.per_second) FUZZ_CHECK(finiteAtLeast(r, 0), absl::StrCat("rate ", r));
      break;
    case ShapeKind::kMax:
      break;
  }
  (void)load::describeShape(s);
}

void fuzzShape(std::string_view text, std::string_view file) {
  absl::StatusOr<ShapeSpec> shape = load::parseShapeSpec(text);
  if (!shape.ok()) return checkRefused(shape.status());
  checkShape(*shape);
  if (shape->kind == ShapeKind::kMax) return;
  if (shape->kind == ShapeKind::kReplay) {
    absl::StatusOr<std::vector<double>> rates = load::parseRateFile(file);
    if (!rates.ok()) return;
    shape->per_second = *std::move(rates);
  }
  for (double d : {0.5, 10.0, 86400.0}) checkSchedule(*shape, d);
}

void fuzzRateFile(std::string_view text) {
  absl::StatusOr<std::vector<double>> rates = load::parseRateFile(text);
  if (!rates.ok()) return checkRefused(rates.status());
  FUZZ_CHECK(!rates->empty(), "an accepted rate file without rates");
  bool positive = false;
  for (double r : *rates) {
    FUZZ_CHECK(finiteAtLeast(r, 0), absl::StrCat("rate ", r));
    positive = positive || r > 0;
  }
  FUZZ_CHECK(positive, "an accepted rate file of zeros");
  ShapeSpec shape;
  shape.kind = ShapeKind::kReplay;
  shape.file = "rates.txt";
  shape.per_second = *rates;
  checkSchedule(shape, static_cast<double>(rates->size()));
}

void fuzzScalars(std::string_view arg) {
  if (absl::StatusOr<double> n = load::parseNumber(arg, "n"); n.ok()) {
    FUZZ_CHECK(std::isfinite(*n), absl::StrCat("number ", *n));
  } else {
    checkRefused(n.status());
  }
  if (absl::StatusOr<double> d = load::parseDurationSeconds(arg, "d"); d.ok()) {
    FUZZ_CHECK(finiteAtLeast(*d, 0), absl::StrCat("duration ", *d, " from ", load::av(arg)));
    const std::string text = load::formatSeconds(*d);
    absl::StatusOr<double> back = load::parseDurationSeconds(text, "d");
    FUZZ_CHECK(back.ok(), absl::StrCat("formatSeconds wrote ", text));
    FUZZ_CHECK(std::fabs(*back - *d) <= 1e-5 * std::max(1.0, *d),
               absl::StrCat(*d, " -> ", text, " -> ", *back));
  } else {
    checkRefused(d.status());
  }
  if (absl::StatusOr<load::UserSpec> u = load::parseUserSpec(arg); u.ok()) {
    FUZZ_CHECK(u->mode == load::UserMode::kFresh || u->pool_size >= 1,
               absl::StrCat("pool ", u->pool_size));
  }
  if (absl::StatusOr<load::TargetUrl> url = load::parseTargetUrl(arg); url.ok()) {
    FUZZ_CHECK(!url->host.empty() && url->port >= 1, absl::StrCat(url->host, ":", url->port));
    absl::StatusOr<load::TargetUrl> back = load::parseTargetUrl(url->text());
    FUZZ_CHECK(back.ok() && back->host == url->host && back->port == url->port, url->text());
  }
}

void checkOptions(const load::LoadOptions& o) {
  FUZZ_CHECK(!o.url.host.empty() && o.url.port >= 1, o.url.text());
  FUZZ_CHECK(!o.sale.empty());
  FUZZ_CHECK(o.threads >= 1 && o.connections >= o.threads,
             absl::StrCat(o.threads, " threads, ", o.connections, " connections"));
  int64_t spread = 0;
  for (int i = 0; i < o.threads; ++i) {
    FUZZ_CHECK(o.connectionsOf(i) >= 1, "a worker without connections");
    spread += o.connectionsOf(i);
  }
  FUZZ_CHECK(spread == o.connections, "connections lost in the spread");
  FUZZ_CHECK(o.pay_fraction >= 0 && o.pay_fraction <= 1, absl::StrCat(o.pay_fraction));
  FUZZ_CHECK(finiteAtLeast(o.duration_s, 0) && o.duration_s > 0 && o.duration_s <= 86400,
             absl::StrCat("duration ", o.duration_s));
  FUZZ_CHECK(finiteAtLeast(o.drain_s, 0), absl::StrCat("drain ", o.drain_s));
  FUZZ_CHECK(finiteAtLeast(o.timeout_s, 0) && o.timeout_s > 0, absl::StrCat("timeout ", o.timeout_s));
  FUZZ_CHECK(o.max_order_lookups >= 0);
  checkShape(o.shape);
  if (o.shape.openLoop()) {
    absl::StatusOr<load::ArrivalSchedule> s = load::ArrivalSchedule::create(o.shape, o.duration_s);
    FUZZ_CHECK(s.ok(), absl::StrCat("accepted options without a schedule: ", s.status().ToString()));
    checkSchedule(o.shape, o.duration_s);
  }
}

void fuzzCommandLine(const std::vector<std::string>& args, std::string_view file) {
  const load::FileReader read = [&](const std::string& path) -> absl::StatusOr<std::string> {
    if (path == "missing") return absl::NotFoundError("no such file");
    return std::string(file);
  };
  const load::CommandLine cli = load::parseCommandLine(args, read);
  switch (cli.action) {
    case load::CommandLine::Action::kRun:
      checkOptions(cli.options);
      break;
    case load::CommandLine::Action::kHelp:
      FUZZ_CHECK(!cli.text.empty(), "empty help");
      break;
    case load::CommandLine::Action::kError:
      FUZZ_CHECK(!cli.text.empty() && cli.text.back() == '\n', cli.text);
      break;
  }
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seckill::fuzz;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find(std::string_view("\0\0", 2));
  const std::string_view argv_part = split == std::string_view::npos ? input : input.substr(0, split);
  const std::string_view file = split == std::string_view::npos ? input : input.substr(split + 2);

  std::vector<std::string> args;
  for (size_t from = 0; from <= argv_part.size() && args.size() < 64;) {
    const size_t end = std::min(argv_part.find('\0', from), argv_part.size());
    args.emplace_back(argv_part.substr(from, end - from));
    from = end + 1;
  }
  for (const std::string& a : args) {
    fuzzScalars(a);
    fuzzShape(a, file);
  }
  fuzzRateFile(file);
  fuzzCommandLine(args, file);
  return 0;
}
