#include "bench/load/user_source.h"

#include <set>

#include "gtest/gtest.h"

namespace seckill::load {
namespace {

// The engine's rule for X-User-Id.
bool isValidUserId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

TEST(RunPrefixTest, ShortValidAndDifferentPerRun) {
  const std::string a = makeRunPrefix(1732700000, 12345);
  const std::string b = makeRunPrefix(1732700000, 12346);
  const std::string c = makeRunPrefix(1732700001, 12345);
  EXPECT_EQ(a.substr(0, 2), "ld");
  EXPECT_EQ(a.size(), 17u);
  EXPECT_EQ(makeRunPrefix(UINT64_MAX, UINT64_MAX).size(), 17u);
  EXPECT_TRUE(isValidUserId(a));
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
}

TEST(UserSourceTest, FreshUsersNeverRepeatAcrossWorkers) {
  const UserSpec fresh{.mode = UserMode::kFresh};
  UserSource w0(fresh, "run1", 0, 7);
  UserSource w1(fresh, "run1", 1, 7);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(seen.insert(w0.next()).second);
    ASSERT_TRUE(seen.insert(w1.next()).second);
  }
  EXPECT_TRUE(seen.contains("run1-0-0"));
  EXPECT_TRUE(seen.contains("run1-1-999"));
  // Another run's prefix gives other ids.
  UserSource other(fresh, "run2", 0, 7);
  EXPECT_FALSE(seen.contains(other.next()));
}

TEST(UserSourceTest, IdsStayValidWithTheLongestPrefix) {
  const std::string prefix(32, 'p');
  UserSource fresh({.mode = UserMode::kFresh}, prefix, 255, 0);
  EXPECT_TRUE(isValidUserId(fresh.next()));
  UserSource pool({.mode = UserMode::kPool, .pool_size = INT64_MAX}, prefix, 255, 0);
  EXPECT_TRUE(isValidUserId(pool.next()));
}

TEST(UserSourceTest, PoolDrawsRepeatFromNUsersSharedByWorkers) {
  const UserSpec pool{.mode = UserMode::kPool, .pool_size = 5};
  UserSource w0(pool, "r", 0, 1);
  UserSource w1(pool, "r", 1, 1);
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    seen.insert(w0.next());
    seen.insert(w1.next());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"r-p0", "r-p1", "r-p2", "r-p3", "r-p4"}));

  UserSource one({.mode = UserMode::kPool, .pool_size = 1}, "r", 3, 9);
  EXPECT_EQ(one.next(), "r-p0");
  EXPECT_EQ(one.next(), "r-p0");
}

TEST(UserSourceTest, PoolDrawsFollowTheSeed) {
  const UserSpec pool{.mode = UserMode::kPool, .pool_size = 1000000};
  UserSource a(pool, "r", 0, 42), b(pool, "r", 0, 42), c(pool, "r", 0, 43);
  std::vector<std::string> da, db, dc;
  for (int i = 0; i < 20; ++i) {
    da.push_back(a.next());
    db.push_back(b.next());
    dc.push_back(c.next());
  }
  EXPECT_EQ(da, db);
  EXPECT_NE(da, dc);
}

TEST(PayDeciderTest, PaysTheFractionEvenly) {
  PayDecider never(0), always(1), half(0.5), quarter(0.25);
  std::vector<bool> halves;
  int quarters = 0;
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(never.payNext());
    EXPECT_TRUE(always.payNext());
    halves.push_back(half.payNext());
    quarters += quarter.payNext() ? 1 : 0;
  }
  EXPECT_EQ(quarters, 25);
  EXPECT_EQ(std::vector<bool>(halves.begin(), halves.begin() + 4),
            (std::vector<bool>{false, true, false, true}));
}

}  // namespace
}  // namespace seckill::load
