#include "engine/admin/token_auth.h"

#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace seckill::admin {
namespace {

using ::testing::HasSubstr;

TEST(TokenTableTest, ParsesRolesNamesAndComments) {
  absl::StatusOr<TokenTable> t = TokenTable::parse(
      "# operators\n"
      "op-token-0123456789abcdef operator alice\n"
      "\n"
      "   view-token-0123456789abcdef   viewer   bob  \n",
      "tokens");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 2u);
  std::optional<Principal> alice = t->find("op-token-0123456789abcdef");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kOperator);
  EXPECT_EQ(t->find("view-token-0123456789abcdef")->role, Role::kViewer);
  EXPECT_FALSE(t->find("op-token-0123456789abcdeF").has_value());
  EXPECT_FALSE(t->find("").has_value());
}

TEST(TokenTableTest, RefusesWhatIsNotATokenLineNamingTheLine) {
  EXPECT_THAT(TokenTable::parse("short operator a\n", "f").status().message(),
              HasSubstr("f:1: token shorter than 16"));
  EXPECT_THAT(TokenTable::parse("\nop-token-0123456789abcdef admin a\n", "f").status().message(),
              HasSubstr("f:2: unknown role \"admin\""));
  EXPECT_THAT(TokenTable::parse("op-token-0123456789abcdef operator\n", "f").status().message(),
              HasSubstr("expected \"<token> <role> <name>\""));
  EXPECT_THAT(TokenTable::parse("op-token-0123456789abcdef operator a\n"
                                "op-token-0123456789abcdef viewer b\n",
                                "f")
                  .status()
                  .message(),
              HasSubstr("f:2: the same token"));
}

TEST(TokenTableTest, AFileOtherUsersMayReadIsRefused) {
  testing::TempDir dir("seckill-tokens");
  const std::string path = dir.write("tokens", "op-token-0123456789abcdef operator alice\n");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  absl::StatusOr<TokenTable> loose = TokenTable::load(path);
  ASSERT_TRUE(absl::IsPermissionDenied(loose.status()));
  EXPECT_THAT(loose.status().message(), HasSubstr("other users may read"));
  EXPECT_THAT(loose.status().message(), HasSubstr("chmod o-rw"));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_TRUE(TokenTable::load(path).ok());
  EXPECT_TRUE(absl::IsNotFound(TokenTable::load(path + ".missing").status()));
}

TEST(AdminTokensTest, AReplacedTableTakesEffectAtOnce) {
  AdminTokens tokens(*TokenTable::parse("old-token-0123456789abcdef operator a\n", "f"));
  EXPECT_TRUE(tokens.find("old-token-0123456789abcdef").has_value());
  tokens.replace(*TokenTable::parse("new-token-0123456789abcdef viewer b\n", "f"));
  EXPECT_FALSE(tokens.find("old-token-0123456789abcdef").has_value());
  EXPECT_EQ(tokens.find("new-token-0123456789abcdef")->name, "b");
}

}  // namespace
}  // namespace seckill::admin
