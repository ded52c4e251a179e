#include "engine/core/ratelimit/rule_trie.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

class RuleTrieTest : public ::testing::Test {
 protected:
  // Adds a pattern as the next rule; returns its index.
  uint32_t add(const std::string& pattern, std::optional<std::string> method = std::nullopt) {
    uint32_t index = next_++;
    EXPECT_TRUE(trie_.add(pattern, method, index).ok()) << pattern;
    return index;
  }
  std::vector<uint32_t> match(std::string_view path, std::string_view method = "GET") {
    RuleTrie::Matches m;
    trie_.match(method, path, &m);
    return std::vector<uint32_t>(m.begin(), m.end());
  }

  RuleTrie trie_;
  uint32_t next_ = 0;
};

using V = std::vector<uint32_t>;

TEST_F(RuleTrieTest, LiteralAndWildcardPatternsMatchExactLength) {
  uint32_t orders = add("/api/v1/sales/*/orders");
  uint32_t sale = add("/api/v1/sales/*");
  uint32_t s1 = add("/api/v1/sales/s1");
  EXPECT_EQ(match("/api/v1/sales/s1/orders"), V({orders}));
  EXPECT_EQ(match("/api/v1/sales/s2/orders"), V({orders}));
  EXPECT_EQ(match("/api/v1/sales/s1"), (V{sale, s1}));  // both branches, by position
  EXPECT_EQ(match("/api/v1/sales/s2"), V({sale}));
  EXPECT_EQ(match("/api/v1/sales"), V());
  EXPECT_EQ(match("/api/v1/sales/s1/orders/o1"), V());
  EXPECT_EQ(match("/api/v1/other/s1"), V());
}

TEST_F(RuleTrieTest, DoubleStarCoversItselfAndEverythingBeneathRootDown) {
  uint32_t orders = add("/api/v1/sales/*/orders", "POST");
  uint32_t sale_tree = add("/api/v1/sales/*/**");
  uint32_t api = add("/api/**");
  uint32_t all = add("/**");
  uint32_t api_exact = add("/api");
  EXPECT_EQ(match("/api/v1/sales/s1/orders", "POST"), (V{all, api, sale_tree, orders}));
  EXPECT_EQ(match("/api/v1/sales/s1/orders", "GET"), (V{all, api, sale_tree}));
  EXPECT_EQ(match("/api/v1/sales/s1"), (V{all, api, sale_tree}));  // "**" matches zero segments
  EXPECT_EQ(match("/api/v1/sales"), (V{all, api}));
  EXPECT_EQ(match("/api"), (V{all, api, api_exact}));  // "**" before exact at one depth
  EXPECT_EQ(match("/"), V({all}));
  EXPECT_EQ(match("/health"), V({all}));
}

TEST_F(RuleTrieTest, ShallowerRulesComeFirstWhateverTheirPosition) {
  uint32_t deep = add("/a/b/c");
  uint32_t mid = add("/a/*/**");
  uint32_t top = add("/a/**");
  uint32_t mid_literal = add("/a/b/**");
  EXPECT_EQ(match("/a/b/c"), (V{top, mid, mid_literal, deep}));
}

TEST_F(RuleTrieTest, MethodFilters) {
  uint32_t post = add("/orders", "POST");
  uint32_t any = add("/orders");
  uint32_t get = add("/orders", "GET");
  EXPECT_EQ(match("/orders", "POST"), (V{post, any}));
  EXPECT_EQ(match("/orders", "GET"), (V{any, get}));
  EXPECT_EQ(match("/orders", "DELETE"), V({any}));
  EXPECT_EQ(match("/orders", "post"), V({any}));  // methods are case-sensitive
}

TEST_F(RuleTrieTest, NormalizesTheRequestPath) {
  uint32_t r = add("/api/v1/sales/*");
  EXPECT_EQ(match("/api/v1/sales/s1?verbose=1"), V({r}));
  EXPECT_EQ(match("/api/v1/sales/s1/"), V({r}));
  EXPECT_EQ(match("//api//v1/sales/s1"), V({r}));
  EXPECT_EQ(match("/api/v1/sales/s1#frag"), V({r}));
  EXPECT_EQ(match("/api/v1/sales/s1#frag?x=/y"), V({r}));  // whichever comes first
  EXPECT_EQ(match("/api/v1/sales/s1?x=/y#f/g"), V({r}));
  EXPECT_EQ(match("/API/v1/sales/s1"), V());  // literals are case-sensitive
  EXPECT_EQ(match(""), V());
  uint32_t root = add("/");
  EXPECT_EQ(match(""), V({root}));
  EXPECT_EQ(match("/?x=1"), V({root}));
}

TEST_F(RuleTrieTest, RejectsMalformedPatterns) {
  EXPECT_FALSE(trie_.add("/a/**/b", std::nullopt, 0).ok());
  EXPECT_FALSE(trie_.add("nope", std::nullopt, 0).ok());
}

TEST_F(RuleTrieTest, ManySiblingsDoNotChangeTheAnswer) {
  std::vector<uint32_t> per_sale;
  for (int i = 0; i < 10'000; ++i) per_sale.push_back(add(absl::StrCat("/api/v1/sales/s", i, "/orders"), "POST"));
  uint32_t wildcard = add("/api/v1/sales/*/orders", "POST");
  EXPECT_EQ(match("/api/v1/sales/s4242/orders", "POST"), (V{per_sale[4242], wildcard}));
  EXPECT_EQ(match("/api/v1/sales/zzz/orders", "POST"), V({wildcard}));
  EXPECT_EQ(trie_.nodes(), 1u + 3 + 10'000 * 2 + 2);
}

}  // namespace
}  // namespace seckill::ratelimit
