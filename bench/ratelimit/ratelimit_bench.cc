// Microbenchmarks of traffic control: the trie lookup with 10,000 rules, each algorithm's
// decision cost (one state, and keyed over many keys), the whole evaluator, and the memory per
// tracked key. Figures are recorded in docs/benchmarks.md.
#include <malloc.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "engine/core/ratelimit/keyed_limiters.h"
#include "engine/core/ratelimit/limiter.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/ratelimit/rule_trie.h"

namespace seckill::ratelimit {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

RuleSpec spec(std::string path, Algorithm a, ScopeKind scope, int64_t rate, int64_t burst = 1) {
  RuleSpec r;
  r.path = std::move(path);
  r.algorithm = a;
  r.scope = scope;
  r.rate = rate;
  r.burst = burst;
  return r;
}

// `n` rules: a few shared layers plus per-sale rules spread over n sale ids, the shape of a
// big deployment ("/api/v1/sales/s<i>/orders" with its own limit per sale).
std::vector<RuleSpec> manyRules(int n) {
  std::vector<RuleSpec> rules;
  rules.push_back(spec("/api/**", Algorithm::kTokenBucket, ScopeKind::kGlobal, 100000, 1000));
  rules.push_back(spec("/api/v1/sales/*/**", Algorithm::kTokenBucket, ScopeKind::kGlobal, 50000, 500));
  RuleSpec per_user = spec("/api/v1/sales/*/orders", Algorithm::kTokenBucket, ScopeKind::kUser, 1);
  per_user.method = "POST";
  rules.push_back(per_user);
  for (int i = 0; static_cast<int>(rules.size()) < n; ++i) {
    RuleSpec r = spec(absl::StrCat("/api/v1/sales/s", i, "/orders"), Algorithm::kSlidingWindow,
                      ScopeKind::kGlobal, 5000);
    r.method = "POST";
    rules.push_back(r);
  }
  return rules;
}

std::vector<std::string> salePaths(int sales, int count) {
  std::mt19937_64 rng(7);
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    paths.push_back(absl::StrCat("/api/v1/sales/s", rng() % sales, "/orders"));
  }
  return paths;
}

// Trie lookup alone; the argument is the number of rules. The cost must not grow with it.
void BM_TrieMatch(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<RuleSpec> rules = manyRules(n);
  RuleTrie trie;
  for (size_t i = 0; i < rules.size(); ++i) {
    (void)trie.add(rules[i].path, rules[i].method, static_cast<uint32_t>(i));
  }
  std::vector<std::string> paths = salePaths(std::max(1, n - 3), 4096);
  RuleTrie::Matches m;
  size_t i = 0;
  for (auto _ : state) {
    trie.match("POST", paths[i++ & 4095], &m);
    benchmark::DoNotOptimize(m.data());
  }
  state.counters["matches"] = static_cast<double>(m.size());
}
BENCHMARK(BM_TrieMatch)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

// One state (global scope): the algorithm's own cost plus one uncontended mutex.
void BM_Decision(benchmark::State& state) {
  const auto a = static_cast<Algorithm>(state.range(0));
  RuleSpec r = spec("/x", a, ScopeKind::kGlobal, a == Algorithm::kSlidingLog ? 1000 : 1'000'000, 100);
  std::unique_ptr<Limiter> l = makeLimiter(r);
  absl::Time now = kStart;
  int64_t allowed = 0;
  for (auto _ : state) {
    now += absl::Nanoseconds(500);
    allowed += l->acquire(now, absl::ZeroDuration()).kind == Decision::kAllow;
  }
  state.SetLabel(std::string(algorithmName(a)));
  state.counters["allowed%"] = 100.0 * static_cast<double>(allowed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Decision)->DenseRange(0, 3);

// Keyed (per user) over 100k users: hash, shard lock, table probe, decision, amortized sweep.
void BM_KeyedDecision(benchmark::State& state) {
  const auto a = static_cast<Algorithm>(state.range(0));
  auto k = KeyedLimiters::create(spec("/x", a, ScopeKind::kUser, 10, 5), KeyedOptions{});
  constexpr int kUsers = 100'000;
  std::vector<std::string> users;
  for (int i = 0; i < kUsers; ++i) users.push_back(absl::StrCat("user-", i));
  absl::Time now = kStart;
  for (const auto& u : users) k->acquire(u, now, absl::ZeroDuration());
  std::mt19937 rng(1);
  size_t i = 0;
  for (auto _ : state) {
    now += absl::Nanoseconds(100);
    benchmark::DoNotOptimize(k->acquire(users[(i++ * 7919) % kUsers], now, absl::ZeroDuration()));
  }
  state.SetLabel(std::string(algorithmName(a)));
  state.counters["keys"] = static_cast<double>(k->size());
}
BENCHMARK(BM_KeyedDecision)->DenseRange(0, 3);

// The whole evaluator on the 10k-rule set: snapshot, override check, trie, 4 rules decided.
void BM_Check10kRules(benchmark::State& state) {
  RuleRegistry registry;
  if (!registry.replace(manyRules(10'000)).ok()) {
    state.SkipWithError("rules rejected");
    return;
  }
  RateLimiter limiter(registry);
  std::vector<std::string> paths = salePaths(9'997, 4096);
  std::vector<std::string> users;
  for (int i = 0; i < 4096; ++i) users.push_back(absl::StrCat("user-", i * 31));
  absl::Time now = kStart;
  size_t i = 0;
  for (auto _ : state) {
    now += absl::Nanoseconds(200);
    RequestInfo req{.method = "POST", .path = paths[i & 4095], .user_id = users[(i * 13) & 4095],
                    .ip = "10.0.0.1"};
    benchmark::DoNotOptimize(limiter.check(req, now));
    ++i;
  }
}
BENCHMARK(BM_Check10kRules);

// Memory per tracked key: allocator bytes in use after tracking 1M keys, per key.
void BM_BytesPerKey(benchmark::State& state) {
  const auto a = static_cast<Algorithm>(state.range(0));
  constexpr int kKeys = 1'000'000;
  std::vector<std::string> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back(absl::StrCat("user-", i));
  double per_key = 0;
  for (auto _ : state) {
    malloc_trim(0);
    struct mallinfo2 before = mallinfo2();
    auto k = KeyedLimiters::create(spec("/x", a, ScopeKind::kUser, 100, 10), KeyedOptions{});
    for (const auto& key : keys) k->acquire(key, kStart, absl::ZeroDuration());
    struct mallinfo2 after = mallinfo2();
    per_key = static_cast<double>((after.uordblks + after.hblkhd) -
                                  (before.uordblks + before.hblkhd)) / kKeys;
  }
  state.SetLabel(std::string(algorithmName(a)));
  state.counters["bytes/key"] = per_key;
}
BENCHMARK(BM_BytesPerKey)->DenseRange(0, 3)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seckill::ratelimit

int main(int argc, char** argv) {
  // Debian's abseil is built with mutex deadlock detection on (a graph update per lock);
  // production turns it off the same way (see the report in docs/benchmarks.md).
  if (std::getenv("SECKILL_BENCH_DEADLOCK_DETECTION") == nullptr) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
