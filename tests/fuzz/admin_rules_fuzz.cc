// admin_rules_fuzz: rule sets and sales arriving through the admin API, the proto -> core
// translation (engine/admin/proto_convert.h) and what the control plane does next.
//
// The first byte picks how the rest becomes messages:
//   0: a serialized v1::RuleSet (ParseFromArray: unknown enum values, odd wire data);
//   1: a serialized v1::Sale;
//   2: a serialized v1::Rule alone (Rules.Put);
//   else: a RuleSet and a Sale built field by field from a FuzzedDataProvider, so the deep
//         structure (many rules of every kind, extreme numbers) is reached at once.
//
// Invariants:
// - documentFromProto / ruleFromProto / saleFromProto accept, or refuse with InvalidArgument
//   naming the field ("set.rules[2].per: ...");
// - an accepted document that checkDocument() finds clean validates (validateDocument OK),
//   installs (RuleRegistry::replace, RateLimiter::replaceOverrides), evaluates requests
//   (RateLimiter::check) with sane verdicts, and survives core -> proto -> core unchanged;
// - one with problems is refused by validateDocument with a message, and the rule set alone
//   is refused by RuleRegistry::replace exactly when checkRuleSet finds a rule problem;
// - an accepted sale is accepted by SaleCatalog::create and survives core -> proto -> core;
// - never a crash, undefined behaviour or a leak.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "fuzzer/FuzzedDataProvider.h"
#include "seckill/admin/v1/admin.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace seckill::fuzz {
namespace {

namespace v1 = ::seckill::admin::v1;
using ratelimit::RequestInfo;
using ratelimit::Verdict;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

void checkRefusal(const absl::Status& s, std::string_view field) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  FUZZ_CHECK(sv(s.message()).starts_with(field) && s.message().size() > field.size() + 2,
             absl::StrCat("a refusal that does not name the field: ", s.ToString()));
}

// Requests for `doc`: each rule's own path (one segment per '*', two for '**'), and a few
// fixed ones, by several users, addresses and header values.
std::vector<std::string> pathsFor(const control::RuleDocument& doc) {
  std::vector<std::string> paths = {"/api/v1/sales/s1/orders", "/api/v1/orders/o1/pay",
                                    "/metrics", "/", "/api/v1/sales/s1?x=1"};
  for (size_t i = 0; i < doc.rules.size() && i < 8; ++i) {
    paths.push_back(absl::StrReplaceAll(doc.rules[i].path, {{"**", "a/b"}, {"*", "x"}}));
  }
  for (size_t i = 0; i < doc.overrides.size() && i < 4; ++i) {
    paths.push_back(absl::StrCat(doc.overrides[i].prefix, "/y"));
  }
  return paths;
}

void checkVerdict(const Verdict& v) {
  FUZZ_CHECK(v.kind >= Verdict::kAllow && v.kind <= Verdict::kUnavailable, "verdict kind");
  FUZZ_CHECK(v.wait >= absl::ZeroDuration(), absl::StrCat("negative wait ", absl::FormatDuration(v.wait)));
  if (v.kind == Verdict::kReject) FUZZ_CHECK(!v.rule.empty(), "a reject naming no rule");
  if (v.has_quota) FUZZ_CHECK(v.limit >= 0, "negative quota");
}

void evaluate(const control::RuleDocument& doc) {
  ratelimit::RuleRegistry registry;
  absl::StatusOr<uint64_t> version = registry.replace(doc.rules);
  FUZZ_CHECK(version.ok(), absl::StrCat("a clean document the registry refuses: ",
                                        version.status().ToString()));
  ratelimit::RateLimiter limiter(registry);
  const absl::Status overrides = limiter.replaceOverrides(doc.overrides);
  FUZZ_CHECK(overrides.ok(), overrides.ToString());

  const std::vector<std::string> paths = pathsFor(doc);
  const RequestInfo::Header headers[] = {{"x-client", "a"}, {"X-Tenant", "t1"}};
  absl::Time now = kStart;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < paths.size(); ++i) {
      const RequestInfo req{
          .method = i % 2 == 0 ? "POST" : "GET",
          .path = paths[i],
          .user_id = round == 0 ? "" : "u1",
          .ip = i % 3 == 0 ? "10.0.0.1" : "::1",
          .headers = std::span<const RequestInfo::Header>(headers, round == 2 ? 2 : 0),
      };
      checkVerdict(limiter.check(req, now));
      now += absl::Milliseconds(300);
    }
  }
  // A reload that keeps every identity keeps the states; the verdicts go on.
  FUZZ_CHECK(registry.replace(doc.rules).ok(), "the same rules refused on reload");
  checkVerdict(limiter.check(RequestInfo{.method = "POST", .path = paths.front()}, now));
  (void)registry.evictIdle(now + absl::Hours(2));
}

