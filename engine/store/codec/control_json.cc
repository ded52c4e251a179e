#include "engine/store/codec/control_json.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/sale.h"
#include "engine/core/strings.h"
#include "nlohmann/json.hpp"

namespace seckill::codec {

using control::AuditEntry;
using control::BreakerSetting;
using control::Change;
using control::RuleDocument;
using control::RuleVersion;
using control::SaleRecord;
using nlohmann::json;
using ratelimit::RuleSpec;

namespace {

// The rule document formats read: 1 (rules only, no ids) and kRuleDocumentFormat.
constexpr int64_t kOldestRuleDocumentFormat = 1;

// Reads the members of one JSON object and keeps the first problem: after a failure every
// getter answers a default, so a decoder reads all it needs and checks status() once.
class Reader {
 public:
  // `what` names the whole value ("rule version JSON"), `path` this object in it ("doc.rules[2]",
  // "" for the whole value).
  Reader(const json& j, std::string_view what, std::string path)
      : j_(j), what_(what), path_(std::move(path)) {
    if (!j_.is_object()) {
      status_ = absl::InvalidArgumentError(
          path_.empty() ? absl::StrCat(av(what_), ": not a JSON object")
                        : absl::StrCat(av(what_), ": \"", path_, "\" must be an object"));
    }
  }

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  std::string_view what() const { return what_; }

  // The path of member `key` ("doc.rules[2].rate").
  std::string path(std::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", av(key));
  }

  // Records "<what>: "<path.key>" <problem>" unless a problem was recorded already.
  void fail(std::string_view key, std::string_view problem) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat(av(what_), ": \"", path(key), "\" ", av(problem)));
    }
  }
  // Records a nested value's problem (already a whole message).
  void adopt(const absl::Status& s) {
    if (status_.ok()) status_ = s;
  }

  std::string string(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || !v->is_string()) {
      fail(key, "must be a string");
      return {};
    }
    return v->get<std::string>();
  }
  // Absent or null: nullopt.
  std::optional<std::string> nullableString(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      fail(key, "must be a string or null");
      return std::nullopt;
    }
    return v->get<std::string>();
  }
  // Absent: `fallback` if given, else a problem.
  int64_t integer(std::string_view key, std::optional<int64_t> fallback = std::nullopt) {
    const json* v = member(key);
    if (v == nullptr && fallback) return *fallback;
    if (v == nullptr || !v->is_number_integer() ||
        (v->is_number_unsigned() &&
         v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      fail(key, "must be an integer");
      return fallback.value_or(0);
    }
    return v->get<int64_t>();
  }
  uint64_t count(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || !v->is_number_unsigned()) {
      fail(key, "must be a non-negative integer");
      return 0;
    }
    return v->get<uint64_t>();
  }
  bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt) {
    const json* v = member(key);
    if (v == nullptr && fallback) return *fallback;
    if (v == nullptr || !v->is_boolean()) {
      fail(key, "must be true or false");
      return false;
    }
    return v->get<bool>();
  }
  absl::Duration nanos(std::string_view key, std::optional<int64_t> fallback = std::nullopt) {
    return absl::Nanoseconds(integer(key, fallback));
  }
  absl::Time micros(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || !v->is_number_integer()) {
      fail(key, "must be an integer (unix microseconds)");
      return absl::UnixEpoch();
    }
    return absl::FromUnixMicros(integer(key));
  }
  // Absent or null: nullopt.
  std::optional<absl::Time> nullableMicros(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_number_integer()) {
      fail(key, "must be an integer (unix microseconds) or null");
      return std::nullopt;
    }
    return absl::FromUnixMicros(integer(key));
  }
  // A string member parsed by `parse` (parseAlgorithm, parseBreakerMode, ...).
  template <typename Parse>
  auto named(std::string_view key, Parse parse)
      -> std::decay_t<decltype(*parse(std::string_view()))> {
    using T = std::decay_t<decltype(*parse(std::string_view()))>;
    const std::string text = string(key);
    if (!ok()) return T{};
    auto parsed = parse(text);
    if (!parsed.ok()) {
      fail(key, absl::StrCat("is invalid: ", parsed.status().message()));
      return T{};
    }
    return *std::move(parsed);
  }
  // The array member `key`; nullptr (and a problem) if it is absent or not an array.
  const json* array(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr || !v->is_array()) {
      fail(key, "must be an array");
      return nullptr;
    }
    return v;
  }
  // The member `key`, or nullptr (and a problem) if absent.
  const json* required(std::string_view key) {
    const json* v = member(key);
    if (v == nullptr) fail(key, "is missing");
    return v;
  }

 private:
  const json* member(std::string_view key) const {
    if (!ok()) return nullptr;
    auto it = j_.find(std::string(key));
    return it == j_.end() ? nullptr : &*it;
  }

  const json& j_;
  std::string_view what_;
  std::string path_;
  absl::Status status_;
};

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(av(path), ".", av(key));
}

