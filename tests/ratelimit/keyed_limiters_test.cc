#include "engine/core/ratelimit/keyed_limiters.h"

#include <malloc.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/clock.h"
#include "engine/core/ratelimit/compact_table.h"
#include "engine/core/strings.h"
#include "gtest/gtest.h"

namespace seckill::ratelimit {
namespace {

using absl::Milliseconds;
using absl::Seconds;

RuleSpec spec(Algorithm a, ScopeKind scope, int64_t rate, int64_t burst = 1) {
  RuleSpec r;
  r.path = "/x";
  r.algorithm = a;
  r.scope = scope;
  r.rate = rate;
  r.burst = burst;
  return r;
}

bool allowed(KeyedLimiters& k, std::string_view key, absl::Time now) {
  return k.acquire(key, now, absl::ZeroDuration()).kind == Decision::kAllow;
}

TEST(CompactTableTest, InsertFindSweepAcrossGrowth) {
  CompactTable<int64_t> t;
  for (uint64_t k = 1; k <= 10'000; ++k) *t.insert(k * 7919) = static_cast<int64_t>(k);
  EXPECT_EQ(t.size(), 10'000u);
  EXPECT_GE(t.capacity() * 3, t.size() * 4);
  for (uint64_t k = 1; k <= 10'000; ++k) {
    int64_t* v = t.find(k * 7919);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, static_cast<int64_t>(k));
  }
  EXPECT_EQ(t.find(3), nullptr);
  // Erase the odd values with a full sweep; every even one must still be found.
  size_t erased = t.sweep(t.capacity(), [](int64_t v) { return v % 2 == 1; });
  EXPECT_EQ(erased, 5'000u);
  EXPECT_EQ(t.size(), 5'000u);
  for (uint64_t k = 1; k <= 10'000; ++k) {
    EXPECT_EQ(t.find(k * 7919) != nullptr, k % 2 == 0) << k;
  }
  t.sweep(t.capacity(), [](int64_t v) { return v > 100; });
  EXPECT_EQ(t.size(), 50u);
  t.shrinkToFit();
  EXPECT_LE(t.capacity(), 128u);
  for (uint64_t k = 2; k <= 100; k += 2) EXPECT_NE(t.find(k * 7919), nullptr);
}

TEST(KeyedLimitersTest, KeysHaveTheirOwnBudgetGlobalSharesOne) {
  ManualClock clock;
  auto user = KeyedLimiters::create(spec(Algorithm::kTokenBucket, ScopeKind::kUser, 1, 2), {});
  EXPECT_TRUE(allowed(*user, "alice", clock.now()));
  EXPECT_TRUE(allowed(*user, "alice", clock.now()));
  EXPECT_FALSE(allowed(*user, "alice", clock.now()));
  EXPECT_TRUE(allowed(*user, "bob", clock.now()));
  EXPECT_TRUE(allowed(*user, "", clock.now()));  // the empty key is a key like any other
  EXPECT_EQ(user->size(), 3u);

  auto global = KeyedLimiters::create(spec(Algorithm::kTokenBucket, ScopeKind::kGlobal, 1, 2), {});
  EXPECT_TRUE(allowed(*global, "alice", clock.now()));
  EXPECT_TRUE(allowed(*global, "bob", clock.now()));
  EXPECT_FALSE(allowed(*global, "carol", clock.now()));
  EXPECT_EQ(global->size(), 0u);
}

TEST(KeyedLimitersTest, EvictsOnlyStatesEquivalentToFresh) {
  ManualClock clock;
  for (Algorithm a : {Algorithm::kTokenBucket, Algorithm::kLeakyBucket, Algorithm::kSlidingWindow,
                      Algorithm::kSlidingLog}) {
    SCOPED_TRACE(algorithmName(a));
    auto k = KeyedLimiters::create(spec(a, ScopeKind::kIp, 2), {});
    const absl::Time t0 = clock.now();
    EXPECT_TRUE(allowed(*k, "10.0.0.1", t0));
    while (allowed(*k, "10.0.0.1", t0)) {
    }
    EXPECT_EQ(k->evictIdle(t0 + Milliseconds(100)), 0u);  // still limited: must stay
    EXPECT_FALSE(allowed(*k, "10.0.0.1", t0 + Milliseconds(100)));
    EXPECT_EQ(k->size(), 1u);
    EXPECT_EQ(k->evictIdle(t0 + Seconds(2)), 1u);  // every algorithm is fresh 2 windows on
    EXPECT_EQ(k->size(), 0u);
    EXPECT_TRUE(allowed(*k, "10.0.0.1", t0 + Seconds(2)));
    clock.advance(Seconds(10));
  }
}

TEST(KeyedLimitersTest, EvictsIncrementallyInsideAcquire) {
  ManualClock clock;
  KeyedOptions o;
  o.shards = 1;
  o.sweep_every = 4;
  o.sweep_batch = 16;
  auto k = KeyedLimiters::create(spec(Algorithm::kTokenBucket, ScopeKind::kUser, 10), o);
  for (int i = 0; i < 1000; ++i) allowed(*k, absl::StrCat("u", i), clock.now());
  EXPECT_EQ(k->size(), 1000u);
  clock.advance(Seconds(1));
  // Traffic from one key sweeps the table a few slots at a time: 1000 keys in < 2048 slots
  // need 128 sweeps of 16 = 512 acquires.
  for (int i = 0; i < 600; ++i) allowed(*k, "busy", clock.now() + Milliseconds(i * 100));
  EXPECT_EQ(k->size(), 1u);
}

TEST(KeyedLimitersTest, HardCapSendsNewKeysToAnOverflowState) {
  ManualClock clock;
  KeyedOptions o;
  o.shards = 1;
  o.max_keys = 4;
  auto k = KeyedLimiters::create(spec(Algorithm::kTokenBucket, ScopeKind::kUser, 1, 1), o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(allowed(*k, absl::StrCat("u", i), clock.now()));
  EXPECT_EQ(k->size(), 4u);
  // Full of limited keys: newcomers share one overflow bucket; tracked keys keep their state.
  EXPECT_TRUE(allowed(*k, "new1", clock.now()));
  EXPECT_FALSE(allowed(*k, "new2", clock.now()));
  EXPECT_EQ(k->counters().overflowed(), 2u);
  EXPECT_FALSE(allowed(*k, "u0", clock.now()));
  EXPECT_EQ(k->size(), 4u);
  // Once tracked keys are idle (refilled), they make room.
  clock.advance(Seconds(1));
  EXPECT_TRUE(allowed(*k, "new2", clock.now()));
  EXPECT_EQ(k->counters().overflowed(), 2u);
  EXPECT_LE(k->size(), 4u);
}

TEST(KeyedLimitersTest, ConcurrentKeysAdmitExactlyTheirBudget) {
  ManualClock clock;
  auto k = KeyedLimiters::create(spec(Algorithm::kSlidingLog, ScopeKind::kUser, 5), {});
  constexpr int kThreads = 4;
  constexpr int kUsers = 200;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 10; ++round) {
        for (int u = 0; u < kUsers; ++u) admitted += allowed(*k, absl::StrCat("u", u), clock.now());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), kUsers * 5);
  EXPECT_EQ(k->size(), static_cast<size_t>(kUsers));
}

// Allocator bytes in use (small blocks + mmapped blocks).
size_t heapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Bytes per tracked key with 1M keys. The allocator's own figure, so under ASan (which
// replaces malloc) it means nothing: skipped there.
TEST(KeyedLimitersTest, MemoryPerTrackedKeyIsAtMost128Bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "allocator statistics are not meaningful under a sanitizer";
#endif
  constexpr int kKeys = 1'000'000;
  ManualClock clock;
  std::vector<std::string> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back(absl::StrCat("user-", i));
  for (Algorithm a : {Algorithm::kTokenBucket, Algorithm::kLeakyBucket, Algorithm::kSlidingWindow,
                      Algorithm::kSlidingLog}) {
    malloc_trim(0);
    const size_t before = heapInUse();
    auto k = KeyedLimiters::create(spec(a, ScopeKind::kUser, 100, 10), {});
    for (const std::string& key : keys) allowed(*k, key, clock.now());
    ASSERT_EQ(k->size(), static_cast<size_t>(kKeys));
    const double per_key = static_cast<double>(heapInUse() - before) / kKeys;
    std::printf("[ bytes/key ] %-14s %.1f\n", std::string(algorithmName(a)).c_str(), per_key);
    RecordProperty(absl::StrCat("bytes_per_key_", av(algorithmName(a))), static_cast<int>(per_key));
    EXPECT_LE(per_key, 128.0) << algorithmName(a);
  }
}

}  // namespace
}  // namespace seckill::ratelimit
