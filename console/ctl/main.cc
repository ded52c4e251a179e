// seckillctl: the command-line client of the engine's admin API. See console/ctl/cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "console/ctl/cli.h"

int main(int argc, char** argv) {
  seckill::ctl::Environment env;
  env.in = &std::cin;
  env.tz = absl::LocalTimeZone();
  return seckill::ctl::run(std::vector<std::string>(argv, argv + argc), std::cout, std::cerr, env);
}
