#include "engine/core/ratelimit/rule.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::ratelimit {

absl::StatusOr<Algorithm> parseAlgorithm(std::string_view name) {
  if (name == "token_bucket") return Algorithm::kTokenBucket;
  if (name == "leaky_bucket") return Algorithm::kLeakyBucket;
  if (name == "sliding_window") return Algorithm::kSlidingWindow;
  if (name == "sliding_log") return Algorithm::kSlidingLog;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown algorithm \"", av(name),
                   "\" (token_bucket | leaky_bucket | sliding_window | sliding_log)"));
}

std::string_view algorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kTokenBucket: return "token_bucket";
    case Algorithm::kLeakyBucket: return "leaky_bucket";
    case Algorithm::kSlidingWindow: return "sliding_window";
    case Algorithm::kSlidingLog: return "sliding_log";
  }
  return "?";
}

namespace {

// RFC 9110 token characters, the shape of a header name and of a method.
bool isTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

// Characters allowed in a literal path segment: RFC 3986 pchar minus '*' (wildcards are whole
// segments only).
bool isSegmentChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("-._~%!$&'()+,;=:@").find(c) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<Scope> parseScope(std::string_view text) {
  if (text == "global") return Scope{ScopeKind::kGlobal, ""};
  if (text == "user") return Scope{ScopeKind::kUser, ""};
  if (text == "ip") return Scope{ScopeKind::kIp, ""};
  constexpr std::string_view kHeader = "header:";
  if (text.substr(0, kHeader.size()) == kHeader) {
    std::string name = absl::AsciiStrToLower(av(text.substr(kHeader.size())));
    if (!isToken(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("scope \"", av(text), "\": header name must be a non-empty token"));
    }
    return Scope{ScopeKind::kHeader, std::move(name)};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scope \"", av(text), "\" (global | user | ip | header:<name>)"));
}

std::string scopeName(ScopeKind kind, std::string_view header) {
  switch (kind) {
    case ScopeKind::kGlobal: return "global";
    case ScopeKind::kUser: return "user";
    case ScopeKind::kIp: return "ip";
    case ScopeKind::kHeader: return absl::StrCat("header:", av(header));
  }
  return "?";
}

absl::StatusOr<OnLimit> parseOnLimit(std::string_view name) {
  if (name == "reject") return OnLimit::kReject;
  if (name == "queue") return OnLimit::kQueue;
  if (name == "log") return OnLimit::kLog;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown on_limit \"", av(name), "\" (reject | queue | log)"));
}

std::string_view onLimitName(OnLimit o) {
  switch (o) {
    case OnLimit::kReject: return "reject";
    case OnLimit::kQueue: return "queue";
    case OnLimit::kLog: return "log";
  }
  return "?";
}

absl::StatusOr<absl::Duration> parsePer(std::string_view unit) {
  if (unit == "s") return absl::Seconds(1);
  if (unit == "min") return absl::Minutes(1);
  if (unit == "h") return absl::Hours(1);
  return absl::InvalidArgumentError(absl::StrCat("unknown per \"", av(unit), "\" (s | min | h)"));
}

std::string perName(absl::Duration per) {
  if (per == absl::Seconds(1)) return "s";
  if (per == absl::Minutes(1)) return "min";
  if (per == absl::Hours(1)) return "h";
  return absl::FormatDuration(per);
}

std::string RuleSpec::name() const {
  std::string out;
  if (method) absl::StrAppend(&out, *method, " ");
  absl::StrAppend(&out, path, " ", scopeName(scope, header), " ", av(algorithmName(algorithm)),
                  " ", rate, "/", perName(per));
  return out;
}

std::string RuleSpec::identity() const {
  // Unit separator between fields: none of them may contain it once validated.
  return absl::StrCat(method.value_or("*"), "\x1f", path, "\x1f", scopeName(scope, header),
                      "\x1f", av(algorithmName(algorithm)), "\x1f", rate, "\x1f",
                      absl::ToInt64Nanoseconds(per), "\x1f", burst, "\x1f", queue, "\x1f",
                      absl::ToInt64Nanoseconds(warmup), "\x1f", distributed ? "d" : "l");
}

uint64_t stableIdentityHash(const RuleSpec& rule) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : rule.identity()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::StatusOr<PathPattern> parsePathPattern(std::string_view pattern) {
  if (pattern.empty()) return absl::InvalidArgumentError("path is empty");
  if (pattern.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", av(pattern), "\" must start with '/'"));
  }
  PathPattern out;
  if (pattern == "/") return out;  // the root: matches only "/"
  std::string_view rest = pattern.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("path \"", av(pattern), "\" has an empty segment"));
    }
    if (out.rest) {
      return absl::InvalidArgumentError(
          absl::StrCat("path \"", av(pattern), "\": \"**\" must be the last segment"));
    }
    if (seg == "**") {
      out.rest = true;
    } else if (seg == "*") {
      out.segments.emplace_back(seg);
    } else {
      if (!std::all_of(seg.begin(), seg.end(), isSegmentChar)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "path \"", av(pattern), "\": bad character in segment \"", av(seg), "\""));
      }
      out.segments.emplace_back(seg);
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

