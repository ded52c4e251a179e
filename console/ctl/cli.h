#pragma once

#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

// seckillctl's command line (CLI11): global options, the command tree, and the run that parses,
// connects, runs one command and answers the exit code.
namespace seckill::ctl {

// What the process gives a run; tests pass their own.
struct Environment {
  std::istream* in = nullptr;                     // stdin, for `rules apply -`
  absl::TimeZone tz = absl::UTCTimeZone();        // of printed times
  std::function<absl::Time()> now;                // for "--since 10m" (unset: absl::Now)
  const absl::Notification* interrupt = nullptr;  // ends `stats --follow`
};

// Runs seckillctl: `args` as argv (args[0] the program's name). Help goes to `out` (exit 0); a
// usage error to `err` (exit 2); a failure to `err` as errorLine() with exitCode().
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const Environment& env);

}  // namespace seckill::ctl
