#include "engine/admin/proto_convert.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::admin {

using ratelimit::Algorithm;
using ratelimit::CircuitBreaker;
using ratelimit::OnLimit;
using ratelimit::OverrideMode;
using ratelimit::RuleSpec;
using ratelimit::ScopeKind;

namespace {

absl::Status bad(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(av(field), ": ", av(why)));
}

// Durations and times beyond these are not what an operator meant (and overflow absl's range
// checks in arithmetic later): refused.
constexpr int64_t kMaxDurationSeconds = 10LL * 365 * 24 * 3600;

absl::StatusOr<absl::Duration> durationField(const google::protobuf::Duration& d,
                                             std::string_view field) {
  if (d.seconds() > kMaxDurationSeconds || d.seconds() < -kMaxDurationSeconds ||
      d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000) {
    return bad(field, "duration out of range");
  }
  return fromProto(d);
}

absl::StatusOr<absl::Time> timeField(const google::protobuf::Timestamp& t, std::string_view field) {
  // 0001-01-01 .. 9999-12-31, as google.protobuf.Timestamp defines.
  if (t.seconds() < -62135596800LL || t.seconds() > 253402300799LL || t.nanos() < 0 ||
      t.nanos() >= 1'000'000'000) {
    return bad(field, "timestamp out of range");
  }
  return fromProto(t);
}

}  // namespace

google::protobuf::Timestamp toProto(absl::Time t) {
  google::protobuf::Timestamp out;
  // Seconds first: Unix nanoseconds in an int64 end in 1677 and 2262, a Timestamp spans the
  // years 1 to 9999 (and saleFromProto accepts them all).
  const int64_t sec = absl::ToUnixSeconds(t);  // rounds down: the nanos are >= 0
  out.set_seconds(sec);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(sec))));
  return out;
}

