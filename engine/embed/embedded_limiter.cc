#include "engine/embed/embedded_limiter.h"

#include <algorithm>
#include <span>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_join.h"
#include "engine/config/rule_file.h"

namespace seckill::ratelimit {
namespace {

RegistryOptions registryOptions(const EmbeddedLimiterOptions& o) {
  RegistryOptions r;
  r.keep_versions = std::max<size_t>(o.keep_versions, 1);
  r.keyed = o.keyed;
  return r;
}

template <class T>
absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> startedWith(absl::StatusOr<T> loaded,
                                                             EmbeddedLimiterOptions options) {
  if (!loaded.ok()) return loaded.status();
  auto limiter = std::make_unique<EmbeddedLimiter>(std::move(options));
  if (absl::StatusOr<uint64_t> v = limiter->replaceRules(*std::move(loaded)); !v.ok()) {
    return v.status();
  }
  return limiter;
}

}  // namespace

EmbeddedLimiter::EmbeddedLimiter(Options options)
    : registry_(registryOptions(options)),
      limiter_(registry_),
      header_names_(std::make_shared<const HeaderNames>()) {}

absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> EmbeddedLimiter::create(RuleDocument rules,
                                                                         Options options) {
  return startedWith(absl::StatusOr<RuleDocument>(std::move(rules)), std::move(options));
}

absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> EmbeddedLimiter::fromToml(
    std::string_view toml, std::string_view source_name, Options options) {
  return startedWith(config::parseRuleFile(toml, source_name), std::move(options));
}

absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> EmbeddedLimiter::fromFile(const std::string& path,
                                                                           Options options) {
  return startedWith(config::loadRuleFile(path), std::move(options));
}

absl::StatusOr<uint64_t> EmbeddedLimiter::replaceRules(RuleDocument rules) {
  // The engine's check, whole: every rule's fields, the conflicts between rules, the overrides.
  control::normalize(rules);
  if (std::vector<RuleProblem> problems = control::checkDocument(rules); !problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(
        problems, "\n", [](std::string* out, const RuleProblem& p) { out->append(p.message); }));
  }
  absl::MutexLock lock(&swap_mu_);
  // While the rules swap, decisions may meet either set: give the key to both sets' headers.
  const std::shared_ptr<const RuleSet> before = registry_.current();
  publishHeaderNames(before->specs(), rules.rules);
  absl::StatusOr<uint64_t> version = registry_.replace(rules.rules);
  if (!version.ok()) {
    publishHeaderNames(before->specs(), {});
    return version.status();
  }
  if (absl::Status s = limiter_.replaceOverrides(std::move(rules.overrides)); !s.ok()) {
    return s;  // not reached: checkDocument() checked the prefixes
  }
  publishHeaderNames(rules.rules, {});
  return version;
}

absl::StatusOr<uint64_t> EmbeddedLimiter::replaceRulesFromToml(std::string_view toml,
                                                               std::string_view source_name) {
  absl::StatusOr<RuleDocument> doc = config::parseRuleFile(toml, source_name);
  if (!doc.ok()) return doc.status();
  return replaceRules(*std::move(doc));
}

absl::StatusOr<uint64_t> EmbeddedLimiter::replaceRulesFromFile(const std::string& path) {
  absl::StatusOr<RuleDocument> doc = config::loadRuleFile(path);
  if (!doc.ok()) return doc.status();
  return replaceRules(*std::move(doc));
}

Verdict EmbeddedLimiter::decide(std::string_view method, std::string_view path,
                                std::string_view key, absl::Time now) const {
  const HeaderNames& names = header_names_.read();
  absl::InlinedVector<RequestInfo::Header, 4> headers;
  for (const std::string& name : names.names) headers.push_back({name, key});
  RequestInfo request{
      .method = method,
      .path = path,
      .user_id = key,
      .ip = key,
      .headers = std::span<const RequestInfo::Header>(headers.data(), headers.size())};
  return limiter_.check(request, now);
}

Verdict EmbeddedLimiter::decide(const RequestInfo& request, absl::Time now) const {
  return limiter_.check(request, now);
}

absl::Status EmbeddedLimiter::setOverride(std::string_view prefix, OverrideMode mode) {
  absl::MutexLock lock(&swap_mu_);
  return limiter_.setOverride(prefix, mode);
}

void EmbeddedLimiter::clearOverride(std::string_view prefix) {
  absl::MutexLock lock(&swap_mu_);
  limiter_.clearOverride(prefix);
}

uint64_t EmbeddedLimiter::version() const { return registry_.current()->version(); }

RuleDocument EmbeddedLimiter::rules() const {
  return RuleDocument{registry_.current()->specs(), limiter_.overrides()};
}

std::vector<RuleCounts> EmbeddedLimiter::counters() const {
  const std::shared_ptr<const RuleSet> set = registry_.current();
  std::vector<RuleCounts> out;
  out.reserve(set->rules().size());
  for (const CompiledRule& r : set->rules()) {
    const RuleCounters& c = r.state->counters();
    out.push_back(RuleCounts{.id = r.spec.id,
                             .name = r.name,
                             .passed = c.passed(),
                             .queued = c.queued(),
                             .limited = c.limited(),
                             .shadow_limited = c.shadowLimited(),
                             .overflowed = c.overflowed(),
                             .keys = r.state->size()});
  }
  return out;
}

size_t EmbeddedLimiter::evictIdle(absl::Time now) const { return registry_.evictIdle(now); }

void EmbeddedLimiter::publishHeaderNames(const std::vector<RuleSpec>& a,
                                         const std::vector<RuleSpec>& b) {
  auto next = std::make_shared<HeaderNames>();
  for (const std::vector<RuleSpec>* rules : {&a, &b}) {
    for (const RuleSpec& r : *rules) {
      if (r.scope != ScopeKind::kHeader) continue;
      if (std::find(next->names.begin(), next->names.end(), r.header) == next->names.end()) {
        next->names.push_back(r.header);
      }
    }
  }
  header_names_.store(std::move(next));
}

}  // namespace seckill::ratelimit