std::string indexed(std::string_view path, std::string_view key, size_t i) {
  return absl::StrCat(join(path, key), "[", i, "]");
}

json ruleToJson(const RuleSpec& r) {
  return {
      {"id", r.id},
      {"path", r.path},
      {"method", r.method ? json(*r.method) : json(nullptr)},
      {"scope", ratelimit::scopeName(r.scope, r.header)},
      {"algorithm", std::string(ratelimit::algorithmName(r.algorithm))},
      {"rate", r.rate},
      {"per_ns", absl::ToInt64Nanoseconds(r.per)},
      {"burst", r.burst},
      {"queue", r.queue},
      {"warmup_ns", absl::ToInt64Nanoseconds(r.warmup)},
      {"on_limit", std::string(ratelimit::onLimitName(r.on_limit))},
      {"max_wait_ns", absl::ToInt64Nanoseconds(r.max_wait)},
      {"distributed", r.distributed},
      {"line", r.line},
  };
}

absl::StatusOr<RuleSpec> ruleFromJson(const json& j, std::string_view what, std::string path) {
  Reader r(j, what, std::move(path));
  RuleSpec s;
  s.id = r.nullableString("id").value_or("");
  s.path = r.string("path");
  s.method = r.nullableString("method");
  const ratelimit::Scope scope = r.named("scope", ratelimit::parseScope);
  s.scope = scope.kind;
  s.header = scope.header;
  s.algorithm = r.named("algorithm", ratelimit::parseAlgorithm);
  s.on_limit = r.named("on_limit", ratelimit::parseOnLimit);
  // The fallbacks are format 1's: a missing rate or per fails validation, not decoding.
  s.rate = r.integer("rate", -1);
  s.per = r.nanos("per_ns", -1);
  s.burst = r.integer("burst", 1);
  s.queue = r.integer("queue", 0);
  s.warmup = r.nanos("warmup_ns", 0);
  s.max_wait = r.nanos("max_wait_ns", 0);
  s.line = static_cast<int>(std::clamp<int64_t>(r.integer("line", 0), 0, 1 << 30));
  s.distributed = r.boolean("distributed", false);
  if (!r.ok()) return r.status();
  return s;
}

json changeToJson(const Change& c) {
  return {{"version", c.version}, {"at", absl::ToUnixMicros(c.at)},
          {"author", c.author},   {"peer", c.peer},
          {"source", c.source},   {"comment", c.comment},
          {"node", c.node}};
}

absl::StatusOr<Change> changeFromJson(const json& j, std::string_view what, std::string path) {
  Reader r(j, what, std::move(path));
  Change c;
  c.version = r.count("version");
  c.at = r.micros("at");
  c.author = r.string("author");
  c.peer = r.string("peer");
  c.source = r.string("source");
  c.comment = r.string("comment");
  c.node = r.string("node");
  if (!r.ok()) return r.status();
  return c;
}

// Parses `text` and decodes it with `decode(json, what)`.
template <typename Decode>
auto fromText(std::string_view text, std::string_view what, Decode decode)
    -> decltype(decode(json(), what)) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(av(what), ": not valid JSON"));
  return decode(j, what);
}

}  // namespace

