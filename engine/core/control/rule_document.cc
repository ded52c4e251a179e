#include "engine/core/control/rule_document.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/core/strings.h"

namespace seckill::control {

using ratelimit::Override;
using ratelimit::OverrideMode;
using ratelimit::RuleSpec;

namespace {

// The fields of a rule that change what it does, as (config key, text) pairs: what
// sameContent, digest and the diff compare. Not `line`: where a rule sits in a file is no
// change.
std::vector<std::pair<std::string_view, std::string>> fieldsOf(const RuleSpec& r) {
  return {
      {"id", r.id},
      {"path", r.path},
      {"method", r.method.value_or("")},
      {"scope", ratelimit::scopeName(r.scope, r.header)},
      {"algorithm", std::string(ratelimit::algorithmName(r.algorithm))},
      {"rate", absl::StrCat(r.rate)},
      {"per", ratelimit::perName(r.per)},
      {"burst", absl::StrCat(r.burst)},
      {"queue", absl::StrCat(r.queue)},
      {"warmup", absl::FormatDuration(r.warmup)},
      {"on_limit", std::string(av(ratelimit::onLimitName(r.on_limit)))},
      {"max_wait", absl::FormatDuration(r.max_wait)},
      {"distributed", r.distributed ? "true" : "false"},
  };
}

std::map<std::string, OverrideMode> overrideMap(const std::vector<Override>& list) {
  std::map<std::string, OverrideMode> out;
  for (const Override& o : list) out[o.prefix] = o.mode;
  return out;
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

void normalize(RuleDocument& doc) {
  ratelimit::assignRuleIds(doc.rules);
  for (Override& o : doc.overrides) {
    if (!o.prefix.empty() && o.prefix.front() == '/') {
      o.prefix = ratelimit::normalizeOverridePrefix(o.prefix);
    }
  }
}

std::vector<ratelimit::RuleProblem> checkDocument(const RuleDocument& doc) {
  std::vector<ratelimit::RuleProblem> problems = ratelimit::checkRuleSet(doc.rules);
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < doc.overrides.size(); ++i) {
    const Override& o = doc.overrides[i];
    const std::string label = absl::StrCat("override ", i + 1, " \"", o.prefix, "\"");
    if (o.prefix.empty() || o.prefix.front() != '/') {
      problems.push_back({-1, "prefix", 0,
                          absl::StrCat(label, ": prefix must start with '/' (\"/\" covers every path)")});
    } else if (o.prefix.size() > ratelimit::kMaxPathBytes) {
      problems.push_back({-1, "prefix", 0, absl::StrCat("override ", i + 1, ": prefix is longer than ",
                                                     ratelimit::kMaxPathBytes, " bytes")});
    } else if (!seen.insert(ratelimit::normalizeOverridePrefix(o.prefix)).second) {
      problems.push_back({-1, "prefix", 0, absl::StrCat(label, ": prefix given twice")});
    }
    if (o.mode != OverrideMode::kNone && o.mode != OverrideMode::kDryRun &&
        o.mode != OverrideMode::kShed) {
      problems.push_back({-1, "mode", 0, absl::StrCat(label, ": unknown mode")});
    }
  }
  if (doc.overrides.size() > ratelimit::kMaxRules) {
    problems.push_back({-1, "", 0, absl::StrCat("the set has ", doc.overrides.size(),
                                             " overrides; at most ", ratelimit::kMaxRules)});
  }
  return problems;
}

absl::Status validateDocument(const RuleDocument& doc) {
  std::vector<ratelimit::RuleProblem> problems = checkDocument(doc);
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(problems.front().message);
}

bool sameContent(const RuleDocument& a, const RuleDocument& b) {
  if (a.rules.size() != b.rules.size()) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (fieldsOf(a.rules[i]) != fieldsOf(b.rules[i])) return false;
  }
  return overrideMap(a.overrides) == overrideMap(b.overrides);
}

std::string digest(const RuleDocument& doc) {
  uint64_t h = 14695981039346656037ull;
  for (const RuleSpec& r : doc.rules) {
    for (const auto& [key, value] : fieldsOf(r)) {
      h = fnv1a(h, key);
      h = fnv1a(h, "=");
      h = fnv1a(h, value);
      h = fnv1a(h, "\x1f");
    }
    h = fnv1a(h, "\x1e");
  }
  for (const auto& [prefix, mode] : overrideMap(doc.overrides)) {
    h = fnv1a(h, prefix);
    h = fnv1a(h, "=");
    h = fnv1a(h, ratelimit::overrideModeName(mode));
    h = fnv1a(h, "\x1e");
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

std::string describeRule(const RuleSpec& r) {
  std::string out = absl::StrCat(r.id, ": ", r.name());
  if (r.algorithm == ratelimit::Algorithm::kTokenBucket) absl::StrAppend(&out, " burst ", r.burst);
  if (r.algorithm == ratelimit::Algorithm::kLeakyBucket) absl::StrAppend(&out, " queue ", r.queue);
  if (r.warmup > absl::ZeroDuration()) {
    absl::StrAppend(&out, " warmup ", absl::FormatDuration(r.warmup));
  }
  absl::StrAppend(&out, ", on_limit ", av(ratelimit::onLimitName(r.on_limit)));
  if (r.on_limit == ratelimit::OnLimit::kQueue) {
    absl::StrAppend(&out, " max_wait ", absl::FormatDuration(r.max_wait));
  }
  if (r.distributed) out.append(", distributed");
  return out;
}

DocumentDiff diffDocuments(const RuleDocument& from, const RuleDocument& to) {
  DocumentDiff d;
  absl::flat_hash_map<std::string, const RuleSpec*> before;
  for (const RuleSpec& r : from.rules) before.emplace(r.id, &r);
  absl::flat_hash_set<std::string> kept;
  std::vector<std::string> kept_order_to;
  for (const RuleSpec& r : to.rules) {
    auto it = before.find(r.id);
    if (it == before.end()) {
      d.rules.push_back({DocumentDiff::Rule::Kind::kAdded, r.id, std::nullopt, r, {}});
      continue;
    }
    kept.insert(r.id);
    kept_order_to.push_back(r.id);
    const auto a = fieldsOf(*it->second);
    const auto b = fieldsOf(r);
    std::vector<std::string> fields;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].second != b[i].second) fields.emplace_back(a[i].first);
    }
    if (!fields.empty()) {
      d.rules.push_back({DocumentDiff::Rule::Kind::kChanged, r.id, *it->second, r, std::move(fields)});
    }
  }
  std::vector<std::string> kept_order_from;
  for (const RuleSpec& r : from.rules) {
    if (kept.contains(r.id)) {
      kept_order_from.push_back(r.id);
    } else {
      d.rules.push_back({DocumentDiff::Rule::Kind::kRemoved, r.id, r, std::nullopt, {}});
    }
  }
  d.moved = kept_order_from != kept_order_to;
  const auto a = overrideMap(from.overrides);
  const auto b = overrideMap(to.overrides);
  for (const auto& [prefix, mode] : b) {
    auto it = a.find(prefix);
    if (it == a.end()) {
      d.overrides.push_back({prefix, std::nullopt, mode});
    } else if (it->second != mode) {
      d.overrides.push_back({prefix, it->second, mode});
    }
  }
  for (const auto& [prefix, mode] : a) {
    if (!b.contains(prefix)) d.overrides.push_back({prefix, mode, std::nullopt});
  }
  return d;
}

