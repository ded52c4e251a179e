#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/control/control_store.h"

namespace seckill {

struct FileControlStoreOptions {
  size_t keep_versions = 100;                        // rule versions kept (rules/v<N>.json)
  uint64_t audit_rotate_bytes = uint64_t{64} << 20;  // audit.log -> audit.log.1 beyond this
};

// The control state of one node in a directory ([admin] state_dir):
//
//   lock               flock()ed for the store's life; holds the owner's pid
//   rules/current.json {"format":1,"current":<RuleVersion>,"audit":<AuditEntry>}
//   rules/v<N>.json    <RuleVersion> N, for the newest keep_versions versions
//   breakers.json      {"format":1,"breakers":[<BreakerSetting>, ...],"audit":<AuditEntry>}
//   sales.json         {"format":1,"sales":[<SaleRecord>, ...] (first put first),
//                       "audit":<AuditEntry>}
//   audit.log          one <AuditEntry> per line, oldest first (seq increasing)
//   audit.log.1        the previous audit.log, once it grew beyond audit_rotate_bytes
//   *.tmp              a write that did not finish; removed at open
//
// (<...> as engine/store/codec/control_json.h writes them.)
//
// Every state file is replaced atomically: written to <name>.tmp in the same directory,
// fsynced, renamed over <name>, and the directory fsynced. A change and its audit entry are one
// write: the state file carries the entry ("audit"), and the audit.log line (appended and
// fsynced right after) is written again at open if a crash came between the two. So a crash
// at any point leaves either the old state or the new one with its audit entry. At open a
// truncated last audit.log line (a crash mid-append) is cut off, and a v<N>.json newer than
// current.json (a crash mid-commit) removed.
//
// One process per directory: open() takes an exclusive flock on `lock` and fails while
// another store (in this process or another) holds it. Everything but audit.log* is also held
// in memory; reads of rule versions and audit pages read the files.
//
// Thread-safe; every call blocks on file I/O (fsync).
class FileControlStore final : public control::ControlStore {
 public:
  // Opens (creating it, mode 0700, if missing) the state directory `dir`. Fails with a
  // message naming the directory when it cannot be created or written, when another store
  // holds it, and when a state file is corrupt (naming the file).
  static absl::StatusOr<std::unique_ptr<FileControlStore>> open(
      const std::string& dir, FileControlStoreOptions options = {});
  // Releases the directory.
  ~FileControlStore() override;
  FileControlStore(const FileControlStore&) = delete;
  FileControlStore& operator=(const FileControlStore&) = delete;

  absl::StatusOr<std::optional<control::RuleVersion>> currentRules() override;
  // Also InvalidArgument (nothing written) unless next.change.version == expected + 1.
  absl::Status commitRules(uint64_t expected, const control::RuleVersion& next,
                           const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::Change>> ruleVersions(size_t limit) override;
  absl::StatusOr<std::optional<control::RuleVersion>> ruleVersion(uint64_t version) override;
  absl::StatusOr<std::vector<control::BreakerSetting>> breakerSettings() override;
  absl::Status putBreakerSetting(const control::BreakerSetting& setting,
                                 const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::SaleRecord>> sales() override;
  absl::Status putSale(const control::SaleRecord& record,
                       const control::AuditEntry& audit) override;
  absl::Status appendAudit(const control::AuditEntry& audit) override;
  absl::StatusOr<control::AuditPage> audit(const control::AuditQuery& query) override;
  // Nobody else writes the directory: never calls `changed`.
  absl::Status watch(std::function<void(control::ControlTopic)>) override {
    return absl::OkStatus();
  }
  void stop() override {}
  std::string describe() const override { return "state dir " + dir_; }

 private:
  // Where an audit line is: enough to filter a query without reading the file.
  struct AuditRef {
    uint64_t seq = 0;
    absl::Time at;
    std::string author;
    bool rotated = false;  // in audit.log.1, else audit.log
    uint64_t offset = 0;
    uint32_t length = 0;  // without the newline
  };

  FileControlStore(std::string dir, FileControlStoreOptions options, int lock_fd);

  absl::Status load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status loadRules(std::vector<control::AuditEntry>& embedded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status loadBreakers(std::vector<control::AuditEntry>& embedded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status loadSales(std::vector<control::AuditEntry>& embedded)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Indexes audit.log.1 and audit.log, cutting a truncated last line off audit.log.
  absl::Status loadAudit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status indexAuditFile(const std::string& path, bool rotated, bool repair)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Appends the entries not yet in audit.log (pending_), oldest first. A failed append leaves
  // audit.log as it was and the entry pending.
  absl::Status flushPending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status appendLine(const control::AuditEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives `audit` the next seq; the state file written next carries it.
  control::AuditEntry sequenced(const control::AuditEntry& audit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a state file carrying `entry` was written: appends it (or leaves it pending).
  void recordWritten(control::AuditEntry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<control::AuditEntry> readAudit(const AuditRef& ref, int log_fd, int rotated_fd)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string versionFile(uint64_t version);

  const std::string dir_;
  const FileControlStoreOptions options_;
  const int lock_fd_;

  absl::Mutex mu_;
  std::optional<control::RuleVersion> current_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, control::Change> versions_ ABSL_GUARDED_BY(mu_);  // kept ones
  std::map<std::string, control::BreakerSetting> breakers_ ABSL_GUARDED_BY(mu_);
  std::vector<control::SaleRecord> sales_ ABSL_GUARDED_BY(mu_);  // first put first
  int audit_fd_ ABSL_GUARDED_BY(mu_) = -1;                       // audit.log, O_APPEND
  uint64_t audit_size_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<AuditRef> audit_index_ ABSL_GUARDED_BY(mu_);         // oldest first, both files
  std::deque<control::AuditEntry> pending_ ABSL_GUARDED_BY(mu_);  // written in state, not log
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace seckill
