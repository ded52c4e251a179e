#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/sale.h"

namespace seckill::control {

// Who made a change of the control state, and how.
struct Change {
  uint64_t version = 0;  // rule-set versions only; 0 otherwise
  absl::Time at;
  std::string author;   // the admin token's name; "file:<path>" for a file import
  std::string peer;     // "ipv4:127.0.0.1:51234"; empty for local sources
  std::string source;   // "api" | "file" | "seed" | "rollback" | "start"
  std::string comment;  // one line: what was done
  std::string node;     // the node that made it
};

// One version of the rule document as the state keeps it.
struct RuleVersion {
  Change change;
  RuleDocument doc;
  // digest() of the config file's rules when they were last applied (carried from version to
  // version): the file is applied again only once it changes (see RuleControl).
  std::string file_digest;
};

// A breaker's operator mode as the state keeps it.
struct BreakerSetting {
  std::string name;
  ratelimit::CircuitBreaker::Mode mode = ratelimit::CircuitBreaker::Mode::kNormal;
  // The config file's [breaker] mode when this was set: the file's mode wins again once it
  // changes.
  ratelimit::CircuitBreaker::Mode file_mode = ratelimit::CircuitBreaker::Mode::kNormal;
};

// A sale as the state keeps it: created or changed through the admin API.
struct SaleRecord {
  SaleSpec spec;
  // A digest of the config file's [[sale]] table of this id when the record was written; ""
  // for a sale the file does not have. The file's table wins again once it changes.
  std::string file_digest;
};

// One line of the audit log: every change to the control state.
struct AuditEntry {
  uint64_t seq = 0;  // set by the store: increasing
  absl::Time at;
  std::string author;
  std::string peer;
  std::string node;
  std::string action;  // "rules.apply", "rule.put", "rule.delete", "rules.rollback", ...
  std::string target;  // a rule id, a prefix, a breaker, a sale; "" for a whole set
  std::string detail;  // the diff, or "forced_open -> normal"
  uint64_t version = 0;  // the rule-set version the change made, else 0
};

struct AuditQuery {
  std::optional<absl::Time> since;
  std::optional<absl::Time> until;
  std::string author;  // "" any
  size_t limit = 100;
  std::optional<uint64_t> before_seq;  // page: entries with seq < this
};

struct AuditPage {
  std::vector<AuditEntry> entries;  // newest first
  std::optional<uint64_t> next_before;  // the next page's before_seq; nullopt: the last page
};

// What a shared store saw another node change.
enum class ControlTopic { kRules, kBreakers, kSales };

// Where the control state lives: the rule-set versions, the breakers' operator modes, the sales
// created or changed through the API, and the audit log. Each change is written together with
// its audit entry. Implementations: memory (not persisted; tests), a state directory of files
// (one node), Redis (a fleet: every node shares and follows it).
//
// Calls block (file or network I/O): run them off request threads. Thread-safe.
class ControlStore {
 public:
  virtual ~ControlStore() = default;

  // The current rule version; nullopt when the state has none yet.
  virtual absl::StatusOr<std::optional<RuleVersion>> currentRules() = 0;
  // Makes `next` current iff the current version is `expected` (0: none yet) and records
  // `audit`. next.change.version must be expected + 1. Aborted (nothing written) when another
  // writer got there first; the message names the current version.
  virtual absl::Status commitRules(uint64_t expected, const RuleVersion& next,
                                   const AuditEntry& audit) = 0;
  // The kept versions, newest first, at most `limit`. Versions are kept for at least the last
  // 100 changes.
  virtual absl::StatusOr<std::vector<Change>> ruleVersions(size_t limit) = 0;
  // One kept version; nullopt when it is not kept (or never was).
  virtual absl::StatusOr<std::optional<RuleVersion>> ruleVersion(uint64_t version) = 0;

  virtual absl::StatusOr<std::vector<BreakerSetting>> breakerSettings() = 0;
  virtual absl::Status putBreakerSetting(const BreakerSetting& setting, const AuditEntry& audit) = 0;

  virtual absl::StatusOr<std::vector<SaleRecord>> sales() = 0;
  virtual absl::Status putSale(const SaleRecord& record, const AuditEntry& audit) = 0;

  virtual absl::Status appendAudit(const AuditEntry& audit) = 0;
  virtual absl::StatusOr<AuditPage> audit(const AuditQuery& query) = 0;

  // Calls `changed` (on a thread of the store's) when another node changed a topic. Stores
  // that nobody else writes never call it. Once; stop() ends it.
  virtual absl::Status watch(std::function<void(ControlTopic)> changed) = 0;
  virtual void stop() = 0;

  // "state dir /var/lib/seckill", "redis", "memory (not persisted)".
  virtual std::string describe() const = 0;
};

}  // namespace seckill::control
