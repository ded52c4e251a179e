#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace seckill::ratelimit {

// How a rule counts. See algorithms.h for the exact behaviour of each.
enum class Algorithm { kTokenBucket, kLeakyBucket, kSlidingWindow, kSlidingLog };
// What a rule counts per: one shared state, or one state per value of a request attribute.
enum class ScopeKind { kGlobal, kUser /* X-User-Id */, kIp, kHeader /* header:<name> */ };
// What happens to a request the rule limits.
enum class OnLimit {
  kReject,  // 429 with Retry-After
  kQueue,   // wait up to max_wait for a slot (token_bucket, leaky_bucket only), else 429
  kLog,     // shadow: admit, count and report
};

// Parses "token_bucket" | "leaky_bucket" | "sliding_window" | "sliding_log".
absl::StatusOr<Algorithm> parseAlgorithm(std::string_view name);
std::string_view algorithmName(Algorithm a);
// Parses "global" | "user" | "ip" | "header:<name>"; the header name is lower-cased.
struct Scope {
  ScopeKind kind = ScopeKind::kGlobal;
  std::string header;
};
absl::StatusOr<Scope> parseScope(std::string_view text);
// "global" | "user" | "ip" | "header:<name>".
std::string scopeName(ScopeKind kind, std::string_view header);
// Parses "reject" | "queue" | "log".
absl::StatusOr<OnLimit> parseOnLimit(std::string_view name);
std::string_view onLimitName(OnLimit o);
// Parses "s" | "min" | "h" into 1s | 1min | 1h.
absl::StatusOr<absl::Duration> parsePer(std::string_view unit);
// "s" | "min" | "h"; for any other duration its absl::FormatDuration.
std::string perName(absl::Duration per);

// Largest rate, burst or queue a rule may carry; keeps every limiter's arithmetic in range.
inline constexpr int64_t kMaxRate = 1'000'000'000;
// Largest rate of a sliding_log rule: its memory is one timestamp per admitted request in the
// window, per key (8 bytes each).
inline constexpr int64_t kMaxSlidingLogRate = 100'000;
// Bounds on what one rule set may hold, so a hostile or mistaken set cannot exhaust memory.
inline constexpr size_t kMaxRules = 10'000;
inline constexpr size_t kMaxPathBytes = 1024;
inline constexpr size_t kMaxPathSegments = 64;
inline constexpr size_t kMaxRuleIdBytes = 1200;  // a default id of the longest path fits

// One rate rule, as configured. Plain data; validateRules() says whether a set can be served.
struct RuleSpec {
  // The rule's stable name: its metric label, and what the admin API's rule-level calls name.
  // Printable ASCII, at most kMaxRuleIdBytes, unique in a set. assignRuleIds() fills an empty
  // one with the default, "<METHOD|ANY> <path> <scope> /<per>", which survives edits of rate,
  // burst, algorithm and on_limit.
  std::string id;
  // "/api/v1/sales/*/orders": literal segments, "*" = exactly one segment, "**" = zero or more
  // segments (last only). A pattern without "**" matches only paths of exactly its segments.
  std::string path;
  std::optional<std::string> method;  // "POST"; absent = any
  ScopeKind scope = ScopeKind::kGlobal;
  std::string header;  // header name for kHeader, lower-case
  Algorithm algorithm = Algorithm::kTokenBucket;
  int64_t rate = 0;
  absl::Duration per = absl::Seconds(1);  // 1s | 1min | 1h
  int64_t burst = 1;                      // token_bucket capacity; others ignore it
  int64_t queue = 0;                      // leaky_bucket: admitted requests that may wait
  // token_bucket only; 0 = none. From a cold start (or after idling for this long) the refill
  // rate climbs linearly from rate/3 to rate over this period.
  absl::Duration warmup = absl::ZeroDuration();
  OnLimit on_limit = OnLimit::kReject;
  absl::Duration max_wait = absl::ZeroDuration();  // kQueue: longest a request may wait
  // State shared by every engine node (RemoteLimiterBackend, remote_limiter.h) instead of
  // in-process; on_limit = queue is refused for such a rule.
  bool distributed = false;
  int line = 0;              // config line, 0 if from the API

  // "POST /api/v1/sales/*/orders user token_bucket 1/s", for messages and metrics labels.
  std::string name() const;
  // Everything that defines the limiter's behaviour and where its state lives (not id,
  // on_limit, max_wait or line). A reload keeps the state of rules whose identity is unchanged.
  std::string identity() const;
  // "POST /api/v1/sales/*/orders user /s": the id a rule gets when it names none.
  std::string defaultId() const;
};

// Gives every rule without an id its defaultId(); when that is taken by an earlier rule of the
// set, " #2", " #3", ... is appended (in set order). Explicit ids are left alone.
void assignRuleIds(std::vector<RuleSpec>& rules);

// One problem of a rule set: which rule (index into the set, -1 for the set as a whole), which
// field (the config key, "" for the rule as a whole) and the sentence that names both.
struct RuleProblem {
  int index = -1;
  std::string field;
  int line = 0;  // the rule's config line, 0 if not from a file
  std::string message;  // "rule 3 (line 12) \"...\": rate must be > 0"
};

// Every problem of the set: each rule's first problem, then the conflicts between rules (see
// validateRules), ordered by rule. Empty iff the set can be served. A rule without an id is
// checked with the one assignRuleIds() would give it.
std::vector<RuleProblem> checkRuleSet(const std::vector<RuleSpec>& rules);

// identity() hashed with 64-bit FNV-1a: the same in every process, build and version, so it
// can name a distributed rule's shared state (Redis keys).
uint64_t stableIdentityHash(const RuleSpec& rule);

// OK iff the whole set can be served. Otherwise the message names the first offending rule
// ("rule 3 (line 12) \"...\": rate must be > 0") and the set must be rejected whole.
//
// Besides each rule's own fields, two rules conflict when they sit on the same node and scope
// (same path pattern, method and scope) and either (a) their identities are equal, or
// (b) with A.per < B.per, B.rate < A.rate: the longer window then admits fewer requests than
// the shorter one already allows, so A could never be the rule that limits and the pair is
// almost certainly a typo (100/s with 50/min). Equal rates (100/s with 100/min) are allowed.
absl::Status validateRules(const std::vector<RuleSpec>& rules);

// A path pattern split into its segments; fails on a malformed pattern.
struct PathPattern {
  std::vector<std::string> segments;  // literal or "*"; never "**"
  bool rest = false;                  // ended with "**"
};
absl::StatusOr<PathPattern> parsePathPattern(std::string_view pattern);

}  // namespace seckill::ratelimit
