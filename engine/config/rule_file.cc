#include "engine/config/rule_file.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/config/rule_tables.h"
#include "engine/config/text_file.h"
#include "engine/config/toml_reader.h"
#include "engine/core/strings.h"

namespace seckill::config {

void parseRule(Diagnostics& diag, const toml::table& table, int index,
               std::vector<ratelimit::RuleSpec>& out) {
  TableReader r = TableReader::labelled(diag, table, absl::StrCat("rule #", index));
  const size_t errors_before = diag.count();
  ratelimit::RuleSpec spec;
  spec.line = static_cast<int>(r.tableLine());
  r.require("path");
  if (auto v = r.string("path")) {
    spec.path = *v;
    r.relabel(absl::StrCat("rule #", index, " \"", spec.path, "\""));
  }
  if (auto v = r.string("id")) spec.id = *v;
  if (auto v = r.string("method")) {
    std::string m = absl::AsciiStrToUpper(*v);
    if (m.empty() || !std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      r.invalid("method", "must be an HTTP method such as \"POST\"");
    } else {
      spec.method = m;
    }
  }
  if (auto v = r.string("scope")) {
    absl::StatusOr<ratelimit::Scope> scope = ratelimit::parseScope(*v);
    if (scope.ok()) {
      spec.scope = scope->kind;
      spec.header = scope->header;
    } else {
      r.invalid("scope", scope.status());
    }
  }
  if (auto v = r.string("algorithm")) {
    absl::StatusOr<ratelimit::Algorithm> a = ratelimit::parseAlgorithm(*v);
    if (a.ok()) {
      spec.algorithm = *a;
    } else {
      r.invalid("algorithm", a.status());
    }
  }
  r.require("rate");
  // Ranges are the core's to judge (validateRules names the rule and its line).
  constexpr int64_t kAny = std::numeric_limits<int64_t>::min();
  if (auto v = r.integer("rate", kAny)) spec.rate = *v;
  if (auto v = r.string("per")) {
    absl::StatusOr<absl::Duration> per = ratelimit::parsePer(*v);
    if (per.ok()) {
      spec.per = *per;
    } else {
      r.invalid("per", per.status());
    }
  }
  if (auto v = r.integer("burst", kAny)) spec.burst = *v;
  if (auto v = r.integer("queue", kAny)) spec.queue = *v;
  if (auto v = r.duration("warmup")) spec.warmup = *v;
  if (auto v = r.string("on_limit")) {
    absl::StatusOr<ratelimit::OnLimit> o = ratelimit::parseOnLimit(*v);
    if (o.ok()) {
      spec.on_limit = *o;
    } else {
      r.invalid("on_limit", o.status());
    }
  }
  if (auto v = r.duration("max_wait")) spec.max_wait = *v;
  if (auto v = r.boolean("distributed")) spec.distributed = *v;
  r.finish();
  if (diag.count() == errors_before) out.push_back(std::move(spec));
}

void parseOverride(Diagnostics& diag, const toml::table& table, int index,
                   std::vector<ratelimit::Override>& out) {
  TableReader r = TableReader::labelled(diag, table, absl::StrCat("override #", index));
  ratelimit::Override o;
  r.require("prefix");
  if (auto v = r.string("prefix")) {
    if (v->empty() || (*v)[0] != '/') {
      r.invalid("prefix", "must start with '/' (\"/\" covers every path)");
    }
    o.prefix = *v;
  }
  r.require("mode");
  if (auto v = r.string("mode")) {
    absl::StatusOr<ratelimit::OverrideMode> m = ratelimit::parseOverrideMode(*v);
    if (m.ok()) {
      o.mode = *m;
    } else {
      r.invalid("mode", "must be dry_run | shed | none");
    }
  }
  r.finish();
  out.push_back(std::move(o));
}

int ruleProblemLine(const std::vector<ratelimit::RuleSpec>& rules, std::string_view message) {
  for (const ratelimit::RuleSpec& r : rules) {
    if (absl::StrContains(av(message), absl::StrCat("(line ", r.line, ")"))) return r.line;
  }
  return 0;
}

absl::StatusOr<control::RuleDocument> parseRuleFile(std::string_view text,
                                                    std::string_view source_name,
                                                    std::vector<ratelimit::RuleProblem>* problems) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::string message = absl::StrCat(av(source_name), ":", e.source().begin.line,
                                       ": TOML syntax error: ", oneLine(e.description()));
    if (problems != nullptr) {
      problems->push_back({-1, "", static_cast<int>(e.source().begin.line), message});
    }
    return absl::InvalidArgumentError(message);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(av(source_name), ": cannot parse: ", e.what()));
  }
  Diagnostics diag(source_name);
  control::RuleDocument doc;
  TableReader top = TableReader::dotted(diag, root, "");
  int rule_index = 0;
  for (const toml::table* t : top.arrayOfTables("rule")) parseRule(diag, *t, ++rule_index, doc.rules);
  int override_index = 0;
  for (const toml::table* t : top.arrayOfTables("override")) {
    parseOverride(diag, *t, ++override_index, doc.overrides);
  }
  for (auto&& [k, v] : root) {
    if (k.str() == "rule" || k.str() == "override") continue;
    diag.error(lineOf(v), absl::StrCat("\"", av(k.str()),
                                       "\": a rule file holds only [[rule]] and [[override]] tables"));
  }
  if (diag.ok()) {
    control::normalize(doc);
    for (const ratelimit::RuleProblem& p : control::checkDocument(doc)) {
      diag.error(ruleProblemLine(doc.rules, p.message), p.message);
      if (problems != nullptr) problems->push_back(p);
    }
  } else if (problems != nullptr) {
    // Named: a temporary Status would die before the loop reads the lines it split.
    const absl::Status refused = diag.status();
    for (absl::string_view line : absl::StrSplit(refused.message(), '\n')) {
      problems->push_back({-1, "", 0, std::string(line)});
    }
  }
  if (!diag.ok()) return diag.status();
  return doc;
}

