#include "engine/admin/stats_history.h"

#include <algorithm>
#include <memory>

namespace seckill::admin {

StatsHistory::StatsHistory(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {
  for (const StatsSample& s : slots_) bytes_ += s.bytes();
}

void StatsHistory::push(const StatsSample& sample) {
  std::vector<std::shared_ptr<const Listener>> listeners;
  {
    absl::MutexLock lock(&mu_);
    StatsSample& slot = slots_[next_];
    bytes_ -= slot.bytes();
    // Field by field into the slot, so its vectors and strings keep their buffers.
    std::vector<StatsSample::Route> routes = std::move(slot.routes);
    std::vector<StatsSample::Rule> rules = std::move(slot.rules);
    std::vector<StatsSample::Sale> sales = std::move(slot.sales);
    std::vector<StatsSample::Breaker> breakers = std::move(slot.breakers);
    routes.assign(sample.routes.begin(), sample.routes.end());
    rules.assign(sample.rules.begin(), sample.rules.end());
    sales.assign(sample.sales.begin(), sample.sales.end());
    breakers.assign(sample.breakers.begin(), sample.breakers.end());
    slot = StatsSample{};
    slot.at = sample.at;
    slot.seq = sample.seq;
    slot.requests = sample.requests;
    slot.admitted = sample.admitted;
    slot.rejected = sample.rejected;
    slot.queued = sample.queued;
    slot.shadow_limited = sample.shadow_limited;
    slot.shed = sample.shed;
    slot.orders_created = sample.orders_created;
    slot.orders_paid = sample.orders_paid;
    slot.orders_cancelled_shopper = sample.orders_cancelled_shopper;
    slot.orders_cancelled_expired = sample.orders_cancelled_expired;
    slot.orders_cancelled_duplicate = sample.orders_cancelled_duplicate;
    slot.latency_p50_ms = sample.latency_p50_ms;
    slot.latency_p99_ms = sample.latency_p99_ms;
    slot.latency_max_ms = sample.latency_max_ms;
    slot.rules_version = sample.rules_version;
    slot.rules_other = sample.rules_other;
    slot.requests_total = sample.requests_total;
    slot.orders_created_total = sample.orders_created_total;
    slot.routes = std::move(routes);
    slot.rules = std::move(rules);
    slot.sales = std::move(sales);
    slot.breakers = std::move(breakers);
    bytes_ += slot.bytes();
    next_ = (next_ + 1) % slots_.size();
    count_ = std::min(count_ + 1, slots_.size());
    listeners.reserve(listeners_.size());
    for (const auto& [id, l] : listeners_) listeners.push_back(l);
  }
  for (const auto& l : listeners) (*l)(sample);
}

void StatsHistory::copySince(absl::Time since, std::vector<StatsSample>& out) const {
  const size_t first = (next_ + slots_.size() - count_) % slots_.size();
  for (size_t i = 0; i < count_; ++i) {
    const StatsSample& s = slots_[(first + i) % slots_.size()];
    if (s.at > since) out.push_back(s);
  }
}

std::vector<StatsSample> StatsHistory::since(absl::Time since) const {
  std::vector<StatsSample> out;
  absl::ReaderMutexLock lock(&mu_);
  copySince(since, out);
  return out;
}

std::optional<StatsSample> StatsHistory::latest() const {
  absl::ReaderMutexLock lock(&mu_);
  if (count_ == 0) return std::nullopt;
  return slots_[(next_ + slots_.size() - 1) % slots_.size()];
}

std::pair<uint64_t, std::vector<StatsSample>> StatsHistory::subscribe(absl::Time since,
                                                                     Listener listener) {
  std::pair<uint64_t, std::vector<StatsSample>> out;
  absl::MutexLock lock(&mu_);
  copySince(since, out.second);
  out.first = next_listener_++;
  listeners_.emplace(out.first, std::make_shared<const Listener>(std::move(listener)));
  return out;
}

void StatsHistory::unsubscribe(uint64_t id) {
  std::shared_ptr<const Listener> gone;
  absl::MutexLock lock(&mu_);
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  gone = std::move(it->second);  // destroyed after the lock is released
  listeners_.erase(it);
}

size_t StatsHistory::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return count_;
}

size_t StatsHistory::bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return bytes_;
}

}  // namespace seckill::admin
