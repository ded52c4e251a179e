#include "engine/store/redis/redis_rule_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/store/redis/redis_rate_limiter.h"
#include "engine/store/redis/redis_reply_util.h"
#include "nlohmann/json.hpp"

namespace seckill {

using ratelimit::RuleSpec;
using redis_internal::asInt;
using redis_internal::asString;

namespace {

constexpr int kFormat = 1;

absl::Status bad(size_t i, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("rule set JSON: rule ", i + 1, ": ", what));
}

// The integer member `name` of `o`, or `fallback` if absent; an error if not an integer.
absl::StatusOr<int64_t> intField(const nlohmann::json& o, const char* name, int64_t fallback,
                                 size_t i) {
  auto it = o.find(name);
  if (it == o.end()) return fallback;
  if (!it->is_number_integer()) return bad(i, absl::StrCat("\"", name, "\" must be an integer"));
  return it->get<int64_t>();
}

absl::StatusOr<std::string> stringField(const nlohmann::json& o, const char* name, size_t i) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_string()) {
    return bad(i, absl::StrCat("\"", name, "\" must be a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<RuleSpec> ruleFromJson(const nlohmann::json& o, size_t i) {
  if (!o.is_object()) return bad(i, "not an object");
  RuleSpec r;
  absl::StatusOr<std::string> path = stringField(o, "path", i);
  if (!path.ok()) return path.status();
  r.path = *std::move(path);
  if (auto it = o.find("method"); it != o.end() && !it->is_null()) {
    if (!it->is_string()) return bad(i, "\"method\" must be a string or null");
    r.method = it->get<std::string>();
  }
  absl::StatusOr<std::string> scope = stringField(o, "scope", i);
  if (!scope.ok()) return scope.status();
  absl::StatusOr<ratelimit::Scope> sc = ratelimit::parseScope(*scope);
  if (!sc.ok()) return bad(i, sc.status().message());
  r.scope = sc->kind;
  r.header = sc->header;
  absl::StatusOr<std::string> algorithm = stringField(o, "algorithm", i);
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<ratelimit::Algorithm> a = ratelimit::parseAlgorithm(*algorithm);
  if (!a.ok()) return bad(i, a.status().message());
  r.algorithm = *a;
  absl::StatusOr<std::string> on_limit = stringField(o, "on_limit", i);
  if (!on_limit.ok()) return on_limit.status();
  absl::StatusOr<ratelimit::OnLimit> ol = ratelimit::parseOnLimit(*on_limit);
  if (!ol.ok()) return bad(i, ol.status().message());
  r.on_limit = *ol;
  struct IntSpec {
    const char* name;
    int64_t fallback;
    int64_t* out;
  };
  int64_t per_ns = 0, warmup_ns = 0, max_wait_ns = 0, line = 0;
  for (const IntSpec& f : {IntSpec{"rate", -1, &r.rate}, IntSpec{"per_ns", -1, &per_ns},
                           IntSpec{"burst", 1, &r.burst}, IntSpec{"queue", 0, &r.queue},
                           IntSpec{"warmup_ns", 0, &warmup_ns},
                           IntSpec{"max_wait_ns", 0, &max_wait_ns}, IntSpec{"line", 0, &line}}) {
    absl::StatusOr<int64_t> v = intField(o, f.name, f.fallback, i);
    if (!v.ok()) return v.status();
    *f.out = *v;
  }
  r.per = absl::Nanoseconds(per_ns);
  r.warmup = absl::Nanoseconds(warmup_ns);
  r.max_wait = absl::Nanoseconds(max_wait_ns);
  r.line = static_cast<int>(std::clamp<int64_t>(line, 0, 1 << 30));
  if (auto it = o.find("distributed"); it != o.end()) {
    if (!it->is_boolean()) return bad(i, "\"distributed\" must be a boolean");
    r.distributed = it->get<bool>();
  }
  return r;
}

}  // namespace

std::string rulesToJson(const std::vector<RuleSpec>& specs) {
  nlohmann::json rules = nlohmann::json::array();
  for (const RuleSpec& r : specs) {
    rules.push_back({
        {"path", r.path},
        {"method", r.method ? nlohmann::json(*r.method) : nlohmann::json(nullptr)},
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
    });
  }
  return nlohmann::json{{"format", kFormat}, {"rules", std::move(rules)}}.dump();
}

absl::StatusOr<std::vector<RuleSpec>> rulesFromJson(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("rule set JSON: not a JSON object");
  }
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_number_integer() || format->get<int64_t>() != kFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule set JSON: \"format\" must be ", kFormat));
  }
  auto rules = doc.find("rules");
  if (rules == doc.end() || !rules->is_array()) {
    return absl::InvalidArgumentError("rule set JSON: \"rules\" must be an array");
  }
  std::vector<RuleSpec> out;
  out.reserve(rules->size());
  for (size_t i = 0; i < rules->size(); ++i) {
    absl::StatusOr<RuleSpec> r = ruleFromJson((*rules)[i], i);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  if (absl::Status s = ratelimit::validateRules(out); !s.ok()) return s;
  return out;
}

RedisRuleStore::RedisRuleStore(RedisClient& client, RedisRuleStoreOptions options)
    : client_(client), options_(std::move(options)) {}