void fuzzDocument(const v1::RuleSet& set) {
  absl::StatusOr<control::RuleDocument> converted = admin::documentFromProto(set, "set");
  if (!converted.ok()) return checkRefusal(converted.status(), "set.");
  control::RuleDocument doc = *std::move(converted);
  control::normalize(doc);
  const std::vector<ratelimit::RuleProblem> problems = control::checkDocument(doc);
  const absl::Status valid = control::validateDocument(doc);
  const std::vector<ratelimit::RuleProblem> rule_problems = ratelimit::checkRuleSet(doc.rules);
  FUZZ_CHECK(ratelimit::validateRules(doc.rules).ok() == rule_problems.empty(),
             "validateRules and checkRuleSet disagree");
  if (!problems.empty()) {
    FUZZ_CHECK(!valid.ok() && !valid.message().empty(), "a document with problems validates");
    for (const ratelimit::RuleProblem& p : problems) FUZZ_CHECK(!p.message.empty(), "empty problem");
    ratelimit::RuleRegistry registry;
    FUZZ_CHECK(registry.replace(doc.rules).ok() == rule_problems.empty(),
               "the registry and checkRuleSet disagree");
    google::protobuf::RepeatedPtrField<v1::ValidationError> errors;
    admin::problemsToProto(problems, &errors);
    FUZZ_CHECK(static_cast<size_t>(errors.size()) == problems.size(), "problems lost in the proto");
    return;
  }
  FUZZ_CHECK(valid.ok(), valid.ToString());
  FUZZ_CHECK(rule_problems.empty(), "checkDocument clean, checkRuleSet not");
  evaluate(doc);

  // core -> proto -> core: the same document (what Rules.Get then Rules.Apply would do).
  absl::StatusOr<control::RuleDocument> back =
      admin::documentFromProto(admin::documentToProto(doc), "back");
  FUZZ_CHECK(back.ok(), back.status().ToString());
  control::normalize(*back);
  FUZZ_CHECK(control::sameContent(doc, *back), "the document changed through the proto");
  FUZZ_CHECK(control::diffDocuments(doc, *back).empty(), "a diff between equal documents");
  (void)admin::diffToProto(control::diffDocuments(control::RuleDocument{}, doc));
}

void fuzzRule(const v1::Rule& rule) {
  absl::StatusOr<ratelimit::RuleSpec> spec = admin::ruleFromProto(rule, "rule");
  if (!spec.ok()) return checkRefusal(spec.status(), "rule.");
  control::RuleDocument doc;
  doc.rules.push_back(*spec);
  control::normalize(doc);
  if (!control::checkDocument(doc).empty()) return;
  evaluate(doc);
  absl::StatusOr<ratelimit::RuleSpec> back = admin::ruleFromProto(admin::ruleToProto(doc.rules[0]), "back");
  FUZZ_CHECK(back.ok(), back.status().ToString());
  control::RuleDocument again{{*back}, {}};
  control::normalize(again);
  FUZZ_CHECK(control::sameContent(doc, again), "the rule changed through the proto");
}

