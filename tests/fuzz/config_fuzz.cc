// config_fuzz: the TOML config and rule files (engine/app/config.h) on any bytes. Each input
// is read both ways, as an engine config (parseConfig) and as a rule file (parseRuleFile).
//
// Invariants:
// - parseConfig either accepts, and then the result passes the checks start-up runs again
//   (SaleCatalog::create on the sales, ratelimit::validateRules on the rules, the overrides
//   installable), or refuses with InvalidArgument whose every line names the source and whose
//   first names a line ("fuzz.toml:12: ..."), sorted by line;
// - parseRuleFile either accepts a whole document that validates (control::checkDocument is
//   empty), which formatRuleFile writes back as text that parses to the same document
//   (control::sameContent), or refuses with such a message and at least one problem;
// - a config's rules, written as a rule file, read back the same (the admin API's export);
// - never a crash, an exception, undefined behaviour or a leak.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/app/config.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/strings.h"
#include "tests/fuzz/fuzz_check.h"

namespace seckill::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz.toml";

std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// "fuzz.toml:<line>: <problem>" lines, sorted by line; a last "fuzz.toml: ... and N more".
void checkRefusal(const absl::Status& s) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  const std::string_view message = sv(s.message());
  FUZZ_CHECK(!message.empty(), "a refusal without a message");
  int64_t previous = 0;
  bool first = true;
  for (absl::string_view piece : absl::StrSplit(absl::string_view(message.data(), message.size()), '\n')) {
    const std::string_view line = sv(piece);
    FUZZ_CHECK(line.starts_with(kSource) && line.size() > kSource.size() + 1 &&
                   line[kSource.size()] == ':',
               absl::StrCat("a message line that does not name the source: ", av(line),
                            "\nin:\n", av(message)));
    std::string_view rest = line.substr(kSource.size() + 1);
    const size_t colon = rest.find(':');
    int64_t number = 0;
    const bool numbered = colon != std::string_view::npos && colon > 0 &&
                          absl::SimpleAtoi(absl::string_view(rest.data(), colon), &number);
    if (first) {
      FUZZ_CHECK(numbered && number >= 0, absl::StrCat("the first line names no line: ", av(line)));
      FUZZ_CHECK(rest.size() > colon + 2 && rest[colon + 1] == ' ', line);
      first = false;
    }
    if (numbered) {
      FUZZ_CHECK(number >= previous, absl::StrCat("lines out of order:\n", av(message)));
      previous = number;
    }
  }
}

void checkRuleFileRoundTrip(const control::RuleDocument& doc, std::string_view what) {
  const std::string text = app::formatRuleFile(doc);
  absl::StatusOr<control::RuleDocument> back = app::parseRuleFile(text, "formatted.toml");
  FUZZ_CHECK(back.ok(), absl::StrCat(av(what), ": formatRuleFile wrote what parseRuleFile refuses: ",
                                     back.status().ToString(), "\n", text));
  control::RuleDocument normalized = doc;
  control::normalize(normalized);
  FUZZ_CHECK(control::sameContent(normalized, *back),
             absl::StrCat(av(what), ": the formatted rule file reads back differently:\n", text));
  FUZZ_CHECK(control::digest(normalized) == control::digest(*back), what);
}

void fuzzConfig(std::string_view text) {
  absl::StatusOr<app::EngineConfig> config = app::parseConfig(text, kSource);
  if (!config.ok()) return checkRefusal(config.status());

  absl::StatusOr<std::unique_ptr<SaleCatalog>> catalog = SaleCatalog::create(config->sales);
  FUZZ_CHECK(catalog.ok(), absl::StrCat("accepted sales the catalog refuses: ",
                                        catalog.status().ToString()));
  const absl::Status rules = ratelimit::validateRules(config->limits.rules);
  FUZZ_CHECK(rules.ok(), absl::StrCat("accepted rules that do not validate: ", rules.ToString()));
  ratelimit::RuleRegistry registry;
  FUZZ_CHECK(registry.replace(config->limits.rules).ok(), "accepted rules the registry refuses");
  ratelimit::RateLimiter limiter(registry);
  FUZZ_CHECK(limiter.replaceOverrides(config->limits.overrides).ok(),
             "accepted overrides the limiter refuses");
  (void)app::configWarnings(*config, absl::FromUnixSeconds(1'800'000'000));

  // What the admin API exports of these rules reads back the same.
  control::RuleDocument doc{config->limits.rules, config->limits.overrides};
  control::normalize(doc);
  if (control::checkDocument(doc).empty()) checkRuleFileRoundTrip(doc, "config rules");
}

void fuzzRuleFile(std::string_view text) {
  std::vector<ratelimit::RuleProblem> problems;
  absl::StatusOr<control::RuleDocument> doc = app::parseRuleFile(text, kSource, &problems);
  if (!doc.ok()) {
    if (doc.status().code() == absl::StatusCode::kInvalidArgument) checkRefusal(doc.status());
    FUZZ_CHECK(doc.status().code() == absl::StatusCode::kInvalidArgument,
               doc.status().ToString());
    FUZZ_CHECK(!problems.empty(), "a refused rule file without problems");
    return;
  }
  FUZZ_CHECK(problems.empty(), "an accepted rule file with problems");
  const std::vector<ratelimit::RuleProblem> left = control::checkDocument(*doc);
  FUZZ_CHECK(left.empty(), absl::StrCat("an accepted rule file that does not validate: ",
                                        left.front().message));
  checkRuleFileRoundTrip(*doc, "rule file");
  for (const ratelimit::RuleSpec& r : doc->rules) (void)control::describeRule(r);
}

}  // namespace
}  // namespace seckill::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  seckill::fuzz::fuzzConfig(text);
  seckill::fuzz::fuzzRuleFile(text);
  return 0;
}
