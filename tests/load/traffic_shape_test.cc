#include "bench/load/traffic_shape.h"

#include <cmath>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::load {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ShapeSpec parsed(std::string_view text) {
  absl::StatusOr<ShapeSpec> s = parseShapeSpec(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : ShapeSpec{};
}

std::string parseError(std::string_view text) {
  absl::StatusOr<ShapeSpec> s = parseShapeSpec(text);
  EXPECT_FALSE(s.ok()) << text;
  return s.ok() ? "" : std::string(s.status().message());
}

ArrivalSchedule schedule(const ShapeSpec& shape, double duration_s) {
  absl::StatusOr<ArrivalSchedule> s = ArrivalSchedule::create(shape, duration_s);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

// Every arrival time is in [0, duration), non-decreasing, and the per-second
// counts of the times agree with arrivalsIn().
void expectConsistent(const ArrivalSchedule& s) {
  std::map<int64_t, int64_t> per_second;
  double last = 0;
  for (int64_t k = 0; k < s.totalArrivals(); ++k) {
    const double t = s.arrivalTime(k);
    ASSERT_GE(t, last) << "k=" << k;
    ASSERT_LT(t, s.duration()) << "k=" << k;
    last = t;
    ++per_second[static_cast<int64_t>(t)];
  }
  int64_t sum = 0;
  for (int64_t sec = 0; sec < static_cast<int64_t>(std::ceil(s.duration())); ++sec) {
    EXPECT_EQ(per_second[sec], s.arrivalsIn(sec)) << "second " << sec;
    sum += s.arrivalsIn(sec);
  }
  EXPECT_EQ(sum, s.totalArrivals());
}

TEST(ShapeParseTest, ReadsEveryShape) {
  ShapeSpec steady = parsed("steady:250.5");
  EXPECT_EQ(steady.kind, ShapeKind::kSteady);
  EXPECT_DOUBLE_EQ(steady.rate, 250.5);

  ShapeSpec ramp = parsed("ramp:0:1000");
  EXPECT_EQ(ramp.kind, ShapeKind::kRamp);
  EXPECT_DOUBLE_EQ(ramp.from, 0);
  EXPECT_DOUBLE_EQ(ramp.to, 1000);

  ShapeSpec spike = parsed("spike:100:1000:5s:500ms");
  EXPECT_EQ(spike.kind, ShapeKind::kSpike);
  EXPECT_DOUBLE_EQ(spike.base, 100);
  EXPECT_DOUBLE_EQ(spike.peak, 1000);
  EXPECT_DOUBLE_EQ(spike.at_s, 5);
  EXPECT_DOUBLE_EQ(spike.len_s, 0.5);
  EXPECT_DOUBLE_EQ(parsed("spike:0:10:2:3").at_s, 2);  // bare seconds

  ShapeSpec replay = parsed("replay:C:/rates:1.txt");
  EXPECT_EQ(replay.kind, ShapeKind::kReplay);
  EXPECT_EQ(replay.file, "C:/rates:1.txt");  // colons belong to the file name

  EXPECT_EQ(parsed("max").kind, ShapeKind::kMax);
  EXPECT_FALSE(parsed("max").openLoop());
  EXPECT_TRUE(steady.openLoop());
}

TEST(ShapeParseTest, RejectsBadShapesWithTheReason) {
  EXPECT_THAT(parseError("burst:10"), HasSubstr("unknown shape \"burst\""));
  EXPECT_THAT(parseError(""), HasSubstr("unknown shape"));
  EXPECT_THAT(parseError("steady:0"), HasSubstr("RATE must be > 0"));
  EXPECT_THAT(parseError("steady:-3"), HasSubstr("RATE must be > 0"));
  EXPECT_THAT(parseError("steady:fast"), HasSubstr("not a number"));
  EXPECT_THAT(parseError("steady:nan"), HasSubstr("not a number"));
  EXPECT_THAT(parseError("steady"), HasSubstr("expected steady:RATE"));
  EXPECT_THAT(parseError("steady:1:2"), HasSubstr("expected steady:RATE"));
  EXPECT_THAT(parseError("ramp:0:0"), HasSubstr("cannot both be 0"));
  EXPECT_THAT(parseError("ramp:-1:10"), HasSubstr("FROM must be >= 0"));
  EXPECT_THAT(parseError("ramp:10"), HasSubstr("expected ramp:FROM:TO"));
  EXPECT_THAT(parseError("spike:10:0:1:1"), HasSubstr("PEAK must be > 0"));
  EXPECT_THAT(parseError("spike:10:100:1s:0s"), HasSubstr("LEN must be > 0"));
  EXPECT_THAT(parseError("spike:10:100:-1s:1s"), HasSubstr("negative"));
  EXPECT_THAT(parseError("spike:10:100:soon:1s"), HasSubstr("not a duration"));
  EXPECT_THAT(parseError("replay:"), HasSubstr("expected replay:FILE"));
  EXPECT_THAT(parseError("max:5"), HasSubstr("takes no parameters"));
}

TEST(RateFileTest, ReadsRatesSkippingCommentsAndBlanks) {
  absl::StatusOr<std::vector<double>> rates =
      parseRateFile("# recorded 2024-11-11\n10\n\n  20.5  \n0 # a quiet second\n30\n");
  ASSERT_TRUE(rates.ok()) << rates.status();
  EXPECT_THAT(*rates, ElementsAre(10, 20.5, 0, 30));
}

TEST(RateFileTest, NamesTheBadLine) {
  absl::StatusOr<std::vector<double>> r = parseRateFile("10\n# c\nlots\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(parseRateFile("5\n-1\n").status().message(), HasSubstr("line 2"));
  EXPECT_THAT(parseRateFile("# nothing\n\n").status().message(), HasSubstr("no rates"));
  EXPECT_THAT(parseRateFile("0\n0\n").status().message(), HasSubstr("every rate is 0"));
}

TEST(ArrivalScheduleTest, SteadySpreadsArrivalsEvenly) {
  ArrivalSchedule s = schedule(parsed("steady:100"), 10);
  EXPECT_EQ(s.totalArrivals(), 1000);
  for (int64_t sec = 0; sec < 10; ++sec) EXPECT_EQ(s.arrivalsIn(sec), 100);
  EXPECT_NEAR(s.arrivalTime(0), 0.005, 1e-12);
  EXPECT_NEAR(s.arrivalTime(1), 0.015, 1e-12);
  EXPECT_NEAR(s.arrivalTime(999), 9.995, 1e-12);
  EXPECT_EQ(s.arrivalsIn(10), 0);
  expectConsistent(s);
}

TEST(ArrivalScheduleTest, SlowRatesAndFractionalDurations) {
  ArrivalSchedule half = schedule(parsed("steady:0.5"), 10);
  EXPECT_EQ(half.totalArrivals(), 5);
  EXPECT_NEAR(half.arrivalTime(0), 1, 1e-9);
  EXPECT_NEAR(half.arrivalTime(4), 9, 1e-9);
  expectConsistent(half);

  ArrivalSchedule short_run = schedule(parsed("steady:10"), 2.5);
  EXPECT_EQ(short_run.totalArrivals(), 25);
  EXPECT_EQ(short_run.arrivalsIn(2), 5);
  expectConsistent(short_run);
}

TEST(ArrivalScheduleTest, RampGrowsLinearly) {
  ArrivalSchedule s = schedule(parsed("ramp:0:100"), 10);
  EXPECT_DOUBLE_EQ(s.rateAt(0), 0);
  EXPECT_DOUBLE_EQ(s.rateAt(5), 50);
  EXPECT_DOUBLE_EQ(s.expectedBy(10), 500);
  EXPECT_EQ(s.totalArrivals(), 500);
  EXPECT_EQ(s.arrivalsIn(0), 5);   // expected 5 in the first second
  EXPECT_EQ(s.arrivalsIn(9), 95);  // 500 - 405
  EXPECT_GT(s.arrivalTime(0), 0);  // a ramp from 0 does not fire at t = 0
  expectConsistent(s);

  ArrivalSchedule down = schedule(parsed("ramp:200:0"), 4);
  EXPECT_EQ(down.totalArrivals(), 400);
  EXPECT_GT(down.arrivalsIn(0), down.arrivalsIn(3));
  expectConsistent(down);
}

TEST(ArrivalScheduleTest, SpikeRaisesTheRateForItsLength) {
  ArrivalSchedule s = schedule(parsed("spike:10:100:2s:3s"), 10);
  EXPECT_THAT(std::vector<int64_t>({s.arrivalsIn(0), s.arrivalsIn(1), s.arrivalsIn(2),
                                    s.arrivalsIn(4), s.arrivalsIn(5), s.arrivalsIn(9)}),
              ElementsAre(10, 10, 100, 100, 10, 10));
  EXPECT_EQ(s.totalArrivals(), 7 * 10 + 3 * 100);
  expectConsistent(s);

  // A spike running past the end is cut at the end.
  ArrivalSchedule late = schedule(parsed("spike:0:50:8s:5s"), 10);
  EXPECT_EQ(late.totalArrivals(), 100);
  expectConsistent(late);

  absl::StatusOr<ArrivalSchedule> after = ArrivalSchedule::create(parsed("spike:1:9:10s:1s"), 10);
  ASSERT_FALSE(after.ok());
  EXPECT_THAT(after.status().message(), HasSubstr("after the end of the run"));
}

TEST(ArrivalScheduleTest, ReplayFollowsTheFileSecondBySecond) {
  ShapeSpec shape = parsed("replay:rates.txt");
  shape.per_second = {5, 0, 20, 2.5};
  ArrivalSchedule s = schedule(shape, 4);
  EXPECT_THAT(std::vector<int64_t>({s.arrivalsIn(0), s.arrivalsIn(1), s.arrivalsIn(2)}),
              ElementsAre(5, 0, 20));
  EXPECT_EQ(s.arrivalsIn(3), 2);  // 27.5 expected in all: arrival k is due at k + 1/2
  EXPECT_EQ(s.totalArrivals(), 27);
  expectConsistent(s);

  // Longer than the file: the seconds after it are quiet.
  ArrivalSchedule longer = schedule(shape, 6);
  EXPECT_EQ(longer.arrivalsIn(5), 0);
  EXPECT_DOUBLE_EQ(longer.rateAt(5), 0);
  expectConsistent(longer);
}

TEST(ArrivalScheduleTest, RejectsClosedLoopAndEmptyRuns) {
  EXPECT_FALSE(ArrivalSchedule::create(parsed("max"), 10).ok());
  EXPECT_FALSE(ArrivalSchedule::create(parsed("steady:5"), 0).ok());
  ShapeSpec empty_replay = parsed("replay:x");
  EXPECT_FALSE(ArrivalSchedule::create(empty_replay, 5).ok());
}

TEST(ShapeDescribeTest, ReadsLikeTheSpec) {
  EXPECT_EQ(describeShape(parsed("steady:100")), "steady 100/s");
  EXPECT_EQ(describeShape(parsed("ramp:10:20")), "ramp 10/s -> 20/s");
  EXPECT_EQ(describeShape(parsed("spike:1:10:5s:500ms")), "spike 1/s -> 10/s at 5s for 500ms");
  EXPECT_EQ(describeShape(parsed("max")), "max (closed loop)");
}

}  // namespace
}  // namespace seckill::load
