#pragma once

// The [[rule]] and [[override]] tables, read the same way in the engine's config and in a rule
// file. Internal to the build (includes toml++ through toml_reader.h).

#include <string_view>
#include <vector>

#include "engine/config/toml_reader.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::config {

// Parses one [[rule]] table (the `index`-th, from 1) into `out` when it has no problem; the set
// is validated whole afterwards (control::checkDocument).
void parseRule(Diagnostics& diag, const toml::table& table, int index,
               std::vector<ratelimit::RuleSpec>& out);

// Parses one [[override]] table (the `index`-th, from 1) into `out`.
void parseOverride(Diagnostics& diag, const toml::table& table, int index,
                   std::vector<ratelimit::Override>& out);

// Pins a validateRules() message ("rule N (line L) ...") to its line; 0 when it names none.
int ruleProblemLine(const std::vector<ratelimit::RuleSpec>& rules, std::string_view message);

}  // namespace seckill::config
