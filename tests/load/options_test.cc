#include "bench/load/options.h"

#include <map>

#include "bench/load/text_parse.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

using ::testing::HasSubstr;

// A file system of a few files, for the replay shape.
FileReader fakeFiles(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError("no such file");
    return it->second;
  };
}

CommandLine parse(std::vector<std::string> args, FileReader files = fakeFiles({})) {
  return parseCommandLine(args, files);
}

LoadOptions runOptions(std::vector<std::string> args, FileReader files = fakeFiles({})) {
  CommandLine c = parse(std::move(args), std::move(files));
  EXPECT_EQ(c.action, CommandLine::Action::kRun) << c.text;
  return c.options;
}

std::string errorOf(std::vector<std::string> args, FileReader files = fakeFiles({})) {
  CommandLine c = parse(std::move(args), std::move(files));
  EXPECT_EQ(c.action, CommandLine::Action::kError);
  return c.text;
}

TEST(TargetUrlTest, AcceptsHostAndPort) {
  absl::StatusOr<TargetUrl> u = parseTargetUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->text(), "http://127.0.0.1:8080");
  EXPECT_EQ(u->hostHeader(), "127.0.0.1:8080");

  EXPECT_EQ(parseTargetUrl("http://localhost")->port, 80);
  EXPECT_EQ(parseTargetUrl("http://localhost:9000/")->port, 9000);
  EXPECT_EQ(parseTargetUrl("http://[::1]:8080")->host, "::1");
}

TEST(TargetUrlTest, RejectsWhatItCannotTalkTo) {
  auto message = [](std::string_view url) {
    absl::StatusOr<TargetUrl> u = parseTargetUrl(url);
    EXPECT_FALSE(u.ok()) << url;
    return std::string(u.status().message());
  };
  EXPECT_THAT(message("https://127.0.0.1"), HasSubstr("https is not supported"));
  EXPECT_THAT(message("127.0.0.1:8080"), HasSubstr("expected http://HOST[:PORT]"));
  EXPECT_THAT(message("http://h/api"), HasSubstr("no path"));
  EXPECT_THAT(message("http://h?x=1"), HasSubstr("no path"));
  EXPECT_THAT(message("http://:80"), HasSubstr("no host"));
  EXPECT_THAT(message("http://h:"), HasSubstr("empty port"));
  EXPECT_THAT(message("http://h:0"), HasSubstr("1..65535"));
  EXPECT_THAT(message("http://h:70000"), HasSubstr("1..65535"));
  EXPECT_THAT(message("http://h:80x"), HasSubstr("1..65535"));
  EXPECT_THAT(message("http://u@h"), HasSubstr("user info"));
  EXPECT_THAT(message("http://h st"), HasSubstr("invalid character"));
}

TEST(UserSpecTest, FreshOrPool) {
  EXPECT_EQ(parseUserSpec("fresh")->mode, UserMode::kFresh);
  absl::StatusOr<UserSpec> pool = parseUserSpec("pool:500");
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(pool->mode, UserMode::kPool);
  EXPECT_EQ(pool->pool_size, 500);
  EXPECT_THAT(parseUserSpec("pool:0").status().message(), HasSubstr("N >= 1"));
  EXPECT_THAT(parseUserSpec("pool:-4").status().message(), HasSubstr("N >= 1"));
  EXPECT_THAT(parseUserSpec("pool:").status().message(), HasSubstr("whole number"));
  EXPECT_THAT(parseUserSpec("pool:1e3").status().message(), HasSubstr("whole number"));
  EXPECT_THAT(parseUserSpec("all").status().message(), HasSubstr("fresh or pool:N"));
}

