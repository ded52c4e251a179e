#include "engine/core/ratelimit/rate_limiter.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {

std::string_view overrideModeName(OverrideMode m) {
  switch (m) {
    case OverrideMode::kNone: return "none";
    case OverrideMode::kDryRun: return "dry_run";
    case OverrideMode::kShed: return "shed";
  }
  return "?";
}

namespace {

std::string_view scopeKey(const RuleSpec& spec, const RequestInfo& req) {
  switch (spec.scope) {
    case ScopeKind::kGlobal: return {};
    case ScopeKind::kUser: return req.user_id;
    case ScopeKind::kIp: return req.ip;
    case ScopeKind::kHeader:
      for (const RequestInfo::Header& h : req.headers) {
        if (absl::EqualsIgnoreCase(av(h.name), av(spec.header))) return h.value;
      }
      return {};
  }
  return {};
}

// "/api/v1/" -> "/api/v1"; "/" stays.
std::string normalizePrefix(std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  return std::string(prefix);
}

// Segment-wise prefix test on a path without its query.
bool coversPath(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

void setQuota(Verdict& v, const Decision& d, const CompiledRule& r) {
  v.has_quota = true;
  v.limit = d.limit;
  v.remaining = d.remaining;
  v.reset = d.reset;
  v.window = r.spec.per;
}

}  // namespace

RateLimiter::RateLimiter(const RuleRegistry& rules)
    : rules_(rules), overrides_(std::make_shared<const OverrideTable>()) {}

const Override* RateLimiter::OverrideTable::find(std::string_view path) const {
  path = stripQuery(path);
  for (const Override& o : entries) {
    if (coversPath(o.prefix, path)) return &o;
  }
  return nullptr;
}

Verdict RateLimiter::check(const RequestInfo& req, absl::Time now) const {
  const RuleSet& set = rules_.snapshot();
  Verdict v;
  v.version = set.version();

  OverrideMode mode = OverrideMode::kNone;
  if (const Override* o = overrides_.read().find(req.path)) {
    mode = o->mode;
    if (mode == OverrideMode::kShed) {
      v.kind = Verdict::kShed;
      v.wait = kShedRetryAfter;
      v.rule = absl::StrCat("override ", o->prefix);
      return v;
    }
  }

  RuleTrie::Matches matches;
  set.trie().match(req.method, req.path, &matches);
  absl::Duration delay;
  const CompiledRule* shadow = nullptr;
  Decision shadow_decision;
  const CompiledRule* tightest = nullptr;
  Decision tightest_decision;
  for (uint32_t index : matches) {
    const CompiledRule& r = set.rules()[index];
    const bool dry = mode == OverrideMode::kDryRun || r.spec.on_limit == OnLimit::kLog;
    const absl::Duration max_wait =
        !dry && r.spec.on_limit == OnLimit::kQueue ? r.spec.max_wait : absl::ZeroDuration();
    Decision d = r.state->acquire(scopeKey(r.spec, req), now, max_wait);
    RuleCounters& counters = r.state->counters();
    switch (d.kind) {
      case Decision::kAllow:
      case Decision::kDelay:
        if (d.kind == Decision::kDelay) {
          counters.add(RuleCounters::kQueued);
          delay = std::max(delay, d.wait);
        } else {
          counters.add(RuleCounters::kPassed);
        }
        if (tightest == nullptr || d.remaining < tightest_decision.remaining) {
          tightest = &r;
          tightest_decision = d;
        }
        break;
      case Decision::kReject:
        if (dry) {
          counters.add(RuleCounters::kShadowLimited);
          if (shadow == nullptr) {
            shadow = &r;
            shadow_decision = d;
          }
          break;
        }
        counters.add(RuleCounters::kLimited);
        v.kind = Verdict::kReject;
        v.wait = d.wait;
        v.rule = r.name;
        setQuota(v, d, r);
        return v;
    }
  }
  if (shadow != nullptr) {
    v.shadowed = true;
    v.rule = shadow->name;
  }
  if (delay > absl::ZeroDuration()) {
    v.kind = Verdict::kDelay;
    v.wait = delay;
  } else if (shadow != nullptr) {
    v.kind = Verdict::kShadow;
  }
  if (shadow != nullptr && v.kind == Verdict::kShadow) {
    setQuota(v, shadow_decision, *shadow);
  } else if (tightest != nullptr) {
    setQuota(v, tightest_decision, *tightest);
  }
  return v;
}

absl::Status RateLimiter::setOverride(std::string_view prefix, OverrideMode mode) {
  if (prefix.empty() || prefix.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("override prefix \"", av(prefix), "\" must start with '/'"));
  }
  std::string p = normalizePrefix(prefix);
  absl::MutexLock lock(&override_mu_);
  std::vector<Override> list = override_list_;
  auto it = std::find_if(list.begin(), list.end(), [&](const Override& o) { return o.prefix == p; });
  if (it != list.end()) {
    it->mode = mode;
  } else {
    list.push_back(Override{std::move(p), mode});
  }
  publish(std::move(list));
  return absl::OkStatus();
}

void RateLimiter::clearOverride(std::string_view prefix) {
  std::string p = normalizePrefix(prefix);
  absl::MutexLock lock(&override_mu_);
  std::vector<Override> list = override_list_;
  list.erase(std::remove_if(list.begin(), list.end(), [&](const Override& o) { return o.prefix == p; }),
             list.end());
  publish(std::move(list));
}

std::vector<Override> RateLimiter::overrides() const {
  absl::MutexLock lock(&override_mu_);
  return override_list_;
}

void RateLimiter::publish(std::vector<Override> entries) {
  override_list_ = entries;
  std::stable_sort(entries.begin(), entries.end(), [](const Override& a, const Override& b) {
    return a.prefix.size() > b.prefix.size();
  });
  auto table = std::make_shared<OverrideTable>();
  table->entries = std::move(entries);
  overrides_.store(std::move(table));
}

}  // namespace seckill::ratelimit
