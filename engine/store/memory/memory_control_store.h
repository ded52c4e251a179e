#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/core/control/control_store.h"

namespace seckill {

// The control state in process memory: what an engine without [admin] state_dir keeps (lost
// at restart), and the fake the control tests run on. Keeps the last kKeepVersions rule
// versions and the last kKeepAudit audit entries. Thread-safe; never blocks.
class MemoryControlStore final : public control::ControlStore {
 public:
  static constexpr size_t kKeepVersions = 100;
  static constexpr size_t kKeepAudit = 100'000;

  absl::StatusOr<std::optional<control::RuleVersion>> currentRules() override;
  absl::Status commitRules(uint64_t expected, const control::RuleVersion& next,
                           const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::Change>> ruleVersions(size_t limit) override;
  absl::StatusOr<std::optional<control::RuleVersion>> ruleVersion(uint64_t version) override;
  absl::StatusOr<std::vector<control::BreakerSetting>> breakerSettings() override;
  absl::Status putBreakerSetting(const control::BreakerSetting& setting,
                                 const control::AuditEntry& audit) override;
  absl::StatusOr<std::vector<control::SaleRecord>> sales() override;
  absl::Status putSale(const control::SaleRecord& record, const control::AuditEntry& audit) override;
  absl::Status appendAudit(const control::AuditEntry& audit) override;
  absl::StatusOr<control::AuditPage> audit(const control::AuditQuery& query) override;
  absl::Status watch(std::function<void(control::ControlTopic)>) override {
    return absl::OkStatus();  // nobody else writes it
  }
  void stop() override {}
  std::string describe() const override { return "memory (not persisted: lost at restart)"; }

 private:
  void appendLocked(control::AuditEntry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<uint64_t, control::RuleVersion> versions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, control::BreakerSetting> breakers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, control::SaleRecord> sales_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> sale_order_ ABSL_GUARDED_BY(mu_);
  std::deque<control::AuditEntry> audit_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
};

// Selects one page of `entries` (oldest first) for `query`: newest first. Shared by the stores
// that keep the log as a list.
control::AuditPage selectAuditPage(const std::deque<control::AuditEntry>& entries,
                                   const control::AuditQuery& query);

}  // namespace seckill
