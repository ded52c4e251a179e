// The seckill-load binary's exit codes and messages (the runner's own
// behaviour is load_runner_test's).

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;

struct Exit {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::remove(path.c_str());
  return s.str();
}

// Runs seckill-load with `args` (shell words), capturing both streams.
Exit runBinary(const std::string& args) {
  const std::string base = absl::StrCat(::testing::TempDir(), "load_cli_", ::getpid());
  const std::string cmd = absl::StrCat(SECKILL_LOAD_BINARY, " ", args, " >", base, ".out 2>",
                                       base, ".err");
  const int status = std::system(cmd.c_str());
  Exit e;
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.out = slurp(base + ".out");
  e.err = slurp(base + ".err");
  return e;
}

TEST(LoadCliTest, HelpExitsZero) {
  const Exit e = runBinary("--help");
  EXPECT_EQ(e.code, 0);
  EXPECT_THAT(e.out, HasSubstr("Usage: seckill-load"));
  EXPECT_THAT(e.out, HasSubstr("--connections"));
}

TEST(LoadCliTest, BadArgumentsExitTwoWithTheReason) {
  Exit e = runBinary("--sale s --shape steady:0");
  EXPECT_EQ(e.code, 2);
  EXPECT_THAT(e.err, HasSubstr("RATE must be > 0"));
  EXPECT_TRUE(e.out.empty());

  e = runBinary("--shape max");
  EXPECT_EQ(e.code, 2);
  EXPECT_THAT(e.err, HasSubstr("--sale is required"));

  e = runBinary("--sale s --shape replay:/nonexistent/rates.txt");
  EXPECT_EQ(e.code, 2);
  EXPECT_THAT(e.err, HasSubstr("cannot read \"/nonexistent/rates.txt\""));
}

TEST(LoadCliTest, NothingListeningExitsOne) {
  // Port 1 on loopback: nothing listens there in a test environment.
  const Exit e = runBinary("--url http://127.0.0.1:1 --sale s --duration 1s");
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("cannot connect to http://127.0.0.1:1"));
}

}  // namespace
