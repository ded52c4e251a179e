#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "seckill/admin/v1/types.pb.h"

// The values seckillctl's arguments hold, parsed; and how an outcome becomes an exit code and an
// error line. Pure functions: no I/O, no clock (callers pass `now`).
namespace seckill::ctl {

namespace v1 = ::seckill::admin::v1;

// ---------------------------------------------------------------- argument values

// A duration with its unit: "10s", "200ms", "15m", "1h30m", "1.5s" (Go syntax, as absl
// parses it; "0" alone is allowed). InvalidArgument for a negative, infinite or unitless one.
absl::StatusOr<absl::Duration> parseDuration(std::string_view text);

// An RFC 3339 instant: "2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", fractions allowed.
absl::StatusOr<absl::Time> parseRfc3339(std::string_view text);

// An instant as --since/--until take it: RFC 3339, or a duration meaning that long before
// `now` ("10m").
absl::StatusOr<absl::Time> parseInstant(std::string_view text, absl::Time now);

// The stock argument of `sales stock ID N`: "N" sets the total (N >= 0); "+N" and "-N" move it
// by N (a delta).
struct StockChange {
  bool delta = false;
  int64_t value = 0;
  friend bool operator==(const StockChange&, const StockChange&) = default;
};
absl::StatusOr<StockChange> parseStockChange(std::string_view text);

// Mode words, case-insensitive, '-' as '_':
absl::StatusOr<v1::OverrideMode> parseOverrideMode(std::string_view text);  // dry_run shed none
absl::StatusOr<v1::OnLimit> parseOnLimit(std::string_view text);            // reject queue log
// automatic forced_open disabled metrics_only
absl::StatusOr<v1::BreakerMode> parseBreakerMode(std::string_view text);
// atomic fifo optimistic counter_gate
absl::StatusOr<v1::StockStrategy> parseStrategy(std::string_view text);

// ---------------------------------------------------------------- outcomes

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDenied = 3;    // UNAUTHENTICATED or PERMISSION_DENIED
inline constexpr int kExitConflict = 4;  // ABORTED: a stale rule-set version

// A mistake in the command line found after parsing (a missing PATH, two exclusive options):
// InvalidArgument, marked so that exitCode() answers kExitUsage.
absl::Status usageError(std::string_view message);
bool isUsageError(const absl::Status& status);

// 0 for OK; kExitUsage for usageError(); kExitDenied, kExitConflict as named; else kExitFailed.
int exitCode(const absl::Status& status);

// The line seckillctl prints to stderr for a failure, without newline:
// "seckillctl: <CODE_NAME>: <message>" ("seckillctl: <message>" for a usage error).
std::string errorLine(const absl::Status& status);

}  // namespace seckill::ctl
