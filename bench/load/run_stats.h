#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/latency_histogram.h"

namespace seckill::load {

// How an attempt ended. kError: no HTTP answer (connect failure, reset,
// timeout, cut off at the end of the drain).
enum class StatusClass : uint8_t { k201, k409, k410, k429, k503, kOther, kError };
inline constexpr size_t kStatusClassCount = 7;

// The class of an HTTP status code; anything but 201/409/410/429/503 is kOther.
StatusClass classifyStatus(int http_status);

// "201", ..., "other", "errors".
std::string_view statusClassName(StatusClass c);

// The attempts due in one second of the run (or in the whole run).
struct SecondRow {
  int64_t offered = 0;  // due (open loop) or started (closed loop)
  int64_t sent = 0;     // put on a connection
  std::array<int64_t, kStatusClassCount> outcomes{};
  LatencyHistogram latency;  // of the answered attempts, from the intended send time

  int64_t outcome(StatusClass c) const { return outcomes[static_cast<size_t>(c)]; }
  // Attempts that got an HTTP answer.
  int64_t answered() const;
  void merge(const SecondRow& other);
};

// Things counted beside the attempts.
struct SideCounters {
  int64_t token_failures = 0;  // token requests not answered 200 with a token
  int64_t pays_ok = 0;         // pay answered 200
  int64_t pays_failed = 0;     // pay answered otherwise, or not at all
  int64_t replayed = 0;        // order answers marked Idempotent-Replayed
  int64_t retried = 0;         // requests sent again on a fresh connection (the reused one
                               // failed before any byte of the answer)
  int64_t connects = 0;        // connections established
  int64_t connect_failures = 0;
  void merge(const SideCounters& other);
};

// The statistics of a run or of one worker's share; rows are indexed by the
// second the attempt was due. Not thread-safe: one per worker, merged at the end.
class RunStats {
 public:
  void addOffered(int64_t second);
  void addSent(int64_t second);
  // An attempt due in `second` ended as `c`; its latency counts unless kError.
  void addOutcome(int64_t second, StatusClass c, uint64_t latency_us);
  void merge(const RunStats& other);

  // One row per second, from 0 to the last second that saw an attempt.
  const std::vector<SecondRow>& seconds() const { return seconds_; }
  // Every row merged.
  SecondRow totals() const;

  SideCounters& side() { return side_; }
  const SideCounters& side() const { return side_; }

 private:
  SecondRow& row(int64_t second);

  std::vector<SecondRow> seconds_;
  SideCounters side_;
};

// The CSV header line (without newline).
std::string csvHeader();

// The per-second series: the header, then one row per second in
// [0, max(run_seconds, rows with data)). Percentiles in ms with 3 decimals,
// empty where no attempt was answered.
std::string formatCsv(const RunStats& stats, int64_t run_seconds);

// What the summary prints about the run besides the statistics.
struct SummaryHeader {
  std::string target;     // "http://127.0.0.1:8080 sale demo"
  std::string shape;      // describeShape()
  std::string setup;      // "2 threads x 8 connections, users fresh (prefix ...), ..."
  double duration_s = 0;  // the intended run length (rates are per second of it)
  double elapsed_s = 0;   // wall time including the drain
};

// The summary table: counts and rates per class, side counters, latency percentiles.
std::string formatSummary(const SummaryHeader& header, const RunStats& stats);

// The live progress numbers of the whole run.
struct ProgressSnapshot {
  double elapsed_s = 0;
  int64_t offered = 0;
  int64_t sent = 0;
  std::array<int64_t, kStatusClassCount> outcomes{};
  int64_t queued = 0;  // due but not yet on a connection
};

// One progress line (no newline): "  3.0s offered 300 sent 300 | 201 120 409 0 ...".
std::string formatProgress(const ProgressSnapshot& p);

}  // namespace seckill::load