TEST(DurationTest, ReadsUnits) {
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("10s", "d"), 10);
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("250ms", "d"), 0.25);
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("2m", "d"), 120);
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("1h", "d"), 3600);
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("1.5s", "d"), 1.5);
  EXPECT_DOUBLE_EQ(*parseDurationSeconds("7", "d"), 7);
  for (std::string_view bad : {"", "s", "ms", "10x", "ten", "nan", "inf", "1 s", "0x10"}) {
    EXPECT_FALSE(parseDurationSeconds(bad, "d").ok()) << bad;
  }
  EXPECT_THAT(parseDurationSeconds("-1s", "--duration").status().message(),
              HasSubstr("--duration: \"-1s\" is negative"));
  EXPECT_EQ(formatSeconds(10), "10s");
  EXPECT_EQ(formatSeconds(0.25), "250ms");
}

TEST(CommandLineTest, DefaultsNeedOnlyTheSale) {
  LoadOptions o = runOptions({"--sale", "demo"});
  EXPECT_EQ(o.url.text(), "http://127.0.0.1:8080");
  EXPECT_EQ(o.sale, "demo");
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.connections, 16);
  EXPECT_EQ(o.users.mode, UserMode::kFresh);
  EXPECT_FALSE(o.token);
  EXPECT_DOUBLE_EQ(o.pay_fraction, 0);
  EXPECT_EQ(o.shape.kind, ShapeKind::kSteady);
  EXPECT_DOUBLE_EQ(o.shape.rate, 100);
  EXPECT_DOUBLE_EQ(o.duration_s, 10);
  EXPECT_DOUBLE_EQ(o.drain_s, 5);
  EXPECT_DOUBLE_EQ(o.timeout_s, 5);
  EXPECT_TRUE(o.progress);
  EXPECT_FALSE(o.seed.has_value());
}

TEST(CommandLineTest, ReadsEveryOption) {
  LoadOptions o = runOptions({"--url",
                              "http://10.0.0.5:9090",
                              "--sale",
                              "drop-1",
                              "--threads",
                              "4",
                              "--connections",
                              "64",
                              "--users",
                              "pool:1000",
                              "--token",
                              "--pay-fraction",
                              "0.25",
                              "--shape",
                              "spike:100:1000:5s:5s",
                              "--duration",
                              "30s",
                              "--drain",
                              "2s",
                              "--timeout",
                              "750ms",
                              "--csv",
                              "out.csv",
                              "--user-prefix",
                              "bench_a",
                              "--seed",
                              "42",
                              "--no-progress",
                              "--max-order-lookups",
                              "10"});
  EXPECT_EQ(o.url.host, "10.0.0.5");
  EXPECT_EQ(o.url.port, 9090);
  EXPECT_EQ(o.sale, "drop-1");
  EXPECT_EQ(o.threads, 4);
  EXPECT_EQ(o.connections, 64);
  EXPECT_EQ(o.users.mode, UserMode::kPool);
  EXPECT_EQ(o.users.pool_size, 1000);
  EXPECT_TRUE(o.token);
  EXPECT_DOUBLE_EQ(o.pay_fraction, 0.25);
  EXPECT_EQ(o.shape.kind, ShapeKind::kSpike);
  EXPECT_DOUBLE_EQ(o.duration_s, 30);
  EXPECT_DOUBLE_EQ(o.drain_s, 2);
  EXPECT_DOUBLE_EQ(o.timeout_s, 0.75);
  EXPECT_EQ(o.csv_path, "out.csv");
  EXPECT_EQ(o.user_prefix, "bench_a");
  EXPECT_EQ(o.seed, 42u);
  EXPECT_FALSE(o.progress);
  EXPECT_EQ(o.max_order_lookups, 10);
}

TEST(CommandLineTest, ConnectionsAreATotalSpreadOverThreads) {
  LoadOptions o = runOptions({"--sale", "s", "--threads", "3", "--connections", "10"});
  EXPECT_EQ(o.connectionsOf(0), 4);
  EXPECT_EQ(o.connectionsOf(1), 3);
  EXPECT_EQ(o.connectionsOf(2), 3);
  EXPECT_THAT(errorOf({"--sale", "s", "--threads", "4", "--connections", "2"}),
              HasSubstr("at least one per thread"));
}

