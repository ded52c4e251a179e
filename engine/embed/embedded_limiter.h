#pragma once

// The limiter inside a service: seckill's rule trie, algorithms, on-limit modes, overrides and
// hot swap behind one small class, for a program that links seckill::ratelimit (docs/library.md).
// Depends on the standard library and abseil only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/http_fields.h"
#include "engine/core/ratelimit/keyed_limiters.h"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/snapshot_cell.h"

namespace seckill::ratelimit {

// A rule set as a rule file holds it: the [[rule]] tables and the [[override]] tables.
using RuleDocument = control::RuleDocument;

// One rule's traffic so far, as /metrics reports it. The counters only grow; a rule whose
// identity a swap keeps (rule.h, RuleSpec::identity) keeps its counters.
struct RuleCounts {
  std::string id;    // RuleSpec::id (the default "<METHOD|ANY> <path> <scope> /<per>" if unnamed)
  std::string name;  // RuleSpec::name(), what Verdict::rule says
  uint64_t passed = 0;
  uint64_t queued = 0;          // admitted after a wait (on_limit = "queue")
  uint64_t limited = 0;         // rejected by this rule
  uint64_t shadow_limited = 0;  // would have been limited (on_limit = "log", or a dry_run override)
  uint64_t overflowed = 0;      // decided by the shared state of keys beyond the key cap
  size_t keys = 0;              // keys tracked now (0 for a global rule)
};

struct EmbeddedLimiterOptions {
  KeyedOptions keyed;        // per rule: the cap on tracked keys, lock shards, eviction pace
  size_t keep_versions = 2;  // rule sets kept alive (the current one included); at least 1
};

// Rate limiting for requests of a service: (method, path, key) in, a Verdict out, by the rules
// of the current rule set (path patterns with "*" and "**", scopes, the four algorithms,
// on_limit = reject | queue | log, operator overrides), exactly as seckill-engine decides.
//
// Rule sets come from structs (RuleDocument / RuleSpec) or from TOML in the rule-file syntax
// (the [[rule]] and [[override]] tables of the engine's config), read by the engine's own
// parser. Every set is validated whole: an invalid one is refused with InvalidArgument naming
// the rule, its field and, for TOML, the line; the running set then stays.
//
// Thread-safety: every method may be called from any thread. decide() takes no lock except the
// per-key shard lock of each rule it evaluates, and never blocks on a swap. Swaps
// (replaceRules*, setOverride, clearOverride) are serialized among themselves.
//
// Time: the limiter never reads a clock; every decision takes `now` (absl::Now() in a service,
// a fake time in tests). Times of one key should not go backwards by more than a few
// microseconds (racing threads).
//
// Rules marked `distributed = true` are decided on in-process state here: the library has no
// shared backend.
class EmbeddedLimiter {
 public:
  using Options = EmbeddedLimiterOptions;

  // A limiter without rules (every request is admitted) until replaceRules().
  explicit EmbeddedLimiter(Options options = {});
  EmbeddedLimiter(const EmbeddedLimiter&) = delete;
  EmbeddedLimiter& operator=(const EmbeddedLimiter&) = delete;

  // A limiter running `rules` (version 1). InvalidArgument as replaceRules().
  static absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> create(RuleDocument rules,
                                                                 Options options = {});
  // A limiter running the rule file `toml` (see replaceRulesFromToml).
  static absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> fromToml(
      std::string_view toml, std::string_view source_name = "rules.toml", Options options = {});
  // A limiter running the rule file at `path` (see replaceRulesFromFile).
  static absl::StatusOr<std::unique_ptr<EmbeddedLimiter>> fromFile(const std::string& path,
                                                                   Options options = {});

  // Validates `rules` whole and makes them current: the rules in one atomic swap, then the
  // overrides in another (a decision sees the old rules or the new ones, never a mix). Rules
  // whose identity is unchanged keep their state and counters; rules without an id get their
  // default one. Returns the new version (versions only grow). InvalidArgument (one line per
  // problem, each naming the rule and its field) leaves everything as it was.
  absl::StatusOr<uint64_t> replaceRules(RuleDocument rules);
  // The same from a rule file's text: only [[rule]] and [[override]] tables. InvalidArgument
  // with one "<source_name>:<line>: <problem>" line per problem.
  absl::StatusOr<uint64_t> replaceRulesFromToml(std::string_view toml,
                                                std::string_view source_name = "rules.toml");
  // The same from the file at `path` (the path is the source name). NotFound if it does not
  // exist, FailedPrecondition if it cannot be read.
  absl::StatusOr<uint64_t> replaceRulesFromFile(const std::string& path);

  // Decides one request of `method` (e.g. "POST") on `path` (a "?query" is ignored) for `key`:
  // the value every scoped rule counts under (the user id for scope = "user", the client
  // address for "ip", the header's value for "header:<name>"); global rules ignore it, and an
  // empty key is one shared key. The request counts one unit on every rule it meets.
  //
  // Verdict::kAllow / kShadow: serve it. kDelay: serve it after `wait` (its slot is reserved;
  // wait off any event-loop thread). kReject: answer 429 with Retry-After = ceilSeconds(wait)
  // and rateLimitPolicyField() / rateLimitField() (http_fields.h). kShed: an override sheds
  // the prefix; answer 503 with Retry-After.
  Verdict decide(std::string_view method, std::string_view path, std::string_view key,
                 absl::Time now) const;
  // The same with each scope's value given apart (user id, client address, headers), and a
  // unit count (RequestInfo::hits; 0 asks without consuming).
  Verdict decide(const RequestInfo& request, absl::Time now) const;

  // Sets the operator override of a path prefix (segment-wise; the longest prefix wins):
  // kDryRun makes every rule under it log instead of limit, kShed rejects everything under it,
  // kNone exempts a sub-prefix of an overridden one. InvalidArgument if `prefix` does not start
  // with '/'. Kept until the next replaceRules*, which sets the document's overrides.
  absl::Status setOverride(std::string_view prefix, OverrideMode mode);
  void clearOverride(std::string_view prefix);

  // The version of the current rule set (0: none yet).
  uint64_t version() const;
  // The current rules (with their ids) and overrides.
  RuleDocument rules() const;
  // Each rule of the current set with its counters, in set order.
  std::vector<RuleCounts> counters() const;
  // Drops per-key state that is equivalent to a fresh one at `now` (eviction never changes a
  // decision); returns how many. Optional: tracked keys are also swept as decisions run. Call
  // it from a timer (every few seconds) to give memory back after a burst of keys.
  size_t evictIdle(absl::Time now) const;

 private:
  // The header names of the rules of the current set (and, while a swap runs, of the next one):
  // decide(method, path, key) gives each of them the key.
  struct HeaderNames {
    std::vector<std::string> names;
  };
  void publishHeaderNames(const std::vector<RuleSpec>& a, const std::vector<RuleSpec>& b)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(swap_mu_);

  RuleRegistry registry_;
  RateLimiter limiter_;
  absl::Mutex swap_mu_;  // serializes swaps
  SnapshotCell<HeaderNames> header_names_;
};

}  // namespace seckill::ratelimit
