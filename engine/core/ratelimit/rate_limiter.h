#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/core/ratelimit/remote_limiter.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/snapshot_cell.h"

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
  // Units the request counts for on every rule it meets (the rate-limit service's hits_addend;
  // the HTTP edge's requests count 1). 0: a peek, decided as a 1-unit request would be with
  // nothing consumed (and never delayed). See algorithms.h.
  uint32_t hits = 1;
};

// The outcome of checking one request against the rules.
struct Verdict {
  enum Kind {
    kAllow,   // pass
    kDelay,   // pass after `wait`: a queue rule reserved a slot (do not block an I/O thread)
    kReject,  // 429 rate_limited, Retry-After = wait
    kShadow,  // pass, but a log-mode (or dry-run) rule would have limited it: count and warn
    kShed,    // 503: an operator override sheds everything under `rule`; Retry-After = wait
    // 503 unavailable: the backend of distributed rule `rule` failed and the failure policy is
    // closed; Retry-After = wait (1 s).
    kUnavailable,
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
  int64_t rate = 0;       // the rule's `rate` (requests per `window`)
  uint64_t version = 0;   // the rule set that decided
};

// Operator overrides, by path prefix.
enum class OverrideMode {
  kNone,    // rules apply as configured (use to exempt a sub-prefix of an overridden one)
  kDryRun,  // every rule behaves as on_limit = log: admit and report
  kShed,    // reject every request with kShed, without evaluating rules
};
std::string_view overrideModeName(OverrideMode m);
// Parses "none" | "dry_run" | "shed".
absl::StatusOr<OverrideMode> parseOverrideMode(std::string_view name);
// The prefix as the limiter keys it ("/api/v1/" -> "/api/v1"; "/" stays).
std::string normalizeOverridePrefix(std::string_view prefix);

struct Override {
  std::string prefix;  // "/api/v1"; "/" = all
  OverrideMode mode = OverrideMode::kNone;
};

// Retry-After hint sent with kShed.
inline constexpr absl::Duration kShedRetryAfter = absl::Seconds(1);
// Retry-After hint sent with kUnavailable.
inline constexpr absl::Duration kUnavailableRetryAfter = absl::Seconds(1);

// Folds the decisions of the evaluated rules, in evaluation order, into a verdict.
struct VerdictFold {
  absl::Duration delay;
  const CompiledRule* shadow = nullptr;
  Decision shadow_decision;
  const CompiledRule* tightest = nullptr;
  Decision tightest_decision;

  // Counts `d` on the rule and folds it in. True iff it decided the request (a reject of a rule
  // that is not dry): `v` is then final.
  bool add(const CompiledRule& r, const Decision& d, bool dry, Verdict& v);
  // Completes `v` when no rule rejected.
  void finish(Verdict& v) const;
};

// The distributed rules of a request still to be asked, and what the local rules decided so
// far. Made by RateLimiter::evaluate(), consumed by RateLimiter::complete().
struct RemoteCheck {
  struct Item {
    uint32_t index;   // into set->rules()
    std::string key;  // the scope value (copied: the request's views die with the I/O turn)
    bool dry;         // log mode or dry-run override
  };
  std::shared_ptr<const RuleSet> set;  // keeps the rules alive while the backend answers
  absl::InlinedVector<Item, 2> items;  // in evaluation order
  size_t next = 0;
  absl::Time now;
  uint32_t hits = 1;  // RequestInfo::hits
  Verdict verdict;
  VerdictFold fold;
};

// evaluate()'s answer: `verdict` is final iff `remote` is null. Otherwise it is provisional:
// kDelay if a local queue rule reserved a slot (serve that wait, then call complete(); the
// final verdict then says kDelay again, already served), else kAllow.
struct Evaluation {
  Verdict verdict;
  std::unique_ptr<RemoteCheck> remote;
};

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
//
// Distributed rules (`distributed = true`, with a RemoteLimiterBackend given): evaluate() runs
// the request's LOCAL rules first, layer by layer, root down — they are cheap and shed load
// before it reaches the backend; a local reject decides at once and no distributed rule is
// asked. Then the distributed rules, layer by layer, root down, one backend call each, one
// after the other (complete()); the first that limits decides and the deeper ones are not
// asked, exactly as with local rules (so a distributed rule that admitted has consumed its
// token even if a deeper one rejects). The verdict folds local and remote decisions alike
// (RateLimit headers, shadow, counters). A backend failure (error or timeout) is counted
// (backendErrors()), reported through DistributedOptions::on_backend_error at most once per
// report_every, and then:
//   - FailurePolicy::kOpen (default): the rule admits (counted as passed, no quota);
//   - FailurePolicy::kClosed: kUnavailable (counted as limited), deeper rules not asked;
//   - a log-mode or dry-run rule admits whatever the policy (it never limits).
// Distributed rules never queue: validateRules refuses on_limit = queue for them.
// Without a backend, distributed rules are evaluated on in-process state like local ones.
class RateLimiter {
 public:
  explicit RateLimiter(const RuleRegistry& rules);
  // `remote` (may be null: no distributed evaluation) must outlive this limiter and every
  // RemoteCheck it made (shut the backend down first).
  RateLimiter(const RuleRegistry& rules, RemoteLimiterBackend* remote,
              DistributedOptions options = {});
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Decides a request on in-process state only: distributed rules too are evaluated locally
  // (single node; tests and tools). The edge uses evaluate().
  Verdict check(const RequestInfo& req, absl::Time now) const;

