#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::control {

// What the operator edits as one versioned thing: the [[rule]] and [[override]] tables.
// A version of the engine's traffic control is one RuleDocument.
struct RuleDocument {
  std::vector<ratelimit::RuleSpec> rules;
  std::vector<ratelimit::Override> overrides;
};

// Gives rules without an id their default one (assignRuleIds) and writes override prefixes as
// the limiter keys them ("/api/v1/" -> "/api/v1").
void normalize(RuleDocument& doc);

// Every problem: the rules' (checkRuleSet) and the overrides' (index -1, field "prefix" or
// "mode": a prefix not starting with '/', or given twice). Empty iff the document can run.
std::vector<ratelimit::RuleProblem> checkDocument(const RuleDocument& doc);
// The first problem as InvalidArgument; OK iff checkDocument() is empty.
absl::Status validateDocument(const RuleDocument& doc);

// True iff both documents run the same: same rules (every field but the config line) in the
// same order and the same overrides in any order.
bool sameContent(const RuleDocument& a, const RuleDocument& b);
// A digest of the content as sameContent() sees it: equal documents, equal digests. 16 hex
// digits (FNV-1a 64), the same in every process and build.
std::string digest(const RuleDocument& doc);

// One rule on one line: "<id>: POST /api/v1/sales/*/orders user token_bucket 5/s burst 10,
// on_limit reject".
std::string describeRule(const ratelimit::RuleSpec& rule);

// What changed between two documents, rules matched by id.
struct DocumentDiff {
  struct Rule {
    enum class Kind { kAdded, kRemoved, kChanged };
    Kind kind = Kind::kChanged;
    std::string id;
    std::optional<ratelimit::RuleSpec> before;
    std::optional<ratelimit::RuleSpec> after;
    std::vector<std::string> fields;  // kChanged: the config keys that differ
  };
  struct Override {
    std::string prefix;
    std::optional<ratelimit::OverrideMode> before;  // nullopt: absent
    std::optional<ratelimit::OverrideMode> after;
  };
  std::vector<Rule> rules;
  std::vector<Override> overrides;
  bool moved = false;  // the same rules in another order (evaluation order changed)

  bool empty() const { return rules.empty() && overrides.empty() && !moved; }
  // One line per change: "+ rule <describeRule>", "- rule <id>", "~ rule <id>: rate 5 -> 10",
  // "+ override /api shed", "~ override /api dry_run -> shed", "- override /api".
  std::string text() const;
};
DocumentDiff diffDocuments(const RuleDocument& from, const RuleDocument& to);

}  // namespace seckill::control