google::protobuf::Duration toProto(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out.set_seconds(ns / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return out;
}

absl::Time fromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Duration fromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

v1::Rule ruleToProto(const RuleSpec& r) {
  v1::Rule out;
  out.set_id(r.id);
  out.set_path(r.path);
  if (r.method) out.set_method(*r.method);
  v1::Scope* scope = out.mutable_scope();
  switch (r.scope) {
    case ScopeKind::kGlobal: scope->set_kind(v1::GLOBAL); break;
    case ScopeKind::kUser: scope->set_kind(v1::USER); break;
    case ScopeKind::kIp: scope->set_kind(v1::IP); break;
    case ScopeKind::kHeader:
      scope->set_kind(v1::HEADER);
      scope->set_header(r.header);
      break;
  }
  switch (r.algorithm) {
    case Algorithm::kTokenBucket: out.set_algorithm(v1::TOKEN_BUCKET); break;
    case Algorithm::kLeakyBucket: out.set_algorithm(v1::LEAKY_BUCKET); break;
    case Algorithm::kSlidingWindow: out.set_algorithm(v1::SLIDING_WINDOW); break;
    case Algorithm::kSlidingLog: out.set_algorithm(v1::SLIDING_LOG); break;
  }
  out.set_rate(r.rate);
  out.set_per(r.per == absl::Hours(1) ? v1::HOUR : r.per == absl::Minutes(1) ? v1::MINUTE : v1::SECOND);
  out.set_burst(r.burst);
  out.set_queue(r.queue);
  if (r.warmup != absl::ZeroDuration()) *out.mutable_warmup() = toProto(r.warmup);
  switch (r.on_limit) {
    case OnLimit::kReject: out.set_on_limit(v1::REJECT); break;
    case OnLimit::kQueue: out.set_on_limit(v1::QUEUE); break;
    case OnLimit::kLog: out.set_on_limit(v1::LOG); break;
  }
  if (r.max_wait != absl::ZeroDuration()) *out.mutable_max_wait() = toProto(r.max_wait);
  out.set_distributed(r.distributed);
  return out;
}

absl::StatusOr<OnLimit> onLimitFromProto(v1::OnLimit mode, std::string_view field) {
  switch (mode) {
    case v1::REJECT: return OnLimit::kReject;
    case v1::QUEUE: return OnLimit::kQueue;
    case v1::LOG: return OnLimit::kLog;
    default: return bad(field, "must be REJECT, QUEUE or LOG");
  }
}

absl::StatusOr<RuleSpec> ruleFromProto(const v1::Rule& in, std::string_view field) {
  RuleSpec r;
  auto f = [&](std::string_view name) { return absl::StrCat(av(field), ".", av(name)); };
  r.id = in.id();
  if (in.path().empty()) return bad(f("path"), "is required");
  r.path = in.path();
  if (!in.method().empty()) r.method = in.method();
  switch (in.scope().kind()) {
    case v1::GLOBAL: r.scope = ScopeKind::kGlobal; break;
    case v1::USER: r.scope = ScopeKind::kUser; break;
    case v1::IP: r.scope = ScopeKind::kIp; break;
    case v1::HEADER:
      r.scope = ScopeKind::kHeader;
      r.header = in.scope().header();
      break;
    case v1::SCOPE_UNSPECIFIED:
      r.scope = ScopeKind::kGlobal;  // the config file's default
      break;
    default: return bad(f("scope.kind"), "unknown scope");
  }
  if (r.scope != ScopeKind::kHeader && !in.scope().header().empty()) {
    return bad(f("scope.header"), "is only for HEADER scope");
  }
  switch (in.algorithm()) {
    case v1::TOKEN_BUCKET:
    case v1::ALGORITHM_UNSPECIFIED: r.algorithm = Algorithm::kTokenBucket; break;
    case v1::LEAKY_BUCKET: r.algorithm = Algorithm::kLeakyBucket; break;
    case v1::SLIDING_WINDOW: r.algorithm = Algorithm::kSlidingWindow; break;
    case v1::SLIDING_LOG: r.algorithm = Algorithm::kSlidingLog; break;
    default: return bad(f("algorithm"), "unknown algorithm");
  }
  r.rate = in.rate();
  switch (in.per()) {
    case v1::SECOND:
    case v1::PER_UNSPECIFIED: r.per = absl::Seconds(1); break;
    case v1::MINUTE: r.per = absl::Minutes(1); break;
    case v1::HOUR: r.per = absl::Hours(1); break;
    default: return bad(f("per"), "must be SECOND, MINUTE or HOUR");
  }
  r.burst = in.burst() == 0 ? 1 : in.burst();
  r.queue = in.queue();
  absl::StatusOr<absl::Duration> warmup = durationField(in.warmup(), f("warmup"));
  if (!warmup.ok()) return warmup.status();
  r.warmup = *warmup;
  if (in.on_limit() == v1::ON_LIMIT_UNSPECIFIED) {
    r.on_limit = OnLimit::kReject;
  } else {
    absl::StatusOr<OnLimit> o = onLimitFromProto(in.on_limit(), f("on_limit"));
    if (!o.ok()) return o.status();
    r.on_limit = *o;
  }
  absl::StatusOr<absl::Duration> max_wait = durationField(in.max_wait(), f("max_wait"));
  if (!max_wait.ok()) return max_wait.status();
  r.max_wait = *max_wait;
  r.distributed = in.distributed();
  return r;
}

v1::Override overrideToProto(const ratelimit::Override& o) {
  v1::Override out;
  out.set_prefix(o.prefix);
  switch (o.mode) {
    case OverrideMode::kNone: out.set_mode(v1::NONE); break;
    case OverrideMode::kDryRun: out.set_mode(v1::DRY_RUN); break;
    case OverrideMode::kShed: out.set_mode(v1::SHED); break;
  }
  return out;
}

absl::StatusOr<OverrideMode> overrideModeFromProto(v1::OverrideMode mode, std::string_view field) {
  switch (mode) {
    case v1::NONE: return OverrideMode::kNone;
    case v1::DRY_RUN: return OverrideMode::kDryRun;
    case v1::SHED: return OverrideMode::kShed;
    default: return bad(field, "must be NONE, DRY_RUN or SHED");
  }
}

v1::RuleSet documentToProto(const control::RuleDocument& doc) {
  v1::RuleSet out;
  for (const RuleSpec& r : doc.rules) *out.add_rules() = ruleToProto(r);
  for (const ratelimit::Override& o : doc.overrides) *out.add_overrides() = overrideToProto(o);
  return out;
}

absl::StatusOr<control::RuleDocument> documentFromProto(const v1::RuleSet& set,
                                                        std::string_view field) {
  if (static_cast<size_t>(set.rules_size()) > ratelimit::kMaxRules) {
    return bad(absl::StrCat(av(field), ".rules"),
               absl::StrCat("at most ", ratelimit::kMaxRules, " rules (got ", set.rules_size(), ")"));
  }
  if (static_cast<size_t>(set.overrides_size()) > ratelimit::kMaxRules) {
    return bad(absl::StrCat(av(field), ".overrides"),
               absl::StrCat("at most ", ratelimit::kMaxRules, " overrides"));
  }
  control::RuleDocument doc;
  doc.rules.reserve(set.rules_size());
  for (int i = 0; i < set.rules_size(); ++i) {
    absl::StatusOr<RuleSpec> r = ruleFromProto(set.rules(i), absl::StrCat(av(field), ".rules[", i, "]"));
    if (!r.ok()) return r.status();
    doc.rules.push_back(*std::move(r));
  }
  for (int i = 0; i < set.overrides_size(); ++i) {
    const std::string f = absl::StrCat(av(field), ".overrides[", i, "]");
    absl::StatusOr<OverrideMode> m = overrideModeFromProto(set.overrides(i).mode(), f + ".mode");
    if (!m.ok()) return m.status();
    doc.overrides.push_back(ratelimit::Override{set.overrides(i).prefix(), *m});
  }
  return doc;
}

v1::Change changeToProto(const control::Change& c) {
  v1::Change out;
  out.set_version(c.version);
  *out.mutable_at() = toProto(c.at);
  out.set_author(c.author);
  out.set_peer(c.peer);
  out.set_source(c.source);
  out.set_comment(c.comment);
  out.set_node(c.node);
  return out;
}

void problemsToProto(const std::vector<ratelimit::RuleProblem>& problems,
                     google::protobuf::RepeatedPtrField<v1::ValidationError>* out) {
  for (const ratelimit::RuleProblem& p : problems) {
    v1::ValidationError* e = out->Add();
    e->set_rule_index(p.index);
    e->set_field(p.field);
    e->set_message(p.message);
    e->set_line(p.line);
  }
}

v1::DiffRulesResponse diffToProto(const control::DocumentDiff& diff) {
  v1::DiffRulesResponse out;
  for (const control::DocumentDiff::Rule& r : diff.rules) {
    v1::RuleChange* c = out.add_rules();
    switch (r.kind) {
      case control::DocumentDiff::Rule::Kind::kAdded: c->set_kind(v1::RuleChange::ADDED); break;
      case control::DocumentDiff::Rule::Kind::kRemoved: c->set_kind(v1::RuleChange::REMOVED); break;
      case control::DocumentDiff::Rule::Kind::kChanged: c->set_kind(v1::RuleChange::CHANGED); break;
    }
    c->set_id(r.id);
    if (r.before) *c->mutable_before() = ruleToProto(*r.before);
    if (r.after) *c->mutable_after() = ruleToProto(*r.after);
    for (const std::string& f : r.fields) c->add_fields(f);
  }
  for (const control::DocumentDiff::Override& o : diff.overrides) {
    v1::OverrideChange* c = out.add_overrides();
    c->set_prefix(o.prefix);
    if (o.before) c->set_before(overrideToProto({o.prefix, *o.before}).mode());
    if (o.after) c->set_after(overrideToProto({o.prefix, *o.after}).mode());
  }
  out.set_text(diff.text());
  return out;
}

v1::BreakerState breakerStateToProto(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed: return v1::CLOSED;
    case CircuitBreaker::State::kOpen: return v1::OPEN;
    case CircuitBreaker::State::kHalfOpen: return v1::HALF_OPEN;
    case CircuitBreaker::State::kForcedOpen: return v1::FORCED_OPEN;
    case CircuitBreaker::State::kDisabled: return v1::DISABLED;
    case CircuitBreaker::State::kMetricsOnly: return v1::METRICS_ONLY;
  }
  return v1::BREAKER_STATE_UNSPECIFIED;
}