RedisRuleStore::~RedisRuleStore() { stop(); }

void RedisRuleStore::noteVersion(uint64_t v) {
  uint64_t cur = known_version_.load(std::memory_order_relaxed);
  while (v > cur && !known_version_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

absl::StatusOr<uint64_t> RedisRuleStore::publish(const std::vector<RuleSpec>& specs) {
  if (absl::Status s = ratelimit::validateRules(specs); !s.ok()) return s;
  absl::StatusOr<RedisReply> r = client_.evalSync(
      redis_keys::kRulesRoute, options_.first_script + kScriptRlPublishRules,
      {std::string(redis_keys::kRuleSet), std::string(redis_keys::kRuleVersion)},
      {rulesToJson(specs), "publish"});
  if (!r.ok()) return r.status();
  if (r->elements.size() != 2 || !asInt(r->elements[1])) {
    return absl::InternalError("rl_publish_rules: malformed reply");
  }
  const uint64_t v = static_cast<uint64_t>(*asInt(r->elements[1]));
  noteVersion(v);
  return v;
}

absl::StatusOr<bool> RedisRuleStore::seedIfAbsent(const std::vector<RuleSpec>& specs) {
  if (absl::Status s = ratelimit::validateRules(specs); !s.ok()) return s;
  absl::StatusOr<RedisReply> r = client_.evalSync(
      redis_keys::kRulesRoute, options_.first_script + kScriptRlPublishRules,
      {std::string(redis_keys::kRuleSet), std::string(redis_keys::kRuleVersion)},
      {rulesToJson(specs), "seed"});
  if (!r.ok()) return r.status();
  if (r->elements.size() != 2 || !asInt(r->elements[0]) || !asInt(r->elements[1])) {
    return absl::InternalError("rl_publish_rules: malformed reply");
  }
  const bool written = *asInt(r->elements[0]) == 1;
  if (written) noteVersion(static_cast<uint64_t>(*asInt(r->elements[1])));
  return written;
}

absl::StatusOr<std::optional<RedisRuleStore::Stored>> RedisRuleStore::read(
    uint64_t* version_seen) {
  absl::StatusOr<RedisReply> r =
      client_.commandSync(redis_keys::kRulesRoute, {"MGET", std::string(redis_keys::kRuleSet),
                                                    std::string(redis_keys::kRuleVersion)});
  if (!r.ok()) return r.status();
  if (r->type != RedisReply::Type::kArray || r->elements.size() != 2) {
    return absl::InternalError("MGET rules: malformed reply");
  }
  const uint64_t version = static_cast<uint64_t>(asInt(r->elements[1]).value_or(0));
  if (version_seen != nullptr) *version_seen = version;
  if (r->elements[0].isNil()) return std::optional<Stored>();
  absl::StatusOr<std::vector<RuleSpec>> specs = rulesFromJson(asString(r->elements[0]));
  if (!specs.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("rule set version ", version, " in Redis: ",
                                                   specs.status().message()));
  }
  return std::optional<Stored>(Stored{version, *std::move(specs)});
}

absl::StatusOr<std::optional<RedisRuleStore::Stored>> RedisRuleStore::fetch() {
  uint64_t seen = 0;
  absl::StatusOr<std::optional<Stored>> got = read(&seen);
  if (got.ok() && got->has_value()) noteVersion(seen);
  return got;
}

absl::Status RedisRuleStore::watch(OnRules on_rules) {
  if (watcher_.joinable()) return absl::FailedPreconditionError("the rule watcher runs already");
  on_rules_ = std::move(on_rules);
  watcher_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void RedisRuleStore::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

void RedisRuleStore::run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.poll_interval)) return;
    }
    pollOnce();
  }
}

void RedisRuleStore::pollOnce() {
  absl::StatusOr<RedisReply> v =
      client_.commandSync(redis_keys::kRulesRoute, {"GET", std::string(redis_keys::kRuleVersion)});
  if (!v.ok()) {
    if (!failing_ && options_.on_error) {
      options_.on_error(absl::Status(
          v.status().code(), absl::StrCat("rule watcher: cannot read the rule version from "
                                          "Redis (the running set stays): ",
                                          v.status().message())));
    }
    failing_ = true;
    return;
  }
  failing_ = false;
  const uint64_t version = static_cast<uint64_t>(asInt(*v).value_or(0));
  if (version == 0 || version == known_version_.load(std::memory_order_relaxed) ||
      version == bad_version_) {
    return;
  }
  uint64_t seen = 0;
  absl::StatusOr<std::optional<Stored>> got = read(&seen);
  if (!got.ok()) {
    if (got.status().code() == absl::StatusCode::kInvalidArgument) {
      bad_version_ = seen;
      if (options_.on_error) {
        options_.on_error(absl::InvalidArgumentError(
            absl::StrCat(got.status().message(), " (ignored: the running set stays)")));
      }
    }
    return;
  }
  if (!got->has_value()) return;
  // A later write may have bumped the version past what this store published meanwhile;
  // hand the set over unless it is one this store already knows.
  if (seen == known_version_.load(std::memory_order_relaxed)) return;
  known_version_.store(seen, std::memory_order_relaxed);
  if (on_rules_) on_rules_(std::move((*got)->specs), seen);
}

}  // namespace seckill
