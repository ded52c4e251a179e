#include "engine/store/memory/token_log.h"

#include <cctype>
#include <string>

#include "gtest/gtest.h"

namespace seckill {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(TokenLogTest, ATokenIsBoundToItsShopperAndSale) {
  TokenLog log;
  const std::string token = log.issue("drop", "alice", kNow, kNow + absl::Minutes(5));
  ASSERT_EQ(token.size(), 32u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(log.begin(token, "drop", "bob", kNow, false).kind, TokenLog::Begin::kInvalid);
  EXPECT_EQ(log.begin(token, "other", "alice", kNow, false).kind, TokenLog::Begin::kInvalid);
  // The separator keeps "dro"+"palice" apart from "drop"+"alice".
  EXPECT_EQ(log.begin(token, "dro", "palice", kNow, false).kind, TokenLog::Begin::kInvalid);
  EXPECT_EQ(log.begin(token, "drop", "alice", kNow, false).kind, TokenLog::Begin::kStarted);
  // Any one character changed, in the serial or the tag, is refused.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string forged = token;
    forged[i] = forged[i] == '0' ? '1' : '0';
    EXPECT_EQ(log.begin(forged, "drop", "alice", kNow, false).kind, TokenLog::Begin::kInvalid) << i;
  }
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != token) {
    EXPECT_EQ(log.begin(upper, "drop", "alice", kNow, false).kind, TokenLog::Begin::kInvalid);
  }
  EXPECT_EQ(log.begin(token.substr(1), "drop", "alice", kNow, false).kind, TokenLog::Begin::kInvalid);
  EXPECT_EQ(log.begin("", "drop", "alice", kNow, false).kind, TokenLog::Begin::kInvalid);
  // Another log (another store, another key) knows nothing of it.
  TokenLog other;
  EXPECT_EQ(other.begin(token, "drop", "alice", kNow, false).kind, TokenLog::Begin::kInvalid);
}

TEST(TokenLogTest, ExpiresAtItsInstant) {
  TokenLog log;
  const absl::Time expires = kNow + absl::Seconds(10);
  const std::string token = log.issue("drop", "alice", kNow, expires);
  EXPECT_EQ(log.begin(token, "drop", "alice", expires - absl::Nanoseconds(1), false).kind,
            TokenLog::Begin::kStarted);
  EXPECT_EQ(log.begin(token, "drop", "alice", expires, false).kind, TokenLog::Begin::kInvalid);
}

TEST(TokenLogTest, InFlightThenUsedWithItsAnswerOrFreshAgain) {
  TokenLog log;
  const std::string token = log.issue("drop", "alice", kNow, kNow + absl::Minutes(5));
  TokenLog::Use first = log.begin(token, "drop", "alice", kNow, /*start=*/true);
  ASSERT_EQ(first.kind, TokenLog::Begin::kStarted);
  EXPECT_EQ(log.begin(token, "drop", "alice", kNow, true).kind, TokenLog::Begin::kInFlight);
  log.finish(first.serial, TokenLog::kFresh);  // shed: usable again
  TokenLog::Use second = log.begin(token, "drop", "alice", kNow, true);
  ASSERT_EQ(second.kind, TokenLog::Begin::kStarted);
  const uint64_t answer = (uint64_t{2} << TokenLog::kCodeShift) | TokenLog::kOtherId;
  log.finish(second.serial, answer, "order-7");
  TokenLog::Use replay = log.begin(token, "drop", "alice", kNow, true);
  EXPECT_EQ(replay.kind, TokenLog::Begin::kUsed);
  EXPECT_EQ(replay.answer, answer);
  EXPECT_EQ(replay.other_id, "order-7");
}

TEST(TokenLogTest, ExpiredTokensLeaveButOneInFlightStays) {
  TokenLog log;
  std::string busy = log.issue("drop", "alice", kNow, kNow + absl::Seconds(1));
  ASSERT_EQ(log.begin(busy, "drop", "alice", kNow, true).kind, TokenLog::Begin::kStarted);
  for (int i = 0; i < 200; ++i) {
    log.issue("drop", "u" + std::to_string(i), kNow, kNow + absl::Seconds(1));
  }
  EXPECT_EQ(log.size(), 201u);
  const absl::Time later = kNow + absl::Seconds(5);
  std::string fresh;
  for (int i = 0; i < 32; ++i) fresh = log.issue("drop", "v" + std::to_string(i), later, later + absl::Minutes(1));
  // Every shard swept its expired tokens; the one in flight (and those behind it in its shard)
  // stays, and the new ones are valid.
  EXPECT_LT(log.size(), 32u + 1 + 200 / 16 + 1);
  EXPECT_GE(log.size(), 33u);
  EXPECT_EQ(log.begin(fresh, "drop", "v31", later, false).kind, TokenLog::Begin::kStarted);
}

}  // namespace
}  // namespace seckill
