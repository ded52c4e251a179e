#include "engine/core/control/rule_control.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace seckill::control {

RuleControl::RuleControl(const Clock& clock, ControlStore& store, ratelimit::RuleRegistry& rules,
                         ratelimit::RateLimiter& limiter, std::string node, Notify notify)
    : clock_(clock),
      store_(store),
      rules_(rules),
      limiter_(limiter),
      node_(std::move(node)),
      notify_(std::move(notify)) {}

RuleVersion RuleControl::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status RuleControl::install(const RuleVersion& v) {
  if (absl::StatusOr<uint64_t> r = rules_.replace(v.doc.rules, v.change.version); !r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat("rule set version ", v.change.version,
                                                        " cannot run: ", r.status().message()));
  }
  if (absl::Status s = limiter_.replaceOverrides(v.doc.overrides); !s.ok()) return s;
  current_ = v;
  return absl::OkStatus();
}

absl::StatusOr<RuleVersion> RuleControl::refresh() {
  absl::StatusOr<std::optional<RuleVersion>> stored = store_.currentRules();
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return current_;
  if ((*stored)->change.version != current_.change.version) {
    if (absl::Status s = install(**stored); !s.ok()) return s;
  } else {
    current_.file_digest = (*stored)->file_digest;
  }
  return current_;
}

absl::StatusOr<RuleControl::Applied> RuleControl::commit(const RuleVersion& base, RuleDocument doc,
                                                         const Actor& actor,
                                                         const std::string& action,
                                                         const std::string& target,
                                                         const std::string& comment,
                                                         std::string file_digest) {
  normalize(doc);
  if (absl::Status s = validateDocument(doc); !s.ok()) return s;
  if (sameContent(doc, base.doc) && file_digest == base.file_digest) {
    return Applied{.version = base.change.version, .changed = false, .change = base.change};
  }
  const absl::Time now = clock_.now();
  RuleVersion next;
  next.change = Change{.version = base.change.version + 1,
                       .at = now,
                       .author = actor.name,
                       .peer = actor.peer,
                       .source = actor.source,
                       .comment = comment,
                       .node = node_};
  const std::string detail = diffDocuments(base.doc, doc).text();
  next.doc = std::move(doc);
  next.file_digest = std::move(file_digest);
  const AuditEntry audit{.at = now,
                         .author = actor.name,
                         .peer = actor.peer,
                         .node = node_,
                         .action = action,
                         .target = target,
                         .detail = detail.empty() ? "(no change to the rules)" : detail,
                         .version = next.change.version};
  if (absl::Status s = store_.commitRules(base.change.version, next, audit); !s.ok()) {
    if (absl::IsAborted(s)) {
      // Another node got there first: follow it, and say where it is now.
      absl::StatusOr<RuleVersion> now_current = refresh();
      return staleVersion(base.change.version,
                          now_current.ok() ? now_current->change.version : base.change.version + 1);
    }
    return s;
  }
  if (absl::Status s = install(next); !s.ok()) return s;
  return Applied{.version = next.change.version, .changed = true, .change = next.change};
}

