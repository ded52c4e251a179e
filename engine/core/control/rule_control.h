#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/clock.h"
#include "engine/core/control/actor.h"
#include "engine/core/control/control_store.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule_set.h"

namespace seckill::control {

// The one path by which the rule document (rules and overrides) changes, whoever asks: the
// admin API, the config file (start, file watch, SIGHUP), or another node. Each change is
// validated, committed to the ControlStore together with its audit entry (a compare-and-set on
// the version, so of two writers with the same expected version exactly one wins), then
// installed here (RuleRegistry under the stored version number, overrides in one swap).
//
// Precedence between the file and the API, the "newest edit wins": the state keeps the digest
// of the file's rules as last applied. The file is applied (as a new version, audited with its
// diff) only when its rules differ from that digest: at start after an edit made while the
// engine was down, on a watch or SIGHUP after an edit. An unchanged file never undoes an API
// edit, and an API edit never undoes a file edit it did not see: it is made on top of the
// current version, which includes the file's. Both events are reported through Notify.
//
// Thread-safety: thread-safe; changes are serialized on this node and by the store's version
// check across nodes. Calls block on the store.
class RuleControl {
 public:
  struct Applied {
    uint64_t version = 0;
    bool changed = false;  // false: the document equalled the current one; nothing written
    Change change;         // of `version`
  };
  // An edit of the current document; an error status refuses the change.
  using Edit = absl::AnyInvocable<absl::Status(RuleDocument&)>;

  RuleControl(const Clock& clock, ControlStore& store, ratelimit::RuleRegistry& rules,
              ratelimit::RateLimiter& limiter, std::string node, Notify notify = {});
  RuleControl(const RuleControl&) = delete;
  RuleControl& operator=(const RuleControl&) = delete;

  // Loads the state and installs its current version; seeds an empty state with `file_doc`
  // (source "seed"), and applies `file_doc` over the state when it changed since last applied.
  // `file_name` ("" when the engine runs without a file) names the author "file:<name>".
  // InvalidArgument when `file_doc` is invalid; the store's error when it cannot be read.
  absl::Status start(RuleDocument file_doc, const std::string& file_name);

  // Replaces the whole document iff the current version is `expected`. InvalidArgument (naming
  // rule and field) for an invalid document, Aborted (staleVersion) for a stale one.
  absl::StatusOr<Applied> apply(RuleDocument doc, uint64_t expected, const Actor& actor,
                                const std::string& comment);
  // Changes the current document with `edit` (one rule, an override, a mode). With `expected`,
  // only if that is the current version; without, on whatever is current (retried if another
  // writer commits in between). `action` and `target` name it in the audit log.
  absl::StatusOr<Applied> edit(const std::string& action, const std::string& target, Edit edit,
                               std::optional<uint64_t> expected, const Actor& actor,
                               const std::string& comment);
  // Makes a kept version's document current again, as a new version. NotFound if not kept.
  absl::StatusOr<Applied> rollback(uint64_t to, uint64_t expected, const Actor& actor,
                                   const std::string& comment);
  // The config file's rules after a watch or SIGHUP: applied iff they changed since the file
  // was last applied (changed = false otherwise).
  absl::StatusOr<Applied> importFile(RuleDocument doc, const std::string& file_name);
  // Installs the store's current version if it is not the one running here (another node
  // committed it). OK if nothing changed.
  absl::Status follow();

  // The version running on this node.
  RuleVersion current() const;

 private:
  // The store's current version (installed here if newer), or the one running here when the
  // state is empty.
  absl::StatusOr<RuleVersion> refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status install(const RuleVersion& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Validates `doc`, commits it as the version after `base`, installs it.
  absl::StatusOr<Applied> commit(const RuleVersion& base, RuleDocument doc, const Actor& actor,
                                 const std::string& action, const std::string& target,
                                 const std::string& comment, std::string file_digest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  ControlStore& store_;
  ratelimit::RuleRegistry& rules_;
  ratelimit::RateLimiter& limiter_;
  const std::string node_;
  const Notify notify_;
  mutable absl::Mutex mu_;
  RuleVersion current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace seckill::control
