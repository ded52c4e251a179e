#include "bench/load/run_stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

using ::testing::HasSubstr;

TEST(StatusClassTest, ClassifiesTheEngineAnswers) {
  EXPECT_EQ(classifyStatus(201), StatusClass::k201);
  EXPECT_EQ(classifyStatus(409), StatusClass::k409);
  EXPECT_EQ(classifyStatus(410), StatusClass::k410);
  EXPECT_EQ(classifyStatus(429), StatusClass::k429);
  EXPECT_EQ(classifyStatus(503), StatusClass::k503);
  for (int other : {200, 400, 403, 404, 500, 502}) {
    EXPECT_EQ(classifyStatus(other), StatusClass::kOther) << other;
  }
  EXPECT_EQ(statusClassName(StatusClass::kError), "errors");
  EXPECT_EQ(statusClassName(StatusClass::k410), "410");
}

// Two attempts in second 0 (201 in 1 ms, 409 in 3 ms), one in second 2 that
// failed, one offered in second 2 and never sent.
RunStats sample() {
  RunStats s;
  s.addOffered(0);
  s.addSent(0);
  s.addOutcome(0, StatusClass::k201, 1000);
  s.addOffered(0);
  s.addSent(0);
  s.addOutcome(0, StatusClass::k409, 3000);
  s.addOffered(2);
  s.addSent(2);
  s.addOutcome(2, StatusClass::kError, 0);
  s.addOffered(2);
  s.side().pays_ok = 1;
  return s;
}

TEST(RunStatsTest, CountsPerSecondAndInTotal) {
  RunStats s = sample();
  ASSERT_EQ(s.seconds().size(), 3u);
  EXPECT_EQ(s.seconds()[0].offered, 2);
  EXPECT_EQ(s.seconds()[0].answered(), 2);
  EXPECT_EQ(s.seconds()[1].offered, 0);
  EXPECT_EQ(s.seconds()[2].outcome(StatusClass::kError), 1);
  EXPECT_EQ(s.seconds()[2].answered(), 0);
  EXPECT_EQ(s.seconds()[2].latency.count(), 0u);  // errors have no latency

  SecondRow t = s.totals();
  EXPECT_EQ(t.offered, 4);
  EXPECT_EQ(t.sent, 3);
  EXPECT_EQ(t.outcome(StatusClass::k201), 1);
  EXPECT_EQ(t.answered(), 2);
  EXPECT_EQ(t.latency.count(), 2u);
}

TEST(RunStatsTest, MergeAddsWorkers) {
  RunStats a = sample();
  RunStats b;
  b.addOffered(4);
  b.addSent(4);
  b.addOutcome(4, StatusClass::k410, 500);
  b.side().pays_failed = 2;
  b.side().retried = 3;
  a.merge(b);
  EXPECT_EQ(a.seconds().size(), 5u);
  EXPECT_EQ(a.totals().offered, 5);
  EXPECT_EQ(a.totals().outcome(StatusClass::k410), 1);
  EXPECT_EQ(a.side().pays_ok, 1);
  EXPECT_EQ(a.side().pays_failed, 2);
  EXPECT_EQ(a.side().retried, 3);
}

TEST(CsvTest, OneRowPerSecondOfTheRun) {
  EXPECT_EQ(formatCsv(sample(), 4),
            "second,offered,sent,201,409,410,429,503,other,p50_ms,p99_ms,errors\n"
            "0,2,2,1,1,0,0,0,0,1.000,3.000,0\n"
            "1,0,0,0,0,0,0,0,0,,,0\n"
            "2,2,1,0,0,0,0,0,0,,,1\n"
            "3,0,0,0,0,0,0,0,0,,,0\n");
  // Rows past the run (the drain) are kept.
  EXPECT_EQ(formatCsv(sample(), 1).substr(formatCsv(sample(), 1).rfind("\n2,")),
            "\n2,2,1,0,0,0,0,0,0,,,1\n");
  EXPECT_EQ(csvHeader() + "\n", formatCsv(RunStats{}, 0));
}

TEST(SummaryTest, ShowsCountsRatesAndLatency) {
  SummaryHeader h{.target = "http://127.0.0.1:1  sale s",
                  .shape = "steady 2/s",
                  .setup = "1 threads",
                  .duration_s = 2,
                  .elapsed_s = 2.5};
  const std::string text = formatSummary(h, sample());
  EXPECT_THAT(text, HasSubstr("http://127.0.0.1:1  sale s"));
  EXPECT_THAT(text, HasSubstr("steady 2/s, 2s (elapsed 2.5s"));
  EXPECT_THAT(text, ::testing::ContainsRegex("offered +4 +2.0"));
  EXPECT_THAT(text, ::testing::ContainsRegex("sent +3 +1.5"));
  EXPECT_THAT(text, ::testing::ContainsRegex("not sent +1"));
  EXPECT_THAT(text, ::testing::ContainsRegex("201 +1 +0.5 +33.3%"));
  EXPECT_THAT(text, ::testing::ContainsRegex("errors +1 +0.5 +33.3%"));
  EXPECT_THAT(text, ::testing::ContainsRegex("paid +1"));
  EXPECT_THAT(text, HasSubstr("min 1.000"));
  EXPECT_THAT(text, HasSubstr("max 3.000"));

  EXPECT_THAT(formatSummary(h, RunStats{}), HasSubstr("(none answered)"));
}

TEST(ProgressTest, OneLineWithEveryClass) {
  ProgressSnapshot p{.elapsed_s = 3, .offered = 300, .sent = 290, .queued = 10};
  p.outcomes[static_cast<size_t>(StatusClass::k201)] = 120;
  const std::string line = formatProgress(p);
  EXPECT_THAT(line, HasSubstr("3.0s offered 300 sent 290 queued 10"));
  EXPECT_THAT(line, HasSubstr("201 120 409 0"));
  EXPECT_THAT(line, HasSubstr("errors 0"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace seckill::load
