#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/ratelimit/snapshot_cell.h"

namespace seckill::ratelimit {

// What the edge knows about a request. Views only: valid for the duration of check().
struct RequestInfo {
  struct Header {
    std::string_view name;  // compared case-insensitively
    std::string_view value;
  };
  std::string_view method;   // "POST"
  std::string_view path;     // "/api/v1/sales/s1/orders" (a "?query" is ignored)
  std::string_view user_id;  // X-User-Id; empty if absent
  std::string_view ip;
  std::span<const Header> headers;  // consulted only by header-scoped rules
};

// The outcome of checking one request against the rules.
struct Verdict {
  enum Kind {
    kAllow,   // pass
    kDelay,   // pass after `wait`: a queue rule reserved a slot (do not block an I/O thread)
    kReject,  // 429 rate_limited, Retry-After = wait
    kShadow,  // pass, but a log-mode (or dry-run) rule would have limited it: count and warn
    kShed,    // 503: an operator override sheds everything under `rule`; Retry-After = wait
  };
  Kind kind = kAllow;
  absl::Duration wait;
  // kReject: the deciding rule's name; kShadow (or kDelay with shadowed): the first rule that
  // would have limited; kShed: "override <prefix>"; otherwise empty.
  std::string rule;
  // A log-mode or dry-run rule would have limited: true for kShadow, and for a kDelay whose
  // request a shadow rule would also have limited.
  bool shadowed = false;
  // RateLimit / RateLimit-Policy headers: the deciding rule's quota for kReject and kShadow,
  // otherwise the evaluated rule with the least remaining. has_quota = false if no rule matched.
  bool has_quota = false;
  int64_t limit = 0;
  int64_t remaining = 0;
  absl::Duration reset;
  absl::Duration window;  // the rule's `per`
  uint64_t version = 0;   // the rule set that decided
};

// Operator overrides, by path prefix.
enum class OverrideMode {
  kNone,    // rules apply as configured (use to exempt a sub-prefix of an overridden one)
  kDryRun,  // every rule behaves as on_limit = log: admit and report
  kShed,    // reject every request with kShed, without evaluating rules
};
std::string_view overrideModeName(OverrideMode m);

struct Override {
  std::string prefix;  // "/api/v1"; "/" = all
  OverrideMode mode = OverrideMode::kNone;
};

// Retry-After hint sent with kShed.
inline constexpr absl::Duration kShedRetryAfter = absl::Seconds(1);

// Checks requests against the current rule set of a registry, layer by layer: the matching
// rules are evaluated root down (RuleTrie's order) and the first that limits decides.
// Thread-safe; check() takes no lock except the per-key shard lock of each evaluated rule.
//
// - A rule that admits has consumed its token even if a deeper rule then rejects the request
//   (as nginx limit_req does with several zones); the deeper rules are what protect the scarce
//   resource, the shallower ones shape the aggregate.
// - on_limit = queue: the limiter may answer kDelay (slot reserved). Each queue rule is asked
//   at `now` with its own max_wait and the request waits for the longest delay; a queue rule
//   without room within max_wait rejects.
// - on_limit = log, or a dry-run override: the limiter is asked never to delay; a limit is
//   counted as shadow_limited, the request goes on to the deeper rules, and (if none of them
//   rejects) the verdict is kShadow.
// - Keys: user scope uses user_id, ip scope ip, header scope that header's value; a request
//   without the value is counted under the empty key (all such requests share one state), so
//   omitting a header cannot bypass a limit.
class RateLimiter {
 public:
  explicit RateLimiter(const RuleRegistry& rules);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  Verdict check(const RequestInfo& req, absl::Time now) const;

  // Sets the override for a path prefix (segment-wise: "/api/v1" covers "/api/v1" and
  // "/api/v1/x", not "/api/v12"). For a request, the longest matching prefix wins.
  // InvalidArgument if the prefix does not start with '/'. Thread-safe; takes effect for
  // requests checked after it returns.
  absl::Status setOverride(std::string_view prefix, OverrideMode mode);
  void clearOverride(std::string_view prefix);
  std::vector<Override> overrides() const;

 private:
  struct OverrideTable {
    std::vector<Override> entries;  // longest prefix first
    // The entry of the longest prefix covering `path`, or nullptr.
    const Override* find(std::string_view path) const;
  };
  void publish(std::vector<Override> entries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(override_mu_);

  const RuleRegistry& rules_;
  mutable absl::Mutex override_mu_;  // serializes writers
  std::vector<Override> override_list_ ABSL_GUARDED_BY(override_mu_);
  SnapshotCell<OverrideTable> overrides_;
};

}  // namespace seckill::ratelimit