v1::BreakerMode breakerModeToProto(CircuitBreaker::Mode m) {
  switch (m) {
    case CircuitBreaker::Mode::kNormal: return v1::AUTOMATIC;
    case CircuitBreaker::Mode::kForcedOpen: return v1::MODE_FORCED_OPEN;
    case CircuitBreaker::Mode::kDisabled: return v1::MODE_DISABLED;
    case CircuitBreaker::Mode::kMetricsOnly: return v1::MODE_METRICS_ONLY;
  }
  return v1::BREAKER_MODE_UNSPECIFIED;
}

absl::StatusOr<CircuitBreaker::Mode> breakerModeFromProto(v1::BreakerMode m, std::string_view field) {
  switch (m) {
    case v1::AUTOMATIC: return CircuitBreaker::Mode::kNormal;
    case v1::MODE_FORCED_OPEN: return CircuitBreaker::Mode::kForcedOpen;
    case v1::MODE_DISABLED: return CircuitBreaker::Mode::kDisabled;
    case v1::MODE_METRICS_ONLY: return CircuitBreaker::Mode::kMetricsOnly;
    default:
      return bad(field, "must be AUTOMATIC, MODE_FORCED_OPEN, MODE_DISABLED or MODE_METRICS_ONLY");
  }
}

v1::Breaker breakerToProto(const CircuitBreaker& b) {
  v1::Breaker out;
  out.set_name(b.name());
  out.set_state(breakerStateToProto(b.state()));
  out.set_machine_state(breakerStateToProto(b.machineState()));
  out.set_mode(breakerModeToProto(b.mode()));
  const CircuitBreaker::WindowStats w = b.windowStats();
  out.set_window_calls(w.calls);
  out.set_window_failures(w.failures);
  out.set_window_slow(w.slow);
  out.set_transitions(b.transitions());
  return out;
}