  // Evaluates the local rules. If the request matches distributed rules (and a backend is
  // set) and no local rule rejected, returns a RemoteCheck to pass to complete(); otherwise
  // the final verdict. Never blocks, never calls the backend.
  Evaluation evaluate(const RequestInfo& req, absl::Time now) const;

  // Asks the backend for each distributed rule of `pending`, in order, and calls `done` with
  // the final verdict exactly once: inline if the backend answers inline, else on the thread
  // that completed the last backend call.
  void complete(std::unique_ptr<RemoteCheck> pending, Callback<Verdict> done) const;

  // Backend failures (errors and timeouts) of distributed rules so far: the metric
  // seckill_rate_limit_backend_errors_total.
  uint64_t backendErrors() const { return backend_errors_.load(std::memory_order_relaxed); }
  FailurePolicy failurePolicy() const { return distributed_.failure; }

  // Sets the override for a path prefix (segment-wise: "/api/v1" covers "/api/v1" and
  // "/api/v1/x", not "/api/v12"). For a request, the longest matching prefix wins.
  // InvalidArgument if the prefix does not start with '/'. Thread-safe; takes effect for
  // requests checked after it returns.
  absl::Status setOverride(std::string_view prefix, OverrideMode mode);
  void clearOverride(std::string_view prefix);
  // Replaces every override at once (one swap: a request sees the old list or the new one).
  // InvalidArgument (nothing changed) if a prefix does not start with '/'.
  absl::Status replaceOverrides(std::vector<Override> overrides);
  std::vector<Override> overrides() const;

 private:
  struct OverrideTable {
    std::vector<Override> entries;  // longest prefix first
    // The entry of the longest prefix covering `path`, or nullptr.
    const Override* find(std::string_view path) const;
  };
  void publish(std::vector<Override> entries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(override_mu_);
  Evaluation run(const RequestInfo& req, absl::Time now, bool remote) const;
  void onRemote(std::unique_ptr<RemoteCheck> c, absl::StatusOr<Decision> d,
                Callback<Verdict> done) const;
  void reportFailure(const CompiledRule& r, const absl::Status& status, absl::Time now) const;

  const RuleRegistry& rules_;
  RemoteLimiterBackend* const remote_ = nullptr;
  const DistributedOptions distributed_;
  mutable std::atomic<uint64_t> backend_errors_{0};
  mutable std::atomic<int64_t> last_report_ns_{INT64_MIN};
  mutable std::atomic<uint64_t> unreported_{0};
  mutable absl::Mutex override_mu_;  // serializes writers
  std::vector<Override> override_list_ ABSL_GUARDED_BY(override_mu_);
  SnapshotCell<OverrideTable> overrides_;
};

}  // namespace seckill::ratelimit