void fuzzSale(const v1::Sale& sale) {
  absl::StatusOr<SaleSpec> spec = admin::saleFromProto(sale, "sale");
  if (!spec.ok()) return checkRefusal(spec.status(), "sale");
  FUZZ_CHECK(spec->validate().ok(), spec->validate().ToString());
  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create({*spec});
  FUZZ_CHECK(catalog.ok(), absl::StrCat("an accepted sale the catalog refuses: ",
                                        catalog.status().ToString()));
  const v1::Sale out = admin::saleToProto(*spec, StockLevel{spec->stock, spec->stock}, kStart);
  absl::StatusOr<SaleSpec> back = admin::saleFromProto(out, "back");
  FUZZ_CHECK(back.ok(), absl::StrCat("saleToProto wrote what saleFromProto refuses: ",
                                     back.status().ToString()));
  std::string changed;
  auto differs = [&](std::string_view field, bool same) {
    if (!same) absl::StrAppend(&changed, " ", std::string(field));
  };
  auto time = [](const std::optional<absl::Time>& t) {
    return t ? absl::FormatTime(*t) : std::string("none");
  };
  differs("id", back->id == spec->id);
  differs("name", back->name == spec->name);
  differs("stock", back->stock == spec->stock);
  differs(absl::StrCat("opens_at ", time(spec->opens_at), " -> ", time(back->opens_at)),
          back->opens_at == spec->opens_at);
  differs(absl::StrCat("closes_at ", time(spec->closes_at), " -> ", time(back->closes_at)),
          back->closes_at == spec->closes_at);
  differs("require_token", back->require_token == spec->require_token);
  differs("strategy", back->strategy == spec->strategy);
  differs(absl::StrCat("pay_timeout ", absl::FormatDuration(spec->pay_timeout), " -> ",
                       absl::FormatDuration(back->pay_timeout)),
          back->pay_timeout == spec->pay_timeout);
  differs(absl::StrCat("dedup_ttl ", absl::FormatDuration(spec->dedup_ttl), " -> ",
                       absl::FormatDuration(back->dedup_ttl)),
          back->dedup_ttl == spec->dedup_ttl);
  differs(absl::StrCat("token_ttl ", absl::FormatDuration(spec->token_ttl), " -> ",
                       absl::FormatDuration(back->token_ttl)),
          back->token_ttl == spec->token_ttl);
  FUZZ_CHECK(changed.empty(), absl::StrCat("the sale changed through the proto:", changed));
}

// --- messages built field by field ---

std::string path(FuzzedDataProvider& p) {
  static constexpr const char* kPaths[] = {
      "/api/v1/sales/*/orders", "/api/v1/**", "/**", "/", "/api/v1/sales/s1", "/metrics",
      "/a/*/b/**", "", "*", "/api//x", "/api/**/x", "relative", "/api/v1/orders/*/pay"};
  if (p.ConsumeBool()) return p.PickValueInArray(kPaths);
  return p.ConsumeRandomLengthString(80);
}

int64_t number(FuzzedDataProvider& p) {
  static constexpr int64_t kNumbers[] = {0,
                                         1,
                                         -1,
                                         2,
                                         5,
                                         100,
                                         ratelimit::kMaxSlidingLogRate,
                                         ratelimit::kMaxSlidingLogRate + 1,
                                         ratelimit::kMaxRate,
                                         ratelimit::kMaxRate + 1,
                                         int64_t{1} << 31,
                                         std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::min()};
  if (p.ConsumeBool()) return p.PickValueInArray(kNumbers);
  return p.ConsumeIntegral<int64_t>();
}