v1::SaleState saleStateToProto(SaleState s) {
  switch (s) {
    case SaleState::kScheduled: return v1::SCHEDULED;
    case SaleState::kOpen: return v1::OPEN_NOW;
    case SaleState::kSoldOut: return v1::SOLD_OUT;
    case SaleState::kClosed: return v1::CLOSED_NOW;
  }
  return v1::SALE_STATE_UNSPECIFIED;
}

v1::StockStrategy strategyToProto(StockStrategy s) {
  switch (s) {
    case StockStrategy::kAtomic: return v1::ATOMIC;
    case StockStrategy::kFifo: return v1::FIFO;
    case StockStrategy::kOptimistic: return v1::OPTIMISTIC;
    case StockStrategy::kCounterGate: return v1::COUNTER_GATE;
  }
  return v1::STOCK_STRATEGY_UNSPECIFIED;
}

v1::Sale saleToProto(const SaleSpec& spec, const absl::StatusOr<StockLevel>& level, absl::Time now) {
  v1::Sale out;
  out.set_id(spec.id);
  out.set_name(spec.name);
  out.set_stock_total(level.ok() ? level->total : spec.stock);
  out.set_stock_left(level.ok() ? level->left : -1);
  out.set_sold(level.ok() ? level->total - level->left : 0);
  out.set_state(saleStateToProto(saleStateAt(spec, now, level.ok() ? level->left : spec.stock)));
  if (spec.opens_at) *out.mutable_opens_at() = toProto(*spec.opens_at);
  if (spec.closes_at) *out.mutable_closes_at() = toProto(*spec.closes_at);
  out.set_require_token(spec.require_token);
  out.set_strategy(strategyToProto(spec.strategy));
  *out.mutable_pay_timeout() = toProto(spec.pay_timeout);
  *out.mutable_dedup_ttl() = toProto(spec.dedup_ttl);
  *out.mutable_token_ttl() = toProto(spec.token_ttl);
  return out;
}