namespace {

struct FieldError {
  std::string field;
  std::string message;
};

std::optional<FieldError> fieldError(std::string field, std::string message) {
  return FieldError{std::move(field), std::move(message)};
}

bool isPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// The first problem of one rule on its own, or nullopt.
std::optional<FieldError> checkRule(const RuleSpec& r) {
  if (r.path.size() > kMaxPathBytes) {
    return fieldError("path", absl::StrCat("path is longer than ", kMaxPathBytes, " bytes"));
  }
  absl::StatusOr<PathPattern> pattern = parsePathPattern(r.path);
  if (!pattern.ok()) return fieldError("path", std::string(pattern.status().message()));
  if (pattern->segments.size() > kMaxPathSegments) {
    return fieldError("path", absl::StrCat("path has more than ", kMaxPathSegments, " segments"));
  }
  if (r.id.empty()) return fieldError("id", "id is empty");
  if (r.id.size() > kMaxRuleIdBytes || !isPrintableAscii(r.id)) {
    return fieldError("id", absl::StrCat("id must be 1-", kMaxRuleIdBytes,
                                         " printable ASCII characters"));
  }
  if (r.method && !isToken(*r.method)) return fieldError("method", "method must be a token");
  if (r.method && absl::AsciiStrToUpper(*r.method) != *r.method) {
    return fieldError("method", "method must be upper-case");
  }
  switch (r.scope) {
    case ScopeKind::kGlobal:
    case ScopeKind::kUser:
    case ScopeKind::kIp:
      if (!r.header.empty()) return fieldError("scope", "header is only for header scope");
      break;
    case ScopeKind::kHeader:
      if (!isToken(r.header)) return fieldError("scope", "header scope needs a header name");
      if (absl::AsciiStrToLower(r.header) != r.header) {
        return fieldError("scope", "header name must be lower-case");
      }
      break;
    default:
      return fieldError("scope", "unknown scope");
  }
  switch (r.algorithm) {
    case Algorithm::kTokenBucket:
    case Algorithm::kLeakyBucket:
    case Algorithm::kSlidingWindow:
    case Algorithm::kSlidingLog:
      break;
    default:
      return fieldError("algorithm", "unknown algorithm");
  }
  if (r.rate <= 0) return fieldError("rate", "rate must be > 0");
  if (r.rate > kMaxRate) return fieldError("rate", absl::StrCat("rate must be <= ", kMaxRate));
  if (r.algorithm == Algorithm::kSlidingLog && r.rate > kMaxSlidingLogRate) {
    return fieldError("rate", absl::StrCat("sliding_log rate must be <= ", kMaxSlidingLogRate,
                                           " (it keeps one timestamp per request in the window)"));
  }
  if (r.per != absl::Seconds(1) && r.per != absl::Minutes(1) && r.per != absl::Hours(1)) {
    return fieldError("per", "per must be s, min or h");
  }
  if (r.burst < 1) return fieldError("burst", "burst must be >= 1");
  if (r.burst > kMaxRate) return fieldError("burst", absl::StrCat("burst must be <= ", kMaxRate));
  if (r.queue < 0) return fieldError("queue", "queue must be >= 0");
  if (r.queue > kMaxRate) return fieldError("queue", absl::StrCat("queue must be <= ", kMaxRate));
  if (r.warmup < absl::ZeroDuration()) return fieldError("warmup", "warmup must be >= 0");
  if (r.warmup > absl::ZeroDuration() && r.algorithm != Algorithm::kTokenBucket) {
    return fieldError("warmup", "warmup is only supported by token_bucket");
  }
  switch (r.on_limit) {
    case OnLimit::kReject:
    case OnLimit::kLog:
      break;
    case OnLimit::kQueue:
      if (r.algorithm != Algorithm::kTokenBucket && r.algorithm != Algorithm::kLeakyBucket) {
        return fieldError(
            "on_limit",
            "on_limit = queue needs token_bucket or leaky_bucket (a window cannot reserve a "
            "future slot)");
      }
      if (r.max_wait <= absl::ZeroDuration()) {
        return fieldError("max_wait", "on_limit = queue needs max_wait > 0");
      }
      if (r.distributed) {
        return fieldError(
            "on_limit",
            "on_limit = queue is not supported with distributed = true (the slot would be "
            "reserved in shared state while the wait runs on one node; use reject, or a local "
            "queue rule)");
      }
      break;
    default:
      return fieldError("on_limit", "unknown on_limit");
  }
  if (r.max_wait < absl::ZeroDuration()) return fieldError("max_wait", "max_wait must be >= 0");
  return std::nullopt;
}

std::string ruleLabel(const std::vector<RuleSpec>& rules, size_t i) {
  const RuleSpec& r = rules[i];
  std::string out = absl::StrCat("rule ", i + 1);
  if (r.line > 0) absl::StrAppend(&out, " (line ", r.line, ")");
  absl::StrAppend(&out, " \"", r.name(), "\"");
  return out;
}

}  // namespace