std::string dump(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

json toJson(const RuleDocument& doc) {
  json rules = json::array();
  for (const RuleSpec& r : doc.rules) rules.push_back(ruleToJson(r));
  json overrides = json::array();
  for (const ratelimit::Override& o : doc.overrides) {
    overrides.push_back(
        {{"prefix", o.prefix}, {"mode", std::string(ratelimit::overrideModeName(o.mode))}});
  }
  return {{"format", kRuleDocumentFormat},
          {"rules", std::move(rules)},
          {"overrides", std::move(overrides)}};
}

absl::StatusOr<RuleDocument> decodeRuleDocument(const json& j, std::string_view what,
                                                std::string_view path) {
  Reader r(j, what, std::string(path));
  const int64_t format = r.integer("format");
  if (r.ok() && (format < kOldestRuleDocumentFormat || format > kRuleDocumentFormat)) {
    r.fail("format", absl::StrCat("must be ", kOldestRuleDocumentFormat, " to ",
                                  kRuleDocumentFormat, " (not ", format, ")"));
  }
  const json* rules = r.array("rules");
  const json* overrides = format >= 2 ? r.array("overrides") : nullptr;
  if (!r.ok()) return r.status();
  RuleDocument doc;
  doc.rules.reserve(rules->size());
  for (size_t i = 0; i < rules->size(); ++i) {
    absl::StatusOr<RuleSpec> rule = ruleFromJson((*rules)[i], what, indexed(path, "rules", i));
    if (!rule.ok()) return rule.status();
    doc.rules.push_back(*std::move(rule));
  }
  if (overrides != nullptr) {
    for (size_t i = 0; i < overrides->size(); ++i) {
      Reader o((*overrides)[i], what, indexed(path, "overrides", i));
      ratelimit::Override entry;
      entry.prefix = o.string("prefix");
      entry.mode = o.named("mode", ratelimit::parseOverrideMode);
      if (!o.ok()) return o.status();
      doc.overrides.push_back(std::move(entry));
    }
  }
  return doc;
}

json toJson(const RuleVersion& v) {
  return {
      {"change", changeToJson(v.change)}, {"doc", toJson(v.doc)}, {"file_digest", v.file_digest}};
}

absl::StatusOr<RuleVersion> decodeRuleVersion(const json& j, std::string_view what,
                                              std::string_view path) {
  Reader r(j, what, std::string(path));
  const json* change = r.required("change");
  const json* doc = r.required("doc");
  RuleVersion v;
  v.file_digest = r.string("file_digest");
  if (!r.ok()) return r.status();
  absl::StatusOr<Change> c = changeFromJson(*change, what, join(path, "change"));
  if (!c.ok()) return c.status();
  v.change = *std::move(c);
  absl::StatusOr<RuleDocument> d = decodeRuleDocument(*doc, what, join(path, "doc"));
  if (!d.ok()) return d.status();
  v.doc = *std::move(d);
  return v;
}

json toJson(const BreakerSetting& s) {
  return {{"name", s.name},
          {"mode", std::string(ratelimit::breakerModeName(s.mode))},
          {"file_mode", std::string(ratelimit::breakerModeName(s.file_mode))}};
}

absl::StatusOr<BreakerSetting> decodeBreakerSetting(const json& j, std::string_view what,
                                                    std::string_view path) {
  Reader r(j, what, std::string(path));
  BreakerSetting s;
  s.name = r.string("name");
  s.mode = r.named("mode", ratelimit::parseBreakerMode);
  s.file_mode = r.named("file_mode", ratelimit::parseBreakerMode);
  if (!r.ok()) return r.status();
  return s;
}

json toJson(const SaleRecord& record) {
  const SaleSpec& s = record.spec;
  json j = {{"id", s.id},
            {"name", s.name},
            {"stock", s.stock},
            {"require_token", s.require_token},
            {"strategy", std::string(stockStrategyName(s.strategy))},
            {"pay_timeout_ns", absl::ToInt64Nanoseconds(s.pay_timeout)},
            {"dedup_ttl_ns", absl::ToInt64Nanoseconds(s.dedup_ttl)},
            {"token_ttl_ns", absl::ToInt64Nanoseconds(s.token_ttl)},
            {"file_digest", record.file_digest}};
  if (s.opens_at) j["opens_at"] = absl::ToUnixMicros(*s.opens_at);
  if (s.closes_at) j["closes_at"] = absl::ToUnixMicros(*s.closes_at);
  return j;
}

absl::StatusOr<SaleRecord> decodeSaleRecord(const json& j, std::string_view what,
                                            std::string_view path) {
  Reader r(j, what, std::string(path));
  SaleRecord record;
  SaleSpec& s = record.spec;
  s.id = r.string("id");
  s.name = r.string("name");
  s.stock = r.integer("stock");
  s.opens_at = r.nullableMicros("opens_at");
  s.closes_at = r.nullableMicros("closes_at");
  s.require_token = r.boolean("require_token");
  s.strategy = r.named("strategy", parseStockStrategy);
  s.pay_timeout = r.nanos("pay_timeout_ns");
  s.dedup_ttl = r.nanos("dedup_ttl_ns");
  s.token_ttl = r.nanos("token_ttl_ns");
  record.file_digest = r.string("file_digest");
  if (!r.ok()) return r.status();
  return record;
}

json toJson(const AuditEntry& e) {
  return {{"seq", e.seq},        {"at", absl::ToUnixMicros(e.at)},
          {"author", e.author},  {"peer", e.peer},
          {"node", e.node},      {"action", e.action},
          {"target", e.target},  {"detail", e.detail},
          {"version", e.version}};
}

absl::StatusOr<AuditEntry> decodeAuditEntry(const json& j, std::string_view what,
                                            std::string_view path) {
  Reader r(j, what, std::string(path));
  AuditEntry e;
  e.seq = r.count("seq");
  e.at = r.micros("at");
  e.author = r.string("author");
  e.peer = r.string("peer");
  e.node = r.string("node");
  e.action = r.string("action");
  e.target = r.string("target");
  e.detail = r.string("detail");
  e.version = r.count("version");
  if (!r.ok()) return r.status();
  return e;
}

std::string ruleDocumentToJson(const RuleDocument& doc) { return dump(toJson(doc)); }

absl::StatusOr<RuleDocument> ruleDocumentFromJson(std::string_view text, std::string_view what) {
  return fromText(text, what,
                  [](const json& j, std::string_view w) { return decodeRuleDocument(j, w); });
}

std::string ruleVersionToJson(const RuleVersion& v) { return dump(toJson(v)); }

absl::StatusOr<RuleVersion> ruleVersionFromJson(std::string_view text, std::string_view what) {
  return fromText(text, what,
                  [](const json& j, std::string_view w) { return decodeRuleVersion(j, w); });
}

std::string breakerSettingToJson(const BreakerSetting& s) { return dump(toJson(s)); }

absl::StatusOr<BreakerSetting> breakerSettingFromJson(std::string_view text,
                                                      std::string_view what) {
  return fromText(text, what,
                  [](const json& j, std::string_view w) { return decodeBreakerSetting(j, w); });
}

std::string saleRecordToJson(const SaleRecord& record) { return dump(toJson(record)); }

absl::StatusOr<SaleRecord> saleRecordFromJson(std::string_view text, std::string_view what) {
  return fromText(text, what,
                  [](const json& j, std::string_view w) { return decodeSaleRecord(j, w); });
}

std::string auditEntryToJson(const AuditEntry& e) { return dump(toJson(e)); }

absl::StatusOr<AuditEntry> auditEntryFromJson(std::string_view text, std::string_view what) {
  return fromText(text, what,
                  [](const json& j, std::string_view w) { return decodeAuditEntry(j, w); });
}

}  // namespace seckill::codec