absl::StatusOr<SaleSpec> saleFromProto(const v1::Sale& in, std::string_view field) {
  auto f = [&](std::string_view name) { return absl::StrCat(av(field), ".", av(name)); };
  SaleSpec s;
  if (in.id().empty()) return bad(f("id"), "is required");
  if (!isValidId(in.id())) return bad(f("id"), "must be 1-64 chars of [A-Za-z0-9_-]");
  s.id = in.id();
  s.name = in.name().empty() ? in.id() : in.name();
  if (s.name.size() > 200) return bad(f("name"), "at most 200 bytes");
  if (in.stock_total() < 0) return bad(f("stock_total"), "must be >= 0");
  s.stock = in.stock_total();
  if (in.has_opens_at()) {
    absl::StatusOr<absl::Time> t = timeField(in.opens_at(), f("opens_at"));
    if (!t.ok()) return t.status();
    s.opens_at = *t;
  }
  if (in.has_closes_at()) {
    absl::StatusOr<absl::Time> t = timeField(in.closes_at(), f("closes_at"));
    if (!t.ok()) return t.status();
    s.closes_at = *t;
  }
  s.require_token = in.require_token();
  switch (in.strategy()) {
    case v1::ATOMIC:
    case v1::STOCK_STRATEGY_UNSPECIFIED: s.strategy = StockStrategy::kAtomic; break;
    case v1::FIFO: s.strategy = StockStrategy::kFifo; break;
    case v1::OPTIMISTIC: s.strategy = StockStrategy::kOptimistic; break;
    case v1::COUNTER_GATE: s.strategy = StockStrategy::kCounterGate; break;
    default: return bad(f("strategy"), "unknown strategy");
  }
  struct D {
    const char* name;
    const google::protobuf::Duration& value;
    bool set;
    absl::Duration* out;
  };
  for (const D& d : {D{"pay_timeout", in.pay_timeout(), in.has_pay_timeout(), &s.pay_timeout},
                     D{"dedup_ttl", in.dedup_ttl(), in.has_dedup_ttl(), &s.dedup_ttl},
                     D{"token_ttl", in.token_ttl(), in.has_token_ttl(), &s.token_ttl}}) {
    if (!d.set) continue;
    absl::StatusOr<absl::Duration> v = durationField(d.value, f(d.name));
    if (!v.ok()) return v.status();
    if (*v <= absl::ZeroDuration()) return bad(f(d.name), "must be > 0");
    *d.out = *v;
  }
  if (absl::Status st = s.validate(); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(av(field), ": ", st.message()));
  }
  return s;
}

v1::Order orderToProto(const Order& o) {
  v1::Order out;
  out.set_id(o.id);
  out.set_sale_id(o.sale_id);
  out.set_user_id(o.user_id);
  switch (o.state) {
    case OrderState::kPendingPayment: out.set_state(v1::PENDING_PAYMENT); break;
    case OrderState::kPaid: out.set_state(v1::PAID); break;
    case OrderState::kCancelled: out.set_state(v1::CANCELLED); break;
  }
  switch (o.cancel_reason) {
    case CancelReason::kNone: break;
    case CancelReason::kShopper: out.set_cancel_reason(v1::SHOPPER); break;
    case CancelReason::kExpired: out.set_cancel_reason(v1::EXPIRED); break;
    case CancelReason::kDuplicate: out.set_cancel_reason(v1::DUPLICATE); break;
  }
  *out.mutable_created_at() = toProto(o.created_at);
  *out.mutable_pay_before() = toProto(o.pay_before);
  *out.mutable_updated_at() = toProto(o.updated_at);
  return out;
}

v1::AuditEntry auditToProto(const control::AuditEntry& e) {
  v1::AuditEntry out;
  out.set_seq(e.seq);
  *out.mutable_at() = toProto(e.at);
  out.set_author(e.author);
  out.set_peer(e.peer);
  out.set_node(e.node);
  out.set_action(e.action);
  out.set_target(e.target);
  out.set_detail(e.detail);
  out.set_version(e.version);
  return out;
}