std::string RuleSpec::defaultId() const {
  return absl::StrCat(method.value_or("ANY"), " ", path, " ", scopeName(scope, header), " /",
                      perName(per));
}

void assignRuleIds(std::vector<RuleSpec>& rules) {
  absl::flat_hash_map<std::string, int> taken;
  for (const RuleSpec& r : rules) {
    if (!r.id.empty()) taken.try_emplace(r.id, 1);
  }
  for (RuleSpec& r : rules) {
    if (!r.id.empty()) continue;
    const std::string base = r.defaultId();
    std::string id = base;
    for (int n = 2; taken.contains(id); ++n) id = absl::StrCat(base, " #", n);
    taken.try_emplace(id, 1);
    r.id = std::move(id);
  }
}

std::vector<RuleProblem> checkRuleSet(const std::vector<RuleSpec>& given) {
  // An empty id stands for the default one: check the set as it will run.
  std::vector<RuleSpec> assigned;
  const bool any_empty =
      std::any_of(given.begin(), given.end(), [](const RuleSpec& r) { return r.id.empty(); });
  if (any_empty) {
    assigned = given;
    assignRuleIds(assigned);
  }
  const std::vector<RuleSpec>& rules = any_empty ? assigned : given;
  std::vector<RuleProblem> problems;
  if (rules.size() > kMaxRules) {
    problems.push_back(RuleProblem{
        .index = -1,
        .field = "",
        .message = absl::StrCat("the set has ", rules.size(), " rules; at most ", kMaxRules)});
    return problems;
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    if (std::optional<FieldError> e = checkRule(rules[i])) {
      problems.push_back(RuleProblem{.index = static_cast<int>(i),
                                     .field = e->field,
                                     .line = rules[i].line,
                                     .message = absl::StrCat(ruleLabel(rules, i), ": ", e->message)});
    }
  }
  if (!problems.empty()) return problems;
  // Group by node and scope: path pattern + method + scope.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_node;
  absl::flat_hash_map<std::string, size_t> by_identity;
  absl::flat_hash_map<std::string, size_t> by_id;
  for (size_t i = 0; i < rules.size(); ++i) {
    const RuleSpec& r = rules[i];
    if (auto [it, fresh] = by_identity.try_emplace(r.identity(), i); !fresh) {
      problems.push_back(RuleProblem{
          .index = static_cast<int>(i),
          .field = "",
          .line = r.line,
          .message = absl::StrCat(ruleLabel(rules, i), ": duplicates ", ruleLabel(rules, it->second))});
    } else if (auto [jt, free] = by_id.try_emplace(r.id, i); !free) {
      problems.push_back(RuleProblem{
          .index = static_cast<int>(i),
          .field = "id",
          .line = r.line,
          .message = absl::StrCat(ruleLabel(rules, i), ": id \"", r.id, "\" is also ",
                                  ruleLabel(rules, jt->second), "'s")});
    }
    by_node[absl::StrCat(r.method.value_or("*"), " ", r.path, " ", scopeName(r.scope, r.header))]
        .push_back(i);
  }
  // Deterministic: each conflict reported once, ordered by its rules.
  std::vector<std::pair<size_t, size_t>> conflicts;
  for (const auto& [node, idx] : by_node) {
    for (size_t a : idx) {
      for (size_t b : idx) {
        const RuleSpec& A = rules[a];
        const RuleSpec& B = rules[b];
        if (A.per < B.per && B.rate < A.rate) conflicts.emplace_back(std::min(a, b), std::max(a, b));
      }
    }
  }
  std::sort(conflicts.begin(), conflicts.end());
  for (auto [a, b] : conflicts) {
    problems.push_back(RuleProblem{
        .index = static_cast<int>(b),
        .field = "rate",
        .line = rules[b].line,
        .message = absl::StrCat(
            ruleLabel(rules, b), " contradicts ", ruleLabel(rules, a),
            ": on the same node and scope the longer window allows fewer requests than the "
            "shorter one")});
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const RuleProblem& x, const RuleProblem& y) { return x.index < y.index; });
  return problems;
}

absl::Status validateRules(const std::vector<RuleSpec>& rules) {
  std::vector<RuleProblem> problems = checkRuleSet(rules);
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(problems.front().message);
}

}  // namespace seckill::ratelimit