void duration(FuzzedDataProvider& p, google::protobuf::Duration* d) {
  static constexpr int64_t kSeconds[] = {0, 1, -1, 60, 3600, 315'360'000, 315'360'001,
                                         std::numeric_limits<int64_t>::max(),
                                         std::numeric_limits<int64_t>::min()};
  static constexpr int32_t kNanos[] = {0, 1, -1, 500'000'000, 999'999'999, 1'000'000'000};
  d->set_seconds(p.ConsumeBool() ? p.PickValueInArray(kSeconds) : p.ConsumeIntegral<int64_t>());
  d->set_nanos(p.ConsumeBool() ? p.PickValueInArray(kNanos) : p.ConsumeIntegral<int32_t>());
}

void timestamp(FuzzedDataProvider& p, google::protobuf::Timestamp* t) {
  static constexpr int64_t kSeconds[] = {0, 1'800'000'000, 1'800'003'600, -62135596800LL,
                                         -62135596801LL, 253402300799LL, 253402300800LL};
  t->set_seconds(p.ConsumeBool() ? p.PickValueInArray(kSeconds) : p.ConsumeIntegral<int64_t>());
  t->set_nanos(p.ConsumeBool() ? 0 : p.ConsumeIntegral<int32_t>());
}

v1::Rule buildRule(FuzzedDataProvider& p) {
  v1::Rule r;
  if (p.ConsumeBool()) r.set_id(p.ConsumeRandomLengthString(40));
  r.set_path(path(p));
  if (p.ConsumeBool()) {
    static constexpr const char* kMethods[] = {"GET", "POST", "get", "PUT", " ", "P\x01ST"};
    r.set_method(p.ConsumeBool() ? std::string(p.PickValueInArray(kMethods))
                                 : p.ConsumeRandomLengthString(10));
  }
  v1::Scope* scope = r.mutable_scope();
  scope->set_kind(static_cast<v1::ScopeKind>(p.ConsumeIntegralInRange<int>(0, 4)));
  if (p.ConsumeBool()) {
    static constexpr const char* kHeaders[] = {"x-client", "X-Tenant", "", "bad header", "x:y"};
    scope->set_header(p.ConsumeBool() ? std::string(p.PickValueInArray(kHeaders))
                                      : p.ConsumeRandomLengthString(20));
  }
  r.set_algorithm(static_cast<v1::Algorithm>(p.ConsumeIntegralInRange<int>(0, 4)));
  r.set_rate(number(p));
  r.set_per(static_cast<v1::Per>(p.ConsumeIntegralInRange<int>(0, 3)));
  if (p.ConsumeBool()) r.set_burst(number(p));
  if (p.ConsumeBool()) r.set_queue(number(p));
  if (p.ConsumeBool()) duration(p, r.mutable_warmup());
  r.set_on_limit(static_cast<v1::OnLimit>(p.ConsumeIntegralInRange<int>(0, 3)));
  if (p.ConsumeBool()) duration(p, r.mutable_max_wait());
  r.set_distributed(p.ConsumeBool());
  return r;
}

v1::RuleSet buildRuleSet(FuzzedDataProvider& p) {
  v1::RuleSet set;
  const int rules = p.ConsumeIntegralInRange<int>(0, 24);
  for (int i = 0; i < rules && p.remaining_bytes() > 0; ++i) {
    // Now and then the same rule twice, or the previous one with another window.
    if (i > 0 && p.ConsumeIntegralInRange<int>(0, 7) == 0) {
      v1::Rule copy = set.rules(i - 1);
      if (p.ConsumeBool()) copy.set_per(static_cast<v1::Per>(p.ConsumeIntegralInRange<int>(1, 3)));
      if (p.ConsumeBool()) copy.set_rate(number(p));
      *set.add_rules() = copy;
    } else {
      *set.add_rules() = buildRule(p);
    }
  }
  const int overrides = p.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < overrides && p.remaining_bytes() > 0; ++i) {
    v1::Override* o = set.add_overrides();
    static constexpr const char* kPrefixes[] = {"/", "/api/v1", "/api/v1/", "api", "", "//",
                                                "/api/v1/sales"};
    o->set_prefix(p.ConsumeBool() ? std::string(p.PickValueInArray(kPrefixes))
                                  : p.ConsumeRandomLengthString(30));
    o->set_mode(static_cast<v1::OverrideMode>(p.ConsumeIntegralInRange<int>(0, 3)));
  }
  return set;
}

v1::Sale buildSale(FuzzedDataProvider& p) {
  v1::Sale s;
  static constexpr const char* kIds[] = {"s1", "", "bad id", "a-b_C9", "x\xff"};
  s.set_id(p.ConsumeBool() ? std::string(p.PickValueInArray(kIds))
                           : p.ConsumeRandomLengthString(70));
  if (p.ConsumeBool()) s.set_name(p.ConsumeRandomLengthString(260));
  s.set_stock_total(number(p));
  if (p.ConsumeBool()) timestamp(p, s.mutable_opens_at());
  if (p.ConsumeBool()) timestamp(p, s.mutable_closes_at());
  s.set_require_token(p.ConsumeBool());
  s.set_strategy(static_cast<v1::StockStrategy>(p.ConsumeIntegralInRange<int>(0, 4)));
  if (p.ConsumeBool()) duration(p, s.mutable_pay_timeout());
  if (p.ConsumeBool()) duration(p, s.mutable_dedup_ttl());
  if (p.ConsumeBool()) duration(p, s.mutable_token_ttl());
  return s;
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seckill::fuzz;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const uint8_t* rest = data + 1;
  const int n = static_cast<int>(std::min<size_t>(size - 1, 1 << 20));
  switch (mode) {
    case 0: {
      v1::RuleSet set;
      if (set.ParseFromArray(rest, n)) fuzzDocument(set);
      break;
    }
    case 1: {
      v1::Sale sale;
      if (sale.ParseFromArray(rest, n)) fuzzSale(sale);
      break;
    }
    case 2: {
      v1::Rule rule;
      if (rule.ParseFromArray(rest, n)) fuzzRule(rule);
      break;
    }
    default: {
      FuzzedDataProvider p(rest, static_cast<size_t>(n));
      fuzzDocument(buildRuleSet(p));
      fuzzSale(buildSale(p));
      break;
    }
  }
  return 0;
}