absl::Status RuleControl::start(RuleDocument file_doc, const std::string& file_name) {
  normalize(file_doc);
  if (absl::Status s = validateDocument(file_doc); !s.ok()) return s;
  const std::string file_digest = digest(file_doc);
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<RuleVersion>> stored = store_.currentRules();
  if (!stored.ok()) return stored.status();
  const Actor file_actor{.name = file_name.empty() ? "engine" : absl::StrCat("file:", file_name),
                         .peer = "",
                         .source = "seed"};
  if (!stored->has_value()) {
    absl::StatusOr<Applied> a = commit(RuleVersion{}, std::move(file_doc), file_actor,
                                       "rules.seed", "", "the config file's rules", file_digest);
    if (!a.ok()) return a.status();
    if (notify_) {
      notify_(false, absl::StrCat("rules: version ", a->version, " from ",
                                  file_name.empty() ? "the built-in config" : file_name,
                                  " (the state had none)"));
    }
    return absl::OkStatus();
  }
  if (absl::Status s = install(**stored); !s.ok()) return s;
  if ((*stored)->file_digest == file_digest) {
    if (notify_) {
      const Change& c = current_.change;
      notify_(false, absl::StrCat("rules: version ", c.version, " from the state (",
                                  c.source, " by ", c.author, " at ",
                                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", c.at, absl::UTCTimeZone()),
                                  "); the file's rules have not changed since they were last "
                                  "applied"));
    }
    return absl::OkStatus();
  }
  const RuleVersion base = current_;
  Actor changed_file = file_actor;
  changed_file.source = "file";
  absl::StatusOr<Applied> a =
      commit(base, std::move(file_doc), changed_file, "rules.file", "",
             "the config file's rules changed since they were last applied", file_digest);
  if (!a.ok()) return a.status();
  if (notify_ && a->changed) {
    notify_(true, absl::StrCat("rules: ", file_name, " changed since its rules were last applied; "
                               "applied as version ", a->version, " over version ",
                               base.change.version, " (", base.change.source, " by ",
                               base.change.author, "); the audit log has the diff"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RuleControl::Applied> RuleControl::apply(RuleDocument doc, uint64_t expected,
                                                        const Actor& actor,
                                                        const std::string& comment) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<RuleVersion> base = refresh();
  if (!base.ok()) return base.status();
  if (base->change.version != expected) return staleVersion(expected, base->change.version);
  return commit(*base, std::move(doc), actor, "rules.apply", "", comment, base->file_digest);
}

absl::StatusOr<RuleControl::Applied> RuleControl::edit(const std::string& action,
                                                       const std::string& target, Edit edit,
                                                       std::optional<uint64_t> expected,
                                                       const Actor& actor,
                                                       const std::string& comment) {
  absl::MutexLock lock(&mu_);
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<RuleVersion> base = refresh();
    if (!base.ok()) return base.status();
    if (expected && base->change.version != *expected) {
      return staleVersion(*expected, base->change.version);
    }
    RuleDocument doc = base->doc;
    if (absl::Status s = edit(doc); !s.ok()) return s;
    absl::StatusOr<Applied> a =
        commit(*base, std::move(doc), actor, action, target, comment, base->file_digest);
    // Without an expected version the edit applies to whatever is current: retry a race.
    if (a.ok() || expected || !absl::IsAborted(a.status()) || attempt == kAttempts) return a;
  }
}

absl::StatusOr<RuleControl::Applied> RuleControl::rollback(uint64_t to, uint64_t expected,
                                                           const Actor& actor,
                                                           const std::string& comment) {
  absl::StatusOr<std::optional<RuleVersion>> old = store_.ruleVersion(to);
  if (!old.ok()) return old.status();
  if (!old->has_value()) {
    return absl::NotFoundError(absl::StrCat("rule set version ", to, " is not kept"));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<RuleVersion> base = refresh();
  if (!base.ok()) return base.status();
  if (base->change.version != expected) return staleVersion(expected, base->change.version);
  Actor rollback_actor = actor;
  rollback_actor.source = "rollback";
  return commit(*base, (*old)->doc, rollback_actor, "rules.rollback", absl::StrCat("version ", to),
                comment.empty() ? absl::StrCat("rollback to version ", to) : comment,
                base->file_digest);
}

absl::StatusOr<RuleControl::Applied> RuleControl::importFile(RuleDocument doc,
                                                             const std::string& file_name) {
  normalize(doc);
  if (absl::Status s = validateDocument(doc); !s.ok()) return s;
  const std::string file_digest = digest(doc);
  absl::MutexLock lock(&mu_);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<RuleVersion> base = refresh();
    if (!base.ok()) return base.status();
    if (base->file_digest == file_digest) {
      return Applied{.version = base->change.version, .changed = false, .change = base->change};
    }
    const Actor actor{.name = absl::StrCat("file:", file_name), .peer = "", .source = "file"};
    absl::StatusOr<Applied> a = commit(*base, doc, actor, "rules.file", "",
                                       "the config file's rules changed", file_digest);
    if (a.ok() && a->changed && notify_ && base->change.source == "api") {
      notify_(true, absl::StrCat("rules: ", file_name, " changed; applied as version ", a->version,
                                 " over version ", base->change.version, ", an edit through the "
                                 "admin API by ", base->change.author,
                                 " (the audit log has the diff)"));
    }
    if (a.ok() || !absl::IsAborted(a.status()) || attempt == 5) return a;
  }
}

absl::Status RuleControl::follow() {
  absl::MutexLock lock(&mu_);
  return refresh().status();
}

}  // namespace seckill::control
