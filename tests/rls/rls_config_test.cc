// The [rls] table: parsed as start-up (and --check) read it, unknown keys and bad values
// refused with their line.
#include <string>

#include "engine/app/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace seckill::app {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<EngineConfig> parse(const std::string& toml) { return parseConfig(toml, "rls.toml"); }

TEST(RlsConfigTest, AbsentMeansOffWithDefaults) {
  absl::StatusOr<EngineConfig> c = parse("[http]\nlisten = \"127.0.0.1:8080\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rls.listen, "");
  EXPECT_EQ(c->rls.domain, "seckill");
  EXPECT_EQ(c->rls.max_hits_addend, 1'000'000u);
  c = parse("[rls]\ndomain = \"edge\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rls.listen, "") << "a table without listen leaves the service off";
}

TEST(RlsConfigTest, ParsesEveryKey) {
  absl::StatusOr<EngineConfig> c =
      parse("[rls]\nlisten = \"[::1]:8081\"\ndomain = \"edge.proxy-1\"\nmax_hits_addend = 500\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rls.listen, "[::1]:8081");
  EXPECT_EQ(c->rls.domain, "edge.proxy-1");
  EXPECT_EQ(c->rls.max_hits_addend, 500u);
}

TEST(RlsConfigTest, RefusesBadValuesAndUnknownKeysWithTheirLine) {
  absl::StatusOr<EngineConfig> c = parse(
      "[rls]\n"
      "listen = \"localhost:8081\"\n"
      "domain = \"a/b\"\n"
      "max_hits_addend = 0\n"
      "domian = \"typo\"\n");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("rls.toml:2: rls.listen:"));
  EXPECT_THAT(m, HasSubstr("rls.toml:3: rls.domain must be 1-64 chars of [A-Za-z0-9_.-]"));
  EXPECT_THAT(m, HasSubstr("rls.toml:4: rls.max_hits_addend must be >= 1"));
  EXPECT_THAT(m, HasSubstr("rls.toml:5: unknown key rls.domian"));
  EXPECT_FALSE(parse("[rls]\nmax_hits_addend = 1000000001\n").ok());
  EXPECT_FALSE(parse("[rls]\ndomain = \"\"\n").ok());
  EXPECT_FALSE(parse("[rls]\nlisten = 8081\n").ok());
}

}  // namespace
}  // namespace seckill::app
