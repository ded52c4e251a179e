#pragma once

// Rule files: the [[rule]] and [[override]] tables of the engine's config file on their own,
// read by the parser the engine starts with. Installed with the library (docs/library.md); it
// includes no TOML parser.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::config {

// A rule file: only [[rule]] and [[override]] tables, in the config file's syntax (what the
// admin API's Rules.Apply / Validate take as text). InvalidArgument with one
// "<source_name>:<line>: <problem>" line per problem; `problems` (optional) gets each with the
// rule's index and the field. Never throws.
absl::StatusOr<control::RuleDocument> parseRuleFile(
    std::string_view toml, std::string_view source_name,
    std::vector<ratelimit::RuleProblem>* problems = nullptr);

// Reads `path` and parses it with parseRuleFile(path as source name). NotFound when the file
// does not exist, FailedPrecondition when it cannot be read; both name the path.
absl::StatusOr<control::RuleDocument> loadRuleFile(const std::string& path);

// The document as a rule file (parseRuleFile reads it back to the same document).
std::string formatRuleFile(const control::RuleDocument& doc);

}  // namespace seckill::config
