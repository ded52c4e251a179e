#include "bench/load/load_runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/load/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/load/fake_engine.h"

namespace seckill::load {
namespace {

using testing::FakeEngine;
using ::testing::HasSubstr;

absl::StatusOr<std::string> noFiles(const std::string&) { return absl::NotFoundError("none"); }

LoadOptions options(std::vector<std::string> args) {
  args.push_back("--no-progress");
  CommandLine c = parseCommandLine(args, noFiles);
  EXPECT_EQ(c.action, CommandLine::Action::kRun) << c.text;
  return c.options;
}

// A run with its output captured.
struct RunOutput {
  LoadReport report;
  std::string out;
  std::string err;
  double seconds = 0;
};

RunOutput runTool(const LoadOptions& o) {
  std::ostringstream out, err;
  const auto start = std::chrono::steady_clock::now();
  RunOutput r;
  r.report = runLoad(o, out, err, /*err_is_tty=*/false);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A temporary file name, removed at the end of the test.
class TempFile {
 public:
  TempFile()
      : path_(absl::StrCat(::testing::TempDir(), "load_", ::getpid(), "_", counter_++, ".csv")) {}
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string read() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

int64_t column(const std::vector<std::string>& fields, size_t i) {
  return fields.size() > i && !fields[i].empty() ? std::stoll(fields[i]) : -1;
}

TEST(LoadRunnerTest, SteadyRunSellsTheStockAndPassesTheChecks) {
  FakeEngine engine({.stock = 50});
  TempFile csv;
  const LoadOptions o =
      options({"--url", engine.url(), "--sale", "fake", "--threads", "2", "--connections", "4",
               "--shape", "steady:100", "--duration", "1500ms", "--drain", "2s", "--token",
               "--pay-fraction", "0.5", "--csv", csv.path()});
  const RunOutput r = runTool(o);
  ASSERT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;

  const SecondRow t = r.report.stats.totals();
  EXPECT_EQ(t.offered, 150);  // 100/s for 1.5 s
  EXPECT_EQ(t.sent, 150);
  EXPECT_EQ(t.outcome(StatusClass::k201), 50);
  EXPECT_EQ(t.outcome(StatusClass::k410), 100);
  EXPECT_EQ(t.outcome(StatusClass::kError), 0);
  EXPECT_EQ(engine.created(), 50);
  EXPECT_EQ(engine.ordersWithToken(), 50);
  // Each thread pays half of its own orders, rounded down.
  EXPECT_GE(r.report.stats.side().pays_ok, 24);
  EXPECT_LE(r.report.stats.side().pays_ok, 25);
  EXPECT_EQ(r.report.stats.side().pays_ok, engine.paid());
  EXPECT_LT(r.seconds, 6);

  EXPECT_THAT(r.out, HasSubstr("steady 100/s, 1.5s"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("201 +50"));
  EXPECT_THAT(r.out, HasSubstr("all checks passed"));
  EXPECT_THAT(r.err, HasSubstr("stock 50, left 50, open"));

  // The CSV: a header and one row per second; the rows add up to the totals.
  const std::vector<std::string> lines = absl::StrSplit(csv.read(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << csv.read();
  EXPECT_EQ(lines[0], csvHeader());
  int64_t offered = 0, sent = 0, created = 0, gone = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), 12u) << lines[i];
    EXPECT_EQ(column(f, 0), static_cast<int64_t>(i - 1));
    offered += column(f, 1);
    sent += column(f, 2);
    created += column(f, 3);
    gone += column(f, 5);
    EXPECT_FALSE(f[9].empty()) << "p50 of second " << i - 1;
  }
  EXPECT_EQ(column(absl::StrSplit(lines[1], ','), 1), 100);
  EXPECT_EQ(column(absl::StrSplit(lines[2], ','), 1), 50);
  EXPECT_EQ(offered, 150);
  EXPECT_EQ(sent, 150);
  EXPECT_EQ(created, 50);
  EXPECT_EQ(gone, 100);
}

TEST(LoadRunnerTest, APoolOfUsersGetsOneOrderEach) {
  FakeEngine engine({.stock = 100});
  const RunOutput r =
      runTool(options({"--url", engine.url(), "--sale", "fake", "--threads", "2", "--connections",
                       "2", "--users", "pool:5", "--shape", "steady:60", "--duration", "1s"}));
  ASSERT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;
  const SecondRow t = r.report.stats.totals();
  EXPECT_EQ(t.sent, 60);
  EXPECT_LE(t.outcome(StatusClass::k201), 5);
  EXPECT_GE(t.outcome(StatusClass::k201), 1);
  EXPECT_EQ(t.outcome(StatusClass::k201) + t.outcome(StatusClass::k409), 60);
}

TEST(LoadRunnerTest, ClosedLoopSendsAsFastAsItsConnections) {
  FakeEngine engine({.stock = 20});
  const RunOutput r =
      runTool(options({"--url", engine.url(), "--sale", "fake", "--threads", "1", "--connections",
                       "2", "--shape", "max", "--duration", "700ms"}));
  ASSERT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;
  const SecondRow t = r.report.stats.totals();
  EXPECT_GT(t.sent, 20);
  EXPECT_EQ(t.offered, t.sent);
  EXPECT_EQ(t.outcome(StatusClass::k201), 20);
  EXPECT_EQ(t.outcome(StatusClass::k410), t.sent - 20);
  EXPECT_THAT(r.out, HasSubstr("max (closed loop)"));
}

TEST(LoadRunnerTest, AnOversellingEngineFailsTheCheck) {
  FakeEngine engine({.stock = 10, .oversell = 5});
  TempFile csv;
  const RunOutput r =
      runTool(options({"--url", engine.url(), "--sale", "fake", "--threads", "2", "--connections",
                       "2", "--shape", "steady:40", "--duration", "1s", "--csv", csv.path()}));
  EXPECT_EQ(r.report.exit_code, kExitViolation) << r.out << r.err;
  EXPECT_EQ(r.report.stats.totals().outcome(StatusClass::k201), 15);
  EXPECT_THAT(r.out, HasSubstr("FAIL  no oversell"));
  EXPECT_THAT(r.out, HasSubstr("201 orders 15 > sold 10"));
  EXPECT_THAT(r.out, HasSubstr("VIOLATION"));
  EXPECT_THAT(r.err, HasSubstr("violation: no oversell"));
  // The series is written all the same.
  EXPECT_THAT(csv.read(), HasSubstr(csvHeader()));
}

TEST(LoadRunnerTest, AnEngineWithoutDedupFailsOneOrderPerUser) {
  FakeEngine engine({.stock = 100, .allow_repeats = true});
  const RunOutput r =
      runTool(options({"--url", engine.url(), "--sale", "fake", "--threads", "1", "--connections",
                       "2", "--users", "pool:3", "--shape", "steady:30", "--duration", "500ms"}));
  EXPECT_EQ(r.report.exit_code, kExitViolation) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAIL  one order per user"));
  EXPECT_THAT(r.out, HasSubstr("live orders"));
}

TEST(LoadRunnerTest, AStalledEngineIsCutOffAtTheDrainDeadline) {
  FakeEngine engine({.stock = 100, .order_delay = std::chrono::milliseconds(1500)});
  const RunOutput r = runTool(options({"--url", engine.url(), "--sale", "fake", "--threads", "1",
                                       "--connections", "2", "--shape", "steady:20", "--duration",
                                       "500ms", "--drain", "200ms", "--timeout", "10s"}));
  // Warm-up, duration, drain: the 1.5 s answers are not waited for.
  EXPECT_LT(r.seconds, 0.25 + 0.5 + 0.2 + 1);
  const SecondRow t = r.report.stats.totals();
  EXPECT_EQ(t.offered, 10);
  EXPECT_EQ(t.sent, 2);  // one per connection; the rest waited in the queue
  EXPECT_EQ(t.outcome(StatusClass::kError), 2);
  EXPECT_THAT(r.out, ::testing::ContainsRegex("not sent +8"));
  EXPECT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;  // nothing was oversold
}

// The engine closed an idle connection just before the tool reused it: the
// request is sent again on a fresh connection instead of counting as an error.
TEST(LoadRunnerTest, ARequestOnAConnectionTheEngineClosedIsRetriedOnAFreshOne) {
  FakeEngine engine({.stock = 100, .close_after = 2});
  const RunOutput r = runTool(
      options({"--url", engine.url(), "--sale", "fake", "--threads", "1", "--connections", "1",
               "--shape", "steady:20", "--duration", "1s", "--token", "--pay-fraction", "0.5"}));
  ASSERT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;
  const SecondRow t = r.report.stats.totals();
  EXPECT_EQ(t.sent, 20);
  EXPECT_EQ(t.outcome(StatusClass::kError), 0);
  EXPECT_EQ(t.outcome(StatusClass::k201), 20);
  EXPECT_EQ(engine.created(), 20);
  EXPECT_EQ(engine.ordersWithToken(), 20);
  EXPECT_EQ(r.report.stats.side().token_failures, 0);
  EXPECT_EQ(r.report.stats.side().pays_failed, 0);
  EXPECT_EQ(r.report.stats.side().pays_ok, 10);
  EXPECT_EQ(r.report.stats.side().pays_ok, engine.paid());
  // 50 requests, two per connection: every connection but the first was opened for a retry.
  const int64_t retried = r.report.stats.side().retried;
  EXPECT_GE(retried, 20);
  EXPECT_EQ(r.report.stats.side().connects, retried + 1);
  EXPECT_THAT(r.out, ::testing::ContainsRegex(absl::StrCat("retried +", retried, "\n")));
}

// A request the engine does not answer within --timeout is an error, not retried.
TEST(LoadRunnerTest, ARequestPastItsTimeoutIsAnErrorAndNotRetried) {
  FakeEngine engine({.stock = 100, .order_delay = std::chrono::milliseconds(1000)});
  const RunOutput r = runTool(
      options({"--url", engine.url(), "--sale", "fake", "--threads", "1", "--connections", "1",
               "--shape", "steady:4", "--duration", "1s", "--timeout", "200ms", "--drain", "2s"}));
  const SecondRow t = r.report.stats.totals();
  EXPECT_EQ(t.offered, 4);
  EXPECT_GE(t.sent, 2);
  EXPECT_EQ(t.outcome(StatusClass::kError), t.sent);
  EXPECT_EQ(r.report.stats.side().retried, 0);
  // Each cut off within the timeout plus the sweep's tenth of it, not after the 1 s answer.
  EXPECT_LT(r.seconds, 0.25 + 1 + 0.5);
  EXPECT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;
}

TEST(LoadRunnerTest, ProgressLinesOncePerSecond) {
  FakeEngine engine({.stock = 5});
  LoadOptions o = options({"--url", engine.url(), "--sale", "fake", "--threads", "1",
                           "--connections", "1", "--shape", "steady:10", "--duration", "2200ms"});
  o.progress = true;
  const RunOutput r = runTool(o);
  ASSERT_EQ(r.report.exit_code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.err, ::testing::ContainsRegex("1\\.0s offered 10 sent 10"));
  EXPECT_THAT(r.err, HasSubstr("2.0s offered"));
  EXPECT_EQ(r.err.find('\r'), std::string::npos);  // plain lines when not a TTY
}

TEST(LoadRunnerTest, UnreachableTargetExitsOne) {
  uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed again: nothing listens there
  const RunOutput r = runTool(options(
      {"--url", absl::StrCat("http://127.0.0.1:", port), "--sale", "s", "--duration", "1s"}));
  EXPECT_EQ(r.report.exit_code, kExitStartFailed);
  EXPECT_THAT(r.err, HasSubstr("cannot connect to http://127.0.0.1:"));
  EXPECT_EQ(r.report.stats.totals().sent, 0);
}

TEST(LoadRunnerTest, UnknownSaleExitsOne) {
  FakeEngine engine({});
  const RunOutput r =
      runTool(options({"--url", engine.url(), "--sale", "nope", "--duration", "1s"}));
  EXPECT_EQ(r.report.exit_code, kExitStartFailed);
  EXPECT_THAT(r.err, HasSubstr("sale \"nope\" not found"));
}

TEST(LoadRunnerTest, AnUnwritableCsvIsABadArgument) {
  FakeEngine engine({});
  const RunOutput r = runTool(options({"--url", engine.url(), "--sale", "fake", "--duration", "1s",
                                       "--csv", "/nonexistent-dir/x.csv"}));
  EXPECT_EQ(r.report.exit_code, kExitBadArguments);
  EXPECT_THAT(r.err, HasSubstr("cannot create"));
  EXPECT_EQ(engine.created(), 0);
}

}  // namespace
}  // namespace seckill::load
