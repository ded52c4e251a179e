#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "bench/load/options.h"
#include "bench/load/run_checks.h"
#include "bench/load/run_stats.h"

namespace seckill::load {

// What a run produced; `exit_code` is what seckill-load exits with.
struct LoadReport {
  int exit_code = kExitOk;
  RunStats stats;
  std::vector<CreatedOrder> created;
  std::vector<CheckResult> checks;
  std::string summary;  // also written to `out`
  std::string user_prefix;
};

// Runs a whole load test against options.url:
//  1. start: GET the sale and /metrics (exit 1 when the target cannot be
//     reached or the sale is unknown; 2 when the CSV file cannot be created);
//  2. traffic: options.threads threads, each with one io_context and its share
//     of the connections, for options.duration_s, then at most
//     options.drain_s for the requests in flight (the rest count as errors);
//  3. checks: GET the sale, /metrics and the orders of users seen twice, and
//     checkRun(); exit 3 on a violation.
// Writes the summary and checks to `out`, the progress line (once a second,
// '\r'-updated when `err_is_tty`) and problems to `err`, the CSV to
// options.csv_path. Blocks until done; sends nothing after it returns.
LoadReport runLoad(const LoadOptions& options, std::ostream& out, std::ostream& err,
                   bool err_is_tty);

}  // namespace seckill::load
