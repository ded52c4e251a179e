#pragma once

#include <QString>
#include <QStringList>
#include <string>
#include <vector>

#include "seckill/admin/v1/types.pb.h"

namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

// An operator's pending edits to the rule set, kept as operations rather than as a finished
// set, so that after a conflict they can be replayed on the newer set another operator made.
// Pure logic: no Qt objects, no I/O.
class RuleDraft {
 public:
  struct Edit {
    enum class Kind { kPut, kDelete };
    Kind kind = Kind::kPut;
    std::string target;  // the id of the rule it replaces or deletes; "" for a new rule
    v1::Rule rule;       // kPut: the rule as it should be
  };

  // Adds `rule`, or replaces the rule whose id is `target`. A later edit of the same target
  // replaces the earlier one.
  void put(const std::string& target, const v1::Rule& rule);
  // Deletes the rule whose id is `id` (and drops a pending edit of it).
  void remove(const std::string& id);
  // Drops the last edit.
  void undo();
  void clear() { edits_.clear(); }
  bool empty() const { return edits_.empty(); }
  int size() const { return static_cast<int>(edits_.size()); }
  const std::vector<Edit>& edits() const { return edits_; }

  // `base` with every edit applied in order: a put replaces the rule with its target id in
  // place (and is appended when it is new or its target is gone), a delete drops the rule
  // (nothing when it is already gone). Overrides are kept as they are in `base`.
  v1::RuleSet applyTo(const v1::RuleSet& base) const;

  // One line per edit: "+ <rule>", "~ <id>: <rule>", "- <id>".
  QStringList describe() const;

 private:
  std::vector<Edit> edits_;
};

// A rule as the form makes it from an edited copy of `original`: the id is kept while the
// fields that make the engine's default id (method, path, scope, per) are unchanged, or when it
// was set by hand; otherwise it is cleared so that the engine derives the new one.
v1::Rule withFittingId(const v1::Rule& original, v1::Rule edited);

// One problem the console finds in a rule before asking the engine: the TOML key (as the
// engine's ValidationError.field names it) and the sentence.
struct RuleProblem {
  QString field;
  QString message;
};
// The engine's per-rule checks that need no state (path syntax, ranges, which on_limit needs
// which algorithm); the engine's Validate stays the judge. Empty when none is found.
std::vector<RuleProblem> checkRule(const v1::Rule& rule);

}  // namespace seckill::console
