// seckill-load: flash-sale traffic against the seckill shopper API, then the
// end-of-run checks. See docs/load.md.
//
// Exit codes: 0 OK (or --help); 1 the target could not be reached or the sale
// is unknown at start; 2 bad arguments; 3 an end-of-run check failed.

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/load_runner.h"
#include "bench/load/options.h"

namespace {

absl::StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("no such file or not readable");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError("read error");
  return text.str();
}

// Many connections need many descriptors: take the hard limit when the soft one is lower.
void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  using seckill::load::CommandLine;
  const std::vector<std::string> args(argv + 1, argv + argc);
  CommandLine cmd = seckill::load::parseCommandLine(args, readFile);
  switch (cmd.action) {
    case CommandLine::Action::kHelp:
      std::cout << cmd.text;
      return seckill::load::kExitOk;
    case CommandLine::Action::kError:
      std::cerr << cmd.text;
      return seckill::load::kExitBadArguments;
    case CommandLine::Action::kRun:
      break;
  }
  raiseFileLimit();
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  return seckill::load::runLoad(cmd.options, std::cout, std::cerr, tty).exit_code;
}
