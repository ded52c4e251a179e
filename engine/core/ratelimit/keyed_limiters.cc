#include "engine/core/ratelimit/keyed_limiters.h"

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/ratelimit/algorithms.h"
#include "engine/core/ratelimit/compact_table.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {

namespace {

uint64_t hashKey(std::string_view key) {
  uint64_t h = absl::Hash<absl::string_view>{}(av(key));
  return h != 0 ? h : 1;  // 0 marks an empty slot
}

template <class Policy>
class KeyedLimitersImpl final : public KeyedLimiters {
  using State = typename Policy::State;

 public:
  KeyedLimitersImpl(const RuleSpec& rule, const KeyedOptions& options)
      : policy_(rule), options_(options), global_(rule.scope == ScopeKind::kGlobal) {
    if (global_) return;
    size_t n = 1;
    while (n < std::max<size_t>(1, options.shards)) n *= 2;
    shard_bits_ = 0;
    while ((size_t{1} << shard_bits_) < n) ++shard_bits_;
    shards_.reset(new Shard[n]);
    num_shards_ = n;
    per_shard_cap_ = std::max<size_t>(1, options.max_keys / n);
    options_.sweep_every = std::max<uint32_t>(1, options.sweep_every);
  }

  using KeyedLimiters::acquire;
  Decision acquire(std::string_view key, absl::Time now, absl::Duration max_wait,
                   uint32_t hits) override {
    const int64_t now_ns = absl::ToUnixNanos(now);
    const int64_t max_wait_ns = absl::ToInt64Nanoseconds(max_wait);
    if (global_) {
      absl::MutexLock lock(&global_mu_);
      return policy_.acquire(global_state_, now_ns, max_wait_ns, hits);
    }
    const uint64_t h = hashKey(key);
    Shard& sh = shards_[shard_bits_ == 0 ? 0 : h >> (64 - shard_bits_)];
    absl::MutexLock lock(&sh.mu);
    auto fresh = [&](const State& s) { return policy_.isFresh(s, now_ns); };
    if (++sh.ops >= options_.sweep_every) {
      sh.ops = 0;
      sh.table.sweep(options_.sweep_batch, fresh);
    }
    State* s = sh.table.find(h);
    if (s == nullptr) {
      if (sh.table.size() >= per_shard_cap_) sh.table.sweep(size_t{4} * options_.sweep_batch, fresh);
      if (sh.table.size() >= per_shard_cap_) {
        counters().add(RuleCounters::kOverflowed);
        return policy_.acquire(sh.overflow, now_ns, max_wait_ns, hits);
      }
      s = sh.table.insert(h);
    }
    return policy_.acquire(*s, now_ns, max_wait_ns, hits);
  }

  size_t evictIdle(absl::Time now) override {
    if (global_) return 0;
    const int64_t now_ns = absl::ToUnixNanos(now);
    size_t erased = 0;
    for (size_t i = 0; i < num_shards_; ++i) {
      Shard& sh = shards_[i];
      absl::MutexLock lock(&sh.mu);
      erased += sh.table.sweep(sh.table.capacity(),
                               [&](const State& s) { return policy_.isFresh(s, now_ns); });
      sh.table.shrinkToFit();
    }
    return erased;
  }

  size_t size() const override {
    size_t n = 0;
    for (size_t i = 0; i < num_shards_; ++i) {
      absl::MutexLock lock(&shards_[i].mu);
      n += shards_[i].table.size();
    }
    return n;
  }

 private:
  struct alignas(64) Shard {
    mutable absl::Mutex mu;
    CompactTable<State> table ABSL_GUARDED_BY(mu);
    State overflow ABSL_GUARDED_BY(mu);  // shared by keys beyond the cap
    uint32_t ops ABSL_GUARDED_BY(mu) = 0;
  };

  const Policy policy_;
  KeyedOptions options_;
  const bool global_;
  absl::Mutex global_mu_;
  State global_state_ ABSL_GUARDED_BY(global_mu_);
  std::unique_ptr<Shard[]> shards_;
  size_t num_shards_ = 0;
  int shard_bits_ = 0;
  size_t per_shard_cap_ = 0;
};

}  // namespace

std::shared_ptr<KeyedLimiters> KeyedLimiters::create(const RuleSpec& rule,
                                                     const KeyedOptions& options) {
  switch (rule.algorithm) {
    case Algorithm::kTokenBucket:
      return std::make_shared<KeyedLimitersImpl<TokenBucketPolicy>>(rule, options);
    case Algorithm::kLeakyBucket:
      return std::make_shared<KeyedLimitersImpl<LeakyBucketPolicy>>(rule, options);
    case Algorithm::kSlidingWindow:
      return std::make_shared<KeyedLimitersImpl<SlidingWindowPolicy>>(rule, options);
    case Algorithm::kSlidingLog:
      return std::make_shared<KeyedLimitersImpl<SlidingLogPolicy>>(rule, options);
  }
  return nullptr;
}

}  // namespace seckill::ratelimit