absl::StatusOr<control::RuleDocument> loadRuleFile(const std::string& path) {
  absl::StatusOr<std::string> text = config::readTextFile(path, "rule file");
  if (!text.ok()) return text.status();
  return parseRuleFile(*text, path);
}

namespace {

// A TOML basic string: quoted, with \ " and control characters escaped.
std::string tomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string formatRuleFile(const control::RuleDocument& doc) {
  std::string out;
  for (const ratelimit::RuleSpec& r : doc.rules) {
    if (!out.empty()) out.push_back('\n');
    out.append("[[rule]]\n");
    if (!r.id.empty() && r.id != r.defaultId()) absl::StrAppend(&out, "id = ", tomlString(r.id), "\n");
    absl::StrAppend(&out, "path = ", tomlString(r.path), "\n");
    if (r.method) absl::StrAppend(&out, "method = ", tomlString(*r.method), "\n");
    absl::StrAppend(&out, "scope = ", tomlString(ratelimit::scopeName(r.scope, r.header)), "\n");
    absl::StrAppend(&out, "algorithm = \"", av(ratelimit::algorithmName(r.algorithm)), "\"\n");
    absl::StrAppend(&out, "rate = ", r.rate, "\nper = \"", ratelimit::perName(r.per), "\"\n");
    if (r.algorithm == ratelimit::Algorithm::kTokenBucket || r.burst != 1) {
      absl::StrAppend(&out, "burst = ", r.burst, "\n");
    }
    if (r.algorithm == ratelimit::Algorithm::kLeakyBucket || r.queue != 0) {
      absl::StrAppend(&out, "queue = ", r.queue, "\n");
    }
    if (r.warmup > absl::ZeroDuration()) {
      absl::StrAppend(&out, "warmup = \"", absl::FormatDuration(r.warmup), "\"\n");
    }
    absl::StrAppend(&out, "on_limit = \"", av(ratelimit::onLimitName(r.on_limit)), "\"\n");
    if (r.max_wait > absl::ZeroDuration()) {
      absl::StrAppend(&out, "max_wait = \"", absl::FormatDuration(r.max_wait), "\"\n");
    }
    if (r.distributed) out.append("distributed = true\n");
  }
  for (const ratelimit::Override& o : doc.overrides) {
    if (!out.empty()) out.push_back('\n');
    absl::StrAppend(&out, "[[override]]\nprefix = ", tomlString(o.prefix), "\nmode = \"",
                    av(ratelimit::overrideModeName(o.mode)), "\"\n");
  }
  return out;
}

}  // namespace seckill::config
