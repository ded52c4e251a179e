#include "engine/core/ratelimit/rule_set.h"

#include <atomic>

#include "absl/strings/str_cat.h"

namespace seckill::ratelimit {

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::build(std::vector<RuleSpec> specs,
                                                               uint64_t version,
                                                               const StateLookup& lookup,
                                                               const KeyedOptions& options) {
  assignRuleIds(specs);
  if (absl::Status s = validateRules(specs); !s.ok()) return s;
  std::shared_ptr<RuleSet> set(new RuleSet());
  set->version_ = version;
  set->rules_.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    RuleSpec& spec = specs[i];
    std::shared_ptr<KeyedLimiters> state = lookup ? lookup(spec.identity()) : nullptr;
    if (!state) state = KeyedLimiters::create(spec, options);
    if (absl::Status s = set->trie_.add(spec.path, spec.method, static_cast<uint32_t>(i));
        !s.ok()) {
      return s;  // unreachable: validateRules checked the pattern
    }
    set->has_distributed_ = set->has_distributed_ || spec.distributed;
    std::string name = spec.name();
    const uint64_t hash = stableIdentityHash(spec);
    set->rules_.push_back(
        CompiledRule{std::move(spec), std::move(name), std::move(state), hash});
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

std::shared_ptr<const RuleSet> RuleSet::empty() {
  return std::shared_ptr<const RuleSet>(new RuleSet());
}

std::vector<RuleSpec> RuleSet::specs() const {
  std::vector<RuleSpec> out;
  out.reserve(rules_.size());
  for (const CompiledRule& r : rules_) out.push_back(r.spec);
  return out;
}

const CompiledRule* RuleSet::find(std::string_view id) const {
  for (const CompiledRule& r : rules_) {
    if (r.spec.id == id) return &r;
  }
  return nullptr;
}

std::shared_ptr<KeyedLimiters> RuleSet::stateOf(const std::string& identity) const {
  for (const CompiledRule& r : rules_) {
    if (r.spec.identity() == identity) return r.state;
  }
  return nullptr;
}

RuleRegistry::RuleRegistry(RegistryOptions options)
    : options_(std::move(options)), cell_(RuleSet::empty()) {
  absl::MutexLock lock(&mu_);
  history_.push_back(cell_.load());
}

absl::StatusOr<uint64_t> RuleRegistry::install(std::vector<RuleSpec> specs,
                                               const RuleSet* fallback, uint64_t version) {
  std::shared_ptr<const RuleSet> cur = history_.back();
  // Index the states to carry over by identity: the current set first, then the fallback.
  absl::flat_hash_map<std::string, std::shared_ptr<KeyedLimiters>> carry;
  for (const RuleSet* from : {cur.get(), fallback}) {
    if (from == nullptr) continue;
    for (const CompiledRule& r : from->rules()) carry.try_emplace(r.spec.identity(), r.state);
  }
  auto lookup = [&carry](const std::string& identity) -> std::shared_ptr<KeyedLimiters> {
    auto it = carry.find(identity);
    return it == carry.end() ? nullptr : it->second;
  };
  absl::StatusOr<std::shared_ptr<const RuleSet>> built =
      RuleSet::build(std::move(specs), version, lookup, options_.keyed);
  if (!built.ok()) return built.status();
  last_version_ = version;
  history_.push_back(*built);
  while (history_.size() > std::max<size_t>(1, options_.keep_versions)) history_.pop_front();
  cell_.store(*built);
  return last_version_;
}

absl::StatusOr<uint64_t> RuleRegistry::replace(std::vector<RuleSpec> specs) {
  absl::MutexLock lock(&mu_);
  return install(std::move(specs), nullptr, last_version_ + 1);
}

absl::StatusOr<uint64_t> RuleRegistry::replace(std::vector<RuleSpec> specs, uint64_t version) {
  absl::MutexLock lock(&mu_);
  return install(std::move(specs), nullptr, version);
}

absl::StatusOr<uint64_t> RuleRegistry::rollback(uint64_t version) {
  absl::MutexLock lock(&mu_);
  for (const auto& set : history_) {
    if (set->version() == version) {
      std::shared_ptr<const RuleSet> keep = set;  // install() may pop it from history_
      return install(keep->specs(), keep.get(), last_version_ + 1);
    }
  }
  return absl::NotFoundError(absl::StrCat("rule set version ", version, " is not kept"));
}

std::vector<uint64_t> RuleRegistry::versions() const {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (const auto& set : history_) out.push_back(set->version());
  return out;
}

size_t RuleRegistry::evictIdle(absl::Time now) const {
  std::shared_ptr<const RuleSet> set = current();
  size_t n = 0;
  for (const CompiledRule& r : set->rules()) n += r.state->evictIdle(now);
  return n;
}

}  // namespace seckill::ratelimit
