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

absl::StatusOr<OverrideMode> parseOverrideMode(std::string_view name) {
  if (name == "none") return OverrideMode::kNone;
  if (name == "dry_run") return OverrideMode::kDryRun;
  if (name == "shed") return OverrideMode::kShed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown override mode \"", av(name), "\" (dry_run | shed | none)"));
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
  v.rate = r.spec.rate;
}

}  // namespace

bool VerdictFold::add(const CompiledRule& r, const Decision& d, bool dry, Verdict& v) {
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
      return false;
    case Decision::kReject:
      if (dry) {
        counters.add(RuleCounters::kShadowLimited);
        if (shadow == nullptr) {
          shadow = &r;
          shadow_decision = d;
        }
        return false;
      }
      counters.add(RuleCounters::kLimited);
      v.kind = Verdict::kReject;
      v.wait = d.wait;
      v.rule = r.name;
      setQuota(v, d, r);
      return true;
  }
  return false;
}

void VerdictFold::finish(Verdict& v) const {
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
}

RateLimiter::RateLimiter(const RuleRegistry& rules) : RateLimiter(rules, nullptr) {}

RateLimiter::RateLimiter(const RuleRegistry& rules, RemoteLimiterBackend* remote,
                         DistributedOptions options)
    : rules_(rules),
      remote_(remote),
      distributed_(std::move(options)),
      overrides_(std::make_shared<const OverrideTable>()) {}

const Override* RateLimiter::OverrideTable::find(std::string_view path) const {
  if (entries.empty()) return nullptr;
  path = stripQuery(path);
  for (const Override& o : entries) {
    if (coversPath(o.prefix, path)) return &o;
  }
  return nullptr;
}

Verdict RateLimiter::check(const RequestInfo& req, absl::Time now) const {
  return run(req, now, /*remote=*/false).verdict;
}

Evaluation RateLimiter::evaluate(const RequestInfo& req, absl::Time now) const {
  return run(req, now, /*remote=*/remote_ != nullptr);
}

Evaluation RateLimiter::run(const RequestInfo& req, absl::Time now, bool remote) const {
  // Only an evaluation that may go asynchronous pays for shared ownership of the set.
  const RuleSet* current = &rules_.snapshot();
  std::shared_ptr<const RuleSet> held;
  if (remote && current->hasDistributed()) {
    held = rules_.snapshotShared();  // may be newer than `current`, which must not be used now
    current = held.get();
    remote = current->hasDistributed();
  } else {
    remote = false;
  }
  const RuleSet& set = *current;
  Evaluation out;
  Verdict& v = out.verdict;
  v.version = set.version();

  OverrideMode mode = OverrideMode::kNone;
  if (const Override* o = overrides_.read().find(req.path)) {
    mode = o->mode;
    if (mode == OverrideMode::kShed) {
      v.kind = Verdict::kShed;
      v.wait = kShedRetryAfter;
      v.rule = absl::StrCat("override ", o->prefix);
      return out;
    }
  }

  RuleTrie::Matches matches;
  set.trie().match(req.method, req.path, &matches);
  VerdictFold fold;
  std::unique_ptr<RemoteCheck> pending;
  for (uint32_t index : matches) {
    const CompiledRule& r = set.rules()[index];
    const bool dry = mode == OverrideMode::kDryRun || r.spec.on_limit == OnLimit::kLog;
    if (remote && r.spec.distributed) {
      if (!pending) pending = std::make_unique<RemoteCheck>();
      pending->items.push_back(RemoteCheck::Item{index, std::string(scopeKey(r.spec, req)), dry});
      continue;
    }
    const absl::Duration max_wait = !dry && req.hits > 0 && r.spec.on_limit == OnLimit::kQueue
                                        ? r.spec.max_wait
                                        : absl::ZeroDuration();
    Decision d = r.state->acquire(scopeKey(r.spec, req), now, max_wait, req.hits);
    if (fold.add(r, d, dry, v)) return out;  // a local reject: no distributed rule is asked
  }
  if (pending) {
    pending->set = std::move(held);
    pending->now = now;
    pending->hits = req.hits;
    pending->verdict = v;
    pending->fold = fold;
    out.remote = std::move(pending);
    if (fold.delay > absl::ZeroDuration()) {  // a local queue rule's wait, served first
      v.kind = Verdict::kDelay;
      v.wait = fold.delay;
    }
    return out;
  }
  fold.finish(v);
  return out;
}

void RateLimiter::complete(std::unique_ptr<RemoteCheck> c, Callback<Verdict> done) const {
  if (c->next == c->items.size()) {
    c->fold.finish(c->verdict);
    std::move(done)(std::move(c->verdict));
    return;
  }
  const RemoteCheck::Item& item = c->items[c->next];
  const CompiledRule& rule = c->set->rules()[item.index];
  const std::string_view key = item.key;  // lives in *c, which the callback owns
  const absl::Time now = c->now;
  const uint32_t hits = c->hits;
  remote_->acquire(rule, key, now, hits,
                   [this, c = std::move(c), done = std::move(done)](
                       absl::StatusOr<Decision> d) mutable {
                     onRemote(std::move(c), std::move(d), std::move(done));
                   });
}

void RateLimiter::onRemote(std::unique_ptr<RemoteCheck> c, absl::StatusOr<Decision> d,
                           Callback<Verdict> done) const {
  const RemoteCheck::Item& item = c->items[c->next];
  const CompiledRule& rule = c->set->rules()[item.index];
  if (!d.ok()) {
    backend_errors_.fetch_add(1, std::memory_order_relaxed);
    reportFailure(rule, d.status(), c->now);
    if (!item.dry && distributed_.failure == FailurePolicy::kClosed) {
      rule.state->counters().add(RuleCounters::kLimited);
      Verdict& v = c->verdict;
      v.kind = Verdict::kUnavailable;
      v.wait = kUnavailableRetryAfter;
      v.rule = rule.name;
      v.has_quota = false;
      std::move(done)(std::move(v));
      return;
    }
    rule.state->counters().add(RuleCounters::kPassed);  // fail open: as if it had passed
  } else if (c->fold.add(rule, *d, item.dry, c->verdict)) {
    std::move(done)(std::move(c->verdict));
    return;
  }
  ++c->next;
  complete(std::move(c), std::move(done));
}

void RateLimiter::reportFailure(const CompiledRule& r, const absl::Status& status,
                                absl::Time now) const {
  if (!distributed_.on_backend_error) return;
  const int64_t t = absl::ToUnixNanos(now);
  int64_t last = last_report_ns_.load(std::memory_order_relaxed);
  if ((last != INT64_MIN && t - last < absl::ToInt64Nanoseconds(distributed_.report_every)) ||
      !last_report_ns_.compare_exchange_strong(last, t, std::memory_order_relaxed)) {
    unreported_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  distributed_.on_backend_error(BackendErrorEvent{
      .rule = r.name,
      .status = status,
      .applied = distributed_.failure,
      .suppressed = unreported_.exchange(0, std::memory_order_relaxed),
  });
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

std::string normalizeOverridePrefix(std::string_view prefix) { return normalizePrefix(prefix); }

absl::Status RateLimiter::replaceOverrides(std::vector<Override> overrides) {
  for (Override& o : overrides) {
    if (o.prefix.empty() || o.prefix.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("override prefix \"", o.prefix, "\" must start with '/'"));
    }
    o.prefix = normalizePrefix(o.prefix);
  }
  absl::MutexLock lock(&override_mu_);
  publish(std::move(overrides));
  return absl::OkStatus();
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