namespace {

v1::SaleState saleStateFromName(std::string_view name) {
  if (name == "scheduled") return v1::SCHEDULED;
  if (name == "open") return v1::OPEN_NOW;
  if (name == "sold_out") return v1::SOLD_OUT;
  if (name == "closed") return v1::CLOSED_NOW;
  return v1::SALE_STATE_UNSPECIFIED;
}

v1::BreakerState breakerStateFromName(std::string_view name) {
  for (size_t i = 0; i < CircuitBreaker::kStates; ++i) {
    const auto s = static_cast<CircuitBreaker::State>(i);
    if (ratelimit::breakerStateName(s) == name) return breakerStateToProto(s);
  }
  return v1::BREAKER_STATE_UNSPECIFIED;
}

v1::BreakerMode breakerModeFromName(std::string_view name) {
  absl::StatusOr<CircuitBreaker::Mode> m = ratelimit::parseBreakerMode(name);
  return m.ok() ? breakerModeToProto(*m) : v1::BREAKER_MODE_UNSPECIFIED;
}

void ruleStatsToProto(const StatsSample::Rule& r, v1::RuleStats* out) {
  out->set_rule_id(r.id);
  out->set_passed(r.passed);
  out->set_limited(r.limited);
  out->set_queued(r.queued);
  out->set_shadow_limited(r.shadow_limited);
}

}  // namespace

void statsToProto(const StatsSample& s, std::string_view node_id, absl::Time started_at,
                  bool history, v1::StatsSnapshot* out) {
  out->set_node_id(std::string(node_id));
  *out->mutable_at() = toProto(s.at);
  out->set_seq(s.seq);
  out->set_history(history);
  *out->mutable_started_at() = toProto(started_at);
  out->set_requests(s.requests);
  out->set_admitted(s.admitted);
  out->set_rejected(s.rejected);
  out->set_queued(s.queued);
  out->set_shadow_limited(s.shadow_limited);
  out->set_shed(s.shed);
  out->set_orders_created(s.orders_created);
  out->set_orders_paid(s.orders_paid);
  out->set_orders_cancelled_shopper(s.orders_cancelled_shopper);
  out->set_orders_cancelled_expired(s.orders_cancelled_expired);
  out->set_orders_cancelled_duplicate(s.orders_cancelled_duplicate);
  out->set_latency_p50_ms(s.latency_p50_ms);
  out->set_latency_p99_ms(s.latency_p99_ms);
  out->set_latency_max_ms(s.latency_max_ms);
  out->set_rules_version(s.rules_version);
  for (const StatsSample::Route& r : s.routes) {
    v1::RouteStats* p = out->add_routes();
    p->set_route(r.route);
    p->set_requests(r.requests);
    p->set_status_2xx(r.status_2xx);
    p->set_status_4xx(r.status_4xx);
    p->set_status_5xx(r.status_5xx);
    p->set_status_429(r.status_429);
    p->set_status_503(r.status_503);
  }
  for (const StatsSample::Rule& r : s.rules) ruleStatsToProto(r, out->add_rules());
  ruleStatsToProto(s.rules_other, out->mutable_rules_other());
  for (const StatsSample::Sale& sale : s.sales) {
    v1::SaleStats* p = out->add_sales();
    p->set_sale_id(sale.id);
    p->set_stock_left(sale.left);
    p->set_stock_total(sale.total);
    p->set_state(saleStateFromName(sale.state));
  }
  for (const StatsSample::Breaker& b : s.breakers) {
    v1::BreakerStats* p = out->add_breakers();
    p->set_name(b.name);
    p->set_state(breakerStateFromName(b.state));
    p->set_mode(breakerModeFromName(b.mode));
  }
  out->set_requests_total(s.requests_total);
  out->set_orders_created_total(s.orders_created_total);
}

}  // namespace seckill::admin
