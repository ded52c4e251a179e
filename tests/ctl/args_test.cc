#include "console/ctl/args.h"

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace seckill::ctl {
namespace {

TEST(ParseDuration, TakesGoStyleDurations) {
  EXPECT_EQ(*parseDuration("10s"), absl::Seconds(10));
  EXPECT_EQ(*parseDuration("200ms"), absl::Milliseconds(200));
  EXPECT_EQ(*parseDuration("15m"), absl::Minutes(15));
  EXPECT_EQ(*parseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*parseDuration("1.5s"), absl::Milliseconds(1500));
  EXPECT_EQ(*parseDuration(" 2s "), absl::Seconds(2));
  EXPECT_EQ(*parseDuration("0"), absl::ZeroDuration());
}

TEST(ParseDuration, RejectsWhatIsNotAFiniteNonNegativeDuration) {
  for (const char* bad : {"", "10", "ten seconds", "-1s", "inf", "5 s", "1d"}) {
    absl::StatusOr<absl::Duration> d = parseDuration(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
  EXPECT_NE(parseDuration("10").status().message().find("not a duration: \"10\""),
            absl::string_view::npos);
}

TEST(ParseRfc3339, TakesUtcOffsetsAndFractions) {
  EXPECT_EQ(*parseRfc3339("2024-05-01T12:00:00Z"), absl::FromUnixSeconds(1714564800));
  EXPECT_EQ(*parseRfc3339("2024-05-01T14:00:00+02:00"), absl::FromUnixSeconds(1714564800));
  EXPECT_EQ(*parseRfc3339("2024-05-01T12:00:00.250Z"),
            absl::FromUnixSeconds(1714564800) + absl::Milliseconds(250));
  EXPECT_FALSE(parseRfc3339("2024-05-01 12:00:00").ok());
  EXPECT_FALSE(parseRfc3339("yesterday").ok());
}

TEST(ParseInstant, DurationIsThatLongBeforeNow) {
  const absl::Time now = absl::FromUnixSeconds(1714564800);
  EXPECT_EQ(*parseInstant("10m", now), now - absl::Minutes(10));
  EXPECT_EQ(*parseInstant("0s", now), now);
  EXPECT_EQ(*parseInstant("2024-05-01T11:00:00Z", now), now - absl::Hours(1));
  EXPECT_EQ(parseInstant("-10m", now).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status bad = parseInstant("soon", now).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("RFC 3339"), absl::string_view::npos);
}

TEST(ParseStockChange, NumberSetsSignedNumberMoves) {
  EXPECT_EQ(*parseStockChange("100"), (StockChange{false, 100}));
  EXPECT_EQ(*parseStockChange("0"), (StockChange{false, 0}));
  EXPECT_EQ(*parseStockChange("+5"), (StockChange{true, 5}));
  EXPECT_EQ(*parseStockChange("-3"), (StockChange{true, -3}));
  EXPECT_EQ(*parseStockChange("-0"), (StockChange{true, 0}));
}

TEST(ParseStockChange, RejectsTheRest) {
  for (const char* bad :
       {"", "+", "-", "abc", "1.5", "--5", "+-5", "5x", "1e3", "99999999999999999999"}) {
    EXPECT_EQ(parseStockChange(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << "\"" << bad << "\"";
  }
}

TEST(ParseModes, WordsCaseInsensitiveWithDashes) {
  EXPECT_EQ(*parseOverrideMode("dry_run"), v1::DRY_RUN);
  EXPECT_EQ(*parseOverrideMode("dry-run"), v1::DRY_RUN);
  EXPECT_EQ(*parseOverrideMode("SHED"), v1::SHED);
  EXPECT_EQ(*parseOverrideMode("none"), v1::NONE);
  EXPECT_FALSE(parseOverrideMode("off").ok());

  EXPECT_EQ(*parseOnLimit("reject"), v1::REJECT);
  EXPECT_EQ(*parseOnLimit("queue"), v1::QUEUE);
  EXPECT_EQ(*parseOnLimit("Log"), v1::LOG);
  EXPECT_FALSE(parseOnLimit("drop").ok());

  EXPECT_EQ(*parseBreakerMode("automatic"), v1::AUTOMATIC);
  EXPECT_EQ(*parseBreakerMode("forced_open"), v1::MODE_FORCED_OPEN);
  EXPECT_EQ(*parseBreakerMode("disabled"), v1::MODE_DISABLED);
  EXPECT_EQ(*parseBreakerMode("metrics-only"), v1::MODE_METRICS_ONLY);
  absl::Status bad = parseBreakerMode("open").status();
  EXPECT_EQ(bad.message(),
            "unknown breaker mode \"open\" (automatic, forced_open, disabled, metrics_only)");

  EXPECT_EQ(*parseStrategy("atomic"), v1::ATOMIC);
  EXPECT_EQ(*parseStrategy("fifo"), v1::FIFO);
  EXPECT_EQ(*parseStrategy("optimistic"), v1::OPTIMISTIC);
  EXPECT_EQ(*parseStrategy("counter-gate"), v1::COUNTER_GATE);
  EXPECT_FALSE(parseStrategy("lua").ok());
}

TEST(ExitCode, MapsOutcomes) {
  EXPECT_EQ(exitCode(absl::OkStatus()), 0);
  EXPECT_EQ(exitCode(usageError("give PATH")), 2);
  EXPECT_EQ(exitCode(absl::UnauthenticatedError("token")), 3);
  EXPECT_EQ(exitCode(absl::PermissionDeniedError("viewer")), 3);
  EXPECT_EQ(exitCode(absl::AbortedError("stale")), 4);
  EXPECT_EQ(exitCode(absl::InvalidArgumentError("rate")), 1);  // the engine's, not usage
  EXPECT_EQ(exitCode(absl::UnavailableError("down")), 1);
  EXPECT_EQ(exitCode(absl::NotFoundError("sale")), 1);
  EXPECT_EQ(exitCode(absl::DeadlineExceededError("slow")), 1);
  EXPECT_EQ(exitCode(absl::InternalError("bug")), 1);
}

TEST(ErrorLine, CodeNameThenTheEnginesMessage) {
  absl::Status stale = absl::AbortedError("rule set version 3 is stale: the current version is 4");
  stale.SetPayload("seckill.current_version", absl::Cord("4"));
  EXPECT_EQ(errorLine(stale),
            "seckillctl: ABORTED: rule set version 3 is stale: the current version is 4");
  EXPECT_EQ(errorLine(absl::PermissionDeniedError("viewer")),
            "seckillctl: PERMISSION_DENIED: viewer");
  EXPECT_EQ(errorLine(absl::UnauthenticatedError("bad token")),
            "seckillctl: UNAUTHENTICATED: bad token");
  EXPECT_EQ(errorLine(usageError("rules get: give PATH or --id ID")),
            "seckillctl: rules get: give PATH or --id ID");
  EXPECT_TRUE(isUsageError(usageError("x")));
  EXPECT_FALSE(isUsageError(absl::InvalidArgumentError("x")));
}

}  // namespace
}  // namespace seckill::ctl