std::string DocumentDiff::text() const {
  std::vector<std::string> lines;
  for (const Rule& r : rules) {
    switch (r.kind) {
      case Rule::Kind::kAdded:
        lines.push_back(absl::StrCat("+ rule ", describeRule(*r.after)));
        break;
      case Rule::Kind::kRemoved:
        lines.push_back(absl::StrCat("- rule ", describeRule(*r.before)));
        break;
      case Rule::Kind::kChanged: {
        const auto a = fieldsOf(*r.before);
        const auto b = fieldsOf(*r.after);
        std::vector<std::string> parts;
        for (size_t i = 0; i < a.size(); ++i) {
          if (a[i].second != b[i].second) {
            parts.push_back(absl::StrCat(av(a[i].first), " ", a[i].second.empty() ? "(any)" : a[i].second,
                                         " -> ", b[i].second.empty() ? "(any)" : b[i].second));
          }
        }
        lines.push_back(absl::StrCat("~ rule ", r.id, ": ", absl::StrJoin(parts, ", ")));
        break;
      }
    }
  }
  for (const Override& o : overrides) {
    if (!o.before) {
      lines.push_back(absl::StrCat("+ override ", o.prefix, " ", av(ratelimit::overrideModeName(*o.after))));
    } else if (!o.after) {
      lines.push_back(absl::StrCat("- override ", o.prefix, " (was ",
                                   av(ratelimit::overrideModeName(*o.before)), ")"));
    } else {
      lines.push_back(absl::StrCat("~ override ", o.prefix, " ",
                                   av(ratelimit::overrideModeName(*o.before)), " -> ",
                                   av(ratelimit::overrideModeName(*o.after))));
    }
  }
  if (moved) lines.push_back("~ rule order changed");
  return absl::StrJoin(lines, "\n");
}

}  // namespace seckill::control
