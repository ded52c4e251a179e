// The start-up check of the Redis servers' settings: the sentences, from
// given CONFIG values (the real CONFIG GET runs in production_e2e_test).
#include "engine/app/redis_checks.h"

#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> warningsFor(const std::map<std::string, std::string>& settings) {
  return redisSettingWarnings("10.0.0.5:6379", [&](std::string_view name) {
    auto it = settings.find(std::string(name));
    return it == settings.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

TEST(RedisChecksTest, TheRecommendedSettingsSayNothing) {
  EXPECT_THAT(warningsFor({{"maxmemory-policy", "noeviction"},
                           {"appendonly", "yes"},
                           {"appendfsync", "everysec"}}),
              IsEmpty());
  EXPECT_THAT(warningsFor({{"maxmemory-policy", "noeviction"},
                           {"appendonly", "yes"},
                           {"appendfsync", "always"}}),
              IsEmpty());
}

TEST(RedisChecksTest, AnEvictingPolicyIsNamed) {
  for (const char* policy : {"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                             "volatile-ttl"}) {
    std::vector<std::string> w = warningsFor(
        {{"maxmemory-policy", policy}, {"appendonly", "yes"}, {"appendfsync", "everysec"}});
    ASSERT_THAT(w, SizeIs(1)) << policy;
    EXPECT_THAT(w[0], HasSubstr(std::string("redis 10.0.0.5:6379: maxmemory-policy is ") + policy));
    EXPECT_THAT(w[0], HasSubstr("set maxmemory-policy noeviction"));
  }
}

TEST(RedisChecksTest, NoAofOrNoFsyncIsNamed) {
  std::vector<std::string> off = warningsFor(
      {{"maxmemory-policy", "noeviction"}, {"appendonly", "no"}, {"appendfsync", "everysec"}});
  ASSERT_THAT(off, SizeIs(1));
  EXPECT_THAT(off[0], HasSubstr("appendonly is no"));
  std::vector<std::string> lazy = warningsFor(
      {{"maxmemory-policy", "noeviction"}, {"appendonly", "yes"}, {"appendfsync", "no"}});
  ASSERT_THAT(lazy, SizeIs(1));
  EXPECT_THAT(lazy[0], HasSubstr("appendfsync is no"));
  EXPECT_THAT(warningsFor({{"maxmemory-policy", "allkeys-lru"}, {"appendonly", "no"}}), SizeIs(2));
}

TEST(RedisChecksTest, UnreadableSettingsAreOneSentence) {
  EXPECT_THAT(warningsFor({}),
              ElementsAre(HasSubstr("redis 10.0.0.5:6379: its settings cannot be read")));
}

}  // namespace
}  // namespace seckill::app