TEST(CommandLineTest, BadArgumentsGetAClearMessage) {
  EXPECT_THAT(errorOf({}), HasSubstr("--sale is required"));
  EXPECT_THAT(errorOf({"--sale", "s", "--shape", "wave:3"}), HasSubstr("unknown shape \"wave\""));
  EXPECT_THAT(errorOf({"--sale", "s", "--shape", "steady:0"}), HasSubstr("RATE must be > 0"));
  EXPECT_THAT(errorOf({"--sale", "s", "--url", "https://x"}), HasSubstr("https is not supported"));
  EXPECT_THAT(errorOf({"--sale", "s", "--users", "pool:0"}), HasSubstr("N >= 1"));
  EXPECT_THAT(errorOf({"--sale", "s", "--pay-fraction", "1.5"}), HasSubstr("within [0, 1]"));
  EXPECT_THAT(errorOf({"--sale", "s", "--pay-fraction", "-0.1"}), HasSubstr("within [0, 1]"));
  EXPECT_THAT(errorOf({"--sale", "bad sale"}), HasSubstr("[A-Za-z0-9_-]"));
  EXPECT_THAT(errorOf({"--sale", "s", "--threads", "0"}), HasSubstr("--threads 0"));
  EXPECT_THAT(errorOf({"--sale", "s", "--duration", "0s"}), HasSubstr("must be > 0"));
  EXPECT_THAT(errorOf({"--sale", "s", "--duration", "soon"}), HasSubstr("not a duration"));
  EXPECT_THAT(errorOf({"--sale", "s", "--timeout", "0"}), HasSubstr("--timeout"));
  EXPECT_THAT(errorOf({"--sale", "s", "--user-prefix", "a.b"}), HasSubstr("--user-prefix"));
  EXPECT_THAT(errorOf({"--sale", "s", "--shape", "spike:1:10:20s:1s"}),
              HasSubstr("after the end of the run"));
  EXPECT_THAT(errorOf({"--sale", "s", "--bogus"}), HasSubstr("--bogus"));
  EXPECT_THAT(errorOf({"--sale", "s", "--threads", "many"}), HasSubstr("--threads"));
  // Every error points at --help.
  EXPECT_THAT(errorOf({"--sale", "s", "--threads", "many"}), HasSubstr("--help"));
}

TEST(CommandLineTest, ReplayReadsTheRateFile) {
  FileReader files = fakeFiles({{"rates.txt", "# peak\n10\n20\n30\n"}});
  LoadOptions o = runOptions({"--sale", "s", "--shape", "replay:rates.txt"}, files);
  EXPECT_EQ(o.shape.kind, ShapeKind::kReplay);
  EXPECT_EQ(o.shape.per_second, (std::vector<double>{10, 20, 30}));
  EXPECT_DOUBLE_EQ(o.duration_s, 3);  // the file's length
  LoadOptions longer =
      runOptions({"--sale", "s", "--shape", "replay:rates.txt", "--duration", "5s"}, files);
  EXPECT_DOUBLE_EQ(longer.duration_s, 5);  // an explicit --duration wins

  EXPECT_THAT(errorOf({"--sale", "s", "--shape", "replay:missing.txt"}, files),
              HasSubstr("cannot read \"missing.txt\""));
  FileReader bad = fakeFiles({{"bad.txt", "10\nabc\n"}});
  EXPECT_THAT(errorOf({"--sale", "s", "--shape", "replay:bad.txt"}, bad), HasSubstr("line 2"));
}

TEST(CommandLineTest, HelpDocumentsTheChoices) {
  CommandLine c = parse({"--help"});
  ASSERT_EQ(c.action, CommandLine::Action::kHelp);
  EXPECT_THAT(c.text, HasSubstr("IN TOTAL"));
  EXPECT_THAT(c.text, HasSubstr("spike:BASE:PEAK:AT:LEN"));
  EXPECT_THAT(c.text, HasSubstr("Exit codes"));
  EXPECT_THAT(c.text, HasSubstr("loopback"));
  EXPECT_EQ(c.text, helpText());
}

}  // namespace
}  // namespace seckill::load
