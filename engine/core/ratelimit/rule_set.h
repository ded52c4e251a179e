#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/ratelimit/keyed_limiters.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/ratelimit/rule_trie.h"
#include "engine/core/snapshot_cell.h"

namespace seckill::ratelimit {

// One rule of a set: its spec, its name and its state (shared with other versions).
struct CompiledRule {
  RuleSpec spec;
  std::string name;  // spec.name(), computed once
  std::shared_ptr<KeyedLimiters> state;
  uint64_t identity_hash = 0;  // stableIdentityHash(spec), computed once
};

// An immutable, versioned snapshot of the rules: specs, trie and each rule's state. Readers
// evaluate a whole request against one RuleSet, so they never see a mix of two versions.
class RuleSet {
 public:
  // Returns the state to reuse for a rule identity, or nullptr for a fresh one.
  using StateLookup = std::function<std::shared_ptr<KeyedLimiters>(const std::string& identity)>;

  // Validates `specs` (see validateRules) and builds the set; rule states come from `lookup`
  // when it knows the identity, else are created with `options`.
  static absl::StatusOr<std::shared_ptr<const RuleSet>> build(std::vector<RuleSpec> specs,
                                                              uint64_t version,
                                                              const StateLookup& lookup,
                                                              const KeyedOptions& options);
  // The empty set, version 0.
  static std::shared_ptr<const RuleSet> empty();

  uint64_t version() const { return version_; }
  const std::vector<CompiledRule>& rules() const { return rules_; }
  const RuleTrie& trie() const { return trie_; }
  // True iff some rule has distributed = true.
  bool hasDistributed() const { return has_distributed_; }
  std::vector<RuleSpec> specs() const;
  // The rule with this id, or nullptr.
  const CompiledRule* find(std::string_view id) const;
  // The state of the rule with this identity, or nullptr.
  std::shared_ptr<KeyedLimiters> stateOf(const std::string& identity) const;

 private:
  RuleSet() = default;
  uint64_t version_ = 0;
  bool has_distributed_ = false;
  std::vector<CompiledRule> rules_;
  RuleTrie trie_;
};

struct RegistryOptions {
  size_t keep_versions = 8;  // sets kept for rollback, the current one included
  KeyedOptions keyed;
};

// Holds the current RuleSet and its recent predecessors. replace() and rollback() are
// serialized by a mutex; snapshot() is the lock-free hot path (see SnapshotCell).
class RuleRegistry {
 public:
  explicit RuleRegistry(RegistryOptions options = {});
  RuleRegistry(const RuleRegistry&) = delete;
  RuleRegistry& operator=(const RuleRegistry&) = delete;

  // Validates `specs` and, if valid, makes them the current set atomically under the next
  // version number, which it returns. Rules whose identity is unchanged keep their state and
  // counters. An invalid set is rejected whole (InvalidArgument naming the rule) and the
  // running set stays.
  absl::StatusOr<uint64_t> replace(std::vector<RuleSpec> specs);
  // The same under a version chosen by the caller (the control plane numbers versions for every
  // node sharing a state); later replace() calls count on from it.
  absl::StatusOr<uint64_t> replace(std::vector<RuleSpec> specs, uint64_t version);

  // Makes the specs of a kept `version` current again, under a new version number (versions
  // only grow), which it returns. States are taken from the current set by identity, then from
  // that old set, so a rollback resets no limit that either still holds. NotFound if `version`
  // is no longer kept.
  absl::StatusOr<uint64_t> rollback(uint64_t version);

  // The current set; for the hot path. The reference stays valid until this thread's next
  // snapshot() call on any registry.
  const RuleSet& snapshot() const { return cell_.read(); }
  // The current set, shared: lock-free like snapshot(), plus one reference-count increment;
  // for evaluations that finish asynchronously (distributed rules).
  std::shared_ptr<const RuleSet> snapshotShared() const { return cell_.readShared(); }
  // The current set by a locked copy; for admin and metrics.
  std::shared_ptr<const RuleSet> current() const { return cell_.load(); }
  // Kept versions, oldest first (the last is current).
  std::vector<uint64_t> versions() const;
  // evictIdle(now) on every rule state of the current set; for the periodic tick.
  size_t evictIdle(absl::Time now) const;

 private:
  absl::StatusOr<uint64_t> install(std::vector<RuleSpec> specs, const RuleSet* fallback,
                                   uint64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RegistryOptions options_;
  mutable absl::Mutex mu_;
  uint64_t last_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<const RuleSet>> history_ ABSL_GUARDED_BY(mu_);
  SnapshotCell<RuleSet> cell_;
};

}  // namespace seckill::ratelimit
