#include "engine/store/memory/memory_control_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace seckill {

using control::AuditEntry;
using control::AuditPage;
using control::AuditQuery;
using control::RuleVersion;

AuditPage selectAuditPage(const std::deque<AuditEntry>& entries, const AuditQuery& query) {
  AuditPage page;
  const size_t limit = std::max<size_t>(query.limit, 1);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const AuditEntry& e = *it;
    if (query.before_seq && e.seq >= *query.before_seq) continue;
    if (query.until && e.at > *query.until) continue;
    if (query.since && e.at < *query.since) break;  // entries are in time order
    if (!query.author.empty() && e.author != query.author) continue;
    if (page.entries.size() == limit) {
      page.next_before = page.entries.back().seq;
      break;
    }
    page.entries.push_back(e);
  }
  return page;
}

absl::StatusOr<std::optional<RuleVersion>> MemoryControlStore::currentRules() {
  absl::MutexLock lock(&mu_);
  if (versions_.empty()) return std::optional<RuleVersion>();
  return std::optional<RuleVersion>(versions_.rbegin()->second);
}

absl::Status MemoryControlStore::commitRules(uint64_t expected, const RuleVersion& next,
                                             const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  const uint64_t current = versions_.empty() ? 0 : versions_.rbegin()->first;
  if (current != expected) {
    return absl::AbortedError(
        absl::StrCat("rule set version ", expected, " is stale: the current version is ", current));
  }
  versions_[next.change.version] = next;
  while (versions_.size() > kKeepVersions) versions_.erase(versions_.begin());
  appendLocked(audit);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<control::Change>> MemoryControlStore::ruleVersions(size_t limit) {
  absl::MutexLock lock(&mu_);
  std::vector<control::Change> out;
  for (auto it = versions_.rbegin(); it != versions_.rend() && out.size() < limit; ++it) {
    out.push_back(it->second.change);
  }
  return out;
}

absl::StatusOr<std::optional<RuleVersion>> MemoryControlStore::ruleVersion(uint64_t version) {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find(version);
  if (it == versions_.end()) return std::optional<RuleVersion>();
  return std::optional<RuleVersion>(it->second);
}

absl::StatusOr<std::vector<control::BreakerSetting>> MemoryControlStore::breakerSettings() {
  absl::MutexLock lock(&mu_);
  std::vector<control::BreakerSetting> out;
  for (const auto& [name, s] : breakers_) out.push_back(s);
  return out;
}

absl::Status MemoryControlStore::putBreakerSetting(const control::BreakerSetting& setting,
                                                   const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  breakers_[setting.name] = setting;
  appendLocked(audit);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<control::SaleRecord>> MemoryControlStore::sales() {
  absl::MutexLock lock(&mu_);
  std::vector<control::SaleRecord> out;
  for (const std::string& id : sale_order_) out.push_back(sales_.at(id));
  return out;
}

absl::Status MemoryControlStore::putSale(const control::SaleRecord& record,
                                         const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (sales_.insert_or_assign(record.spec.id, record).second) sale_order_.push_back(record.spec.id);
  appendLocked(audit);
  return absl::OkStatus();
}

absl::Status MemoryControlStore::appendAudit(const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  appendLocked(audit);
  return absl::OkStatus();
}

void MemoryControlStore::appendLocked(AuditEntry entry) {
  entry.seq = next_seq_++;
  audit_.push_back(std::move(entry));
  while (audit_.size() > kKeepAudit) audit_.pop_front();
}

absl::StatusOr<AuditPage> MemoryControlStore::audit(const AuditQuery& query) {
  absl::MutexLock lock(&mu_);
  return selectAuditPage(audit_, query);
}

}  // namespace seckill
