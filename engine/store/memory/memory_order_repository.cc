#include "engine/store/memory/memory_order_repository.h"

#include <algorithm>
#include <array>
#include <queue>
#include <vector>

#include "absl/status/status.h"
#include "engine/core/strings.h"
#include "engine/store/memory/shard_of.h"

namespace seckill {
namespace {

// The parts of an id of OrderIdGenerator's shape; nullopt for any other id (including a
// sequence that would not print back the same: a leading zero, upper case, too large).
struct IdParts {
  std::string_view node;
  uint64_t seq;
  std::string_view sale;
};

std::optional<IdParts> splitId(std::string_view id, int seq_bits) {
  const size_t first = id.find('-');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  const size_t second = id.find('-', first + 1);
  if (second == std::string_view::npos || second + 1 >= id.size()) return std::nullopt;
  const std::string_view digits = id.substr(first + 1, second - first - 1);
  if (digits.empty() || digits.size() > 11 || digits[0] == '0') return std::nullopt;
  uint64_t seq = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    seq = seq * 36 + static_cast<uint64_t>(d);  // 11 digits < 2^57: no overflow
  }
  if (seq >> seq_bits) return std::nullopt;
  return IdParts{.node = id.substr(0, first), .seq = seq, .sale = id.substr(second + 1)};
}

void appendBase36(std::string& out, uint64_t v) {
  std::array<char, 16> buf;
  size_t n = 0;
  do {
    const int d = static_cast<int>(v % 36);
    buf[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    v /= 36;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

// The pair's name in the intern table, built without a heap allocation for the usual sizes.
struct PairName {
  std::array<char, 128> small;
  std::string large;
  std::string_view view;
  PairName(std::string_view node, std::string_view sale) {
    const size_t n = node.size() + 1 + sale.size();
    char* out = small.data();
    if (n > small.size()) {
      large.resize(n);
      out = large.data();
    }
    std::copy(node.begin(), node.end(), out);
    out[node.size()] = '\x1f';
    std::copy(sale.begin(), sale.end(), out + node.size() + 1);
    view = std::string_view(out, n);
  }
};

int64_t nanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time fromNanos(int64_t n) { return absl::FromUnixNanos(n); }

}  // namespace

uint64_t MemoryOrderRepository::keyFor(std::string_view id, bool intern) {
  const std::optional<IdParts> parts = splitId(id, kSeqBits);
  if (!parts) return kNoKey;
  const PairName name(parts->node, parts->sale);
  const Pair* pair = pairs_.find(name.view);
  if (pair == nullptr) {
    if (!intern) return kNoKey;
    absl::MutexLock lock(&intern_mu_);
    pair = pairs_.find(name.view);
    if (pair == nullptr) {
      const size_t index = pair_count_.load(std::memory_order_relaxed) + 1;
      // Full (the last index stays unused, so that no key is all ones in 60 bits: the token
      // log's "another id" mark): this pair's ids are kept as strings.
      if (index >= kMaxPairs - 1) return kNoKey;
      auto fresh = std::make_unique<Pair>(
          Pair{.index = index, .node = std::string(parts->node), .sale = std::string(parts->sale)});
      pair = pairs_.add(std::string(name.view), std::move(fresh)).first;
      pair_by_index_[index].store(pair, std::memory_order_release);
      pair_count_.store(index, std::memory_order_relaxed);
    }
  }
  return (pair->index << kSeqBits) | parts->seq;
}

uint64_t MemoryOrderRepository::keyOf(std::string_view order_id) const {
  // keyFor without interning changes nothing.
  return const_cast<MemoryOrderRepository*>(this)->keyFor(order_id, /*intern=*/false);
}

const MemoryOrderRepository::Pair* MemoryOrderRepository::pairOf(uint64_t key) const {
  return pair_by_index_[key >> kSeqBits].load(std::memory_order_acquire);
}

std::string MemoryOrderRepository::idOf(uint64_t key) const {
  const Pair* pair = pairOf(key);
  if (pair == nullptr) return {};
  std::string id;
  id.reserve(pair->node.size() + 13 + pair->sale.size());
  id += pair->node;
  id.push_back('-');
  appendBase36(id, key & ((uint64_t{1} << kSeqBits) - 1));
  id.push_back('-');
  id += pair->sale;
  return id;
}

std::optional<Order> MemoryOrderRepository::find(uint64_t key) const {
  if (key == kNoKey || pairOf(key) == nullptr) return std::nullopt;
  const std::string id = idOf(key);
  const Shard& shard = shards_[shardIndex(id)];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.orders.find(key);
  if (it == shard.orders.end()) return std::nullopt;
  return orderOf(key, shard.records[it->second]);
}

Order MemoryOrderRepository::orderOf(uint64_t key, const Record& r) const {
  Order o;
  o.id = idOf(key);
  o.sale_id = pairOf(key)->sale;
  o.user_id = std::string(r.user_id.view());
  o.state = r.state;
  o.cancel_reason = r.cancel_reason;
  o.created_at = fromNanos(r.created_ns);
  o.pay_before = fromNanos(r.pay_before_ns);
  o.updated_at = fromNanos(r.updated_ns);
  return o;
}

size_t MemoryOrderRepository::shardIndex(std::string_view id) {
  return shardOf<kShards>(id);
}

MemoryOrderRepository::Shard& MemoryOrderRepository::shardFor(std::string_view id) {
  return shards_[shardIndex(id)];
}

MemoryOrderRepository::Place MemoryOrderRepository::place(const Order& order) {
  // Under a compact key when the id names the order's own sale (OrderIdGenerator's ids do).
  Place at;
  const std::optional<std::string_view> sale = saleOfOrderId(order.id);
  if (sale && *sale == order.sale_id) at.key = keyFor(order.id, /*intern=*/true);
  at.shard = shardIndex(order.id);
  if (at.key != kNoKey) {
    // Under the lock: the table may be growing in another thread. The hint costs this lock
    // pair and pays for itself (docs/benchmarks.md, "Per-order cost").
    Shard& shard = shards_[at.shard];
    absl::MutexLock lock(&shard.mu);
    shard.orders.prefetch(at.key);
  }
  return at;
}

bool MemoryOrderRepository::insert(const Order& order, const Place& at, uint64_t* key_out) {
  const OrderState state = order.state;
  // Times are kept to the nanosecond, the clocks' resolution.
  const uint64_t key = at.key;
  Shard& shard = shards_[at.shard];
  {
    absl::MutexLock lock(&shard.mu);
    // An id is in one table or the other, never both.
    const uint64_t existing_key = key != kNoKey ? key : keyOf(order.id);
    if (existing_key != kNoKey && shard.orders.contains(existing_key)) return false;
    if (shard.other_orders.contains(order.id)) return false;
    if (key != kNoKey) {
      Record record{.created_ns = nanos(order.created_at),
                    .pay_before_ns = nanos(order.pay_before),
                    .updated_ns = nanos(order.updated_at),
                    .user_id = CompactString(order.user_id),
                    .state = order.state,
                    .cancel_reason = order.cancel_reason};
      uint32_t index;
      if (!shard.free_records.empty()) {
        index = shard.free_records.back();
        shard.free_records.pop_back();
        shard.records[index] = std::move(record);
      } else {
        index = static_cast<uint32_t>(shard.records.size());
        shard.records.push_back(std::move(record));
      }
      shard.orders.emplace(key, index);
    } else {
      shard.other_orders.emplace(order.id, order);
    }
    shard.by_state[static_cast<size_t>(state)].fetch_add(1, std::memory_order_relaxed);
  }
  if (key_out != nullptr) *key_out = key;
  return true;
}

void MemoryOrderRepository::get(std::string_view order_id,
                                Callback<absl::StatusOr<Order>> done) {
  const uint64_t key = keyOf(order_id);
  Shard& shard = shardFor(order_id);
  absl::StatusOr<Order> result = absl::NotFoundError("unknown order");
  {
    absl::MutexLock lock(&shard.mu);
    auto it = key != kNoKey ? shard.orders.find(key) : shard.orders.end();
    if (it != shard.orders.end()) {
      result = orderOf(key, shard.records[it->second]);
    } else if (auto other = shard.other_orders.find(av(order_id));
               other != shard.other_orders.end()) {
      result = other->second;
    }
  }
  std::move(done)(std::move(result));
}

void MemoryOrderRepository::fileFinished(Shard& shard, uint64_t key, std::string_view id,
                                         absl::Time forget_after) {
  if (key != kNoKey) {
    shard.finished.push_back({nanos(forget_after), key});
  } else {
    shard.finished_other.push_back({forget_after, std::string(id)});
  }
}

void MemoryOrderRepository::transition(std::string_view order_id, OrderState from, OrderState to,
                                       CancelReason reason, absl::Time at,
                                       std::optional<absl::Time> only_before,
                                       Callback<absl::StatusOr<Transition>> done) {
  const uint64_t key = keyOf(order_id);
  Shard& shard = shardFor(order_id);
  absl::StatusOr<Transition> result = absl::NotFoundError("unknown order");
  // One transition on either kind of record.
  auto apply = [&](OrderState& state, CancelReason& cancel_reason, absl::Time pay_before,
                   uint64_t stored_key, auto&& set_updated) {
    const bool applies = state == from && (!only_before || at < *only_before);
    if (applies) {
      state = to;
      set_updated();
      if (to == OrderState::kCancelled) cancel_reason = reason;
      if (to != OrderState::kPendingPayment && keep_finished_ != absl::InfiniteDuration()) {
        fileFinished(shard, stored_key, order_id, std::max(at, pay_before) + keep_finished_);
      }
      shard.by_state[static_cast<size_t>(from)].fetch_sub(1, std::memory_order_relaxed);
      shard.by_state[static_cast<size_t>(to)].fetch_add(1, std::memory_order_relaxed);
    }
    return applies;
  };
  {
    absl::MutexLock lock(&shard.mu);
    auto it = key != kNoKey ? shard.orders.find(key) : shard.orders.end();
    if (it != shard.orders.end()) {
      Record& r = shard.records[it->second];
      const bool applies = apply(r.state, r.cancel_reason, fromNanos(r.pay_before_ns), key,
                                 [&] { r.updated_ns = nanos(at); });
      result = Transition{.order = orderOf(key, r), .applied = applies};
    } else if (auto other = shard.other_orders.find(av(order_id));
               other != shard.other_orders.end()) {
      Order& o = other->second;
      const bool applies = apply(o.state, o.cancel_reason, o.pay_before, kNoKey,
                                 [&] { o.updated_at = at; });
      result = Transition{.order = o, .applied = applies};
    }
  }
  std::move(done)(std::move(result));
}

OrderCounts MemoryOrderRepository::counts() const {
  OrderCounts out{};
  for (const Shard& shard : shards_) {
    out.pending_payment += shard.by_state[0].load(std::memory_order_relaxed);
    out.paid += shard.by_state[1].load(std::memory_order_relaxed);
    out.cancelled += shard.by_state[2].load(std::memory_order_relaxed);
  }
  return out;
}

size_t MemoryOrderRepository::forgetFinished(absl::Time now) {
  size_t dropped = 0;
  const int64_t now_ns = nanos(now);
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    // Entries are in finishing order; their forget_after (pay_before + keep_finished, mostly)
    // is ascending within a sale. Stopping at the first entry still kept may keep some orders
    // longer (by at most the difference between two sales' pay_timeouts), never drops one
    // early.
    while (!shard.finished.empty() && shard.finished.front().forget_after_ns <= now_ns) {
      auto it = shard.orders.find(shard.finished.front().key);
      if (it != shard.orders.end() &&
          shard.records[it->second].state != OrderState::kPendingPayment) {
        shard.records[it->second].user_id = CompactString();  // its heap block, if any
        shard.free_records.push_back(it->second);
        shard.orders.erase(it);
        ++dropped;
      }
      shard.finished.pop_front();
    }
    while (!shard.finished_other.empty() && shard.finished_other.front().forget_after <= now) {
      auto it = shard.other_orders.find(shard.finished_other.front().id);
      if (it != shard.other_orders.end() && it->second.state != OrderState::kPendingPayment) {
        shard.other_orders.erase(it);
        ++dropped;
      }
      shard.finished_other.pop_front();
    }
    if (shard.orders.empty()) {
      shard.records.clear();
      shard.records.shrink_to_fit();
      shard.free_records.clear();
      shard.free_records.shrink_to_fit();
    }
    if (shard.finished.empty()) shard.finished.shrink_to_fit();
    if (shard.finished_other.empty()) shard.finished_other.shrink_to_fit();
  }
  forgotten_.fetch_add(static_cast<int64_t>(dropped), std::memory_order_relaxed);
  return dropped;
}

size_t MemoryOrderRepository::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    n += shard.orders.size() + shard.other_orders.size();
  }
  return n;
}

void MemoryOrderRepository::list(const OrderQuery& query,
                                 Callback<absl::StatusOr<OrderPage>> done) {
  const size_t limit = std::max<size_t>(query.limit, 1);
  // The `limit + 1` smallest ids after the page token: a max-heap of that size.
  auto by_id = [](const Order& a, const Order& b) { return a.id < b.id; };
  std::priority_queue<Order, std::vector<Order>, decltype(by_id)> best(by_id);
  auto consider = [&](const std::string& id, auto&& make) {
    if (!query.page.empty() && !(id > query.page)) return;
    if (best.size() <= limit) {
      best.push(make());
    } else if (id < best.top().id) {
      best.pop();
      best.push(make());
    }
  };
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (const auto& [stored_key, index] : shard.orders) {
      const uint64_t key = stored_key;  // a lambda below captures it (clang 14: no bindings)
      const Record& record = shard.records[index];
      if (pairOf(key)->sale != query.sale_id) continue;
      if (!query.user_id.empty() && record.user_id.view() != query.user_id) continue;
      const std::string id = idOf(key);
      consider(id, [&] { return orderOf(key, record); });
    }
    for (const auto& entry : shard.other_orders) {
      const Order& order = entry.second;
      if (order.sale_id != query.sale_id) continue;
      if (!query.user_id.empty() && order.user_id != query.user_id) continue;
      consider(entry.first, [&] { return order; });
    }
  }
  OrderPage page;
  const bool more = best.size() > limit;
  if (more) best.pop();
  page.orders.resize(best.size());
  for (size_t i = best.size(); i-- > 0;) {
    page.orders[i] = best.top();
    best.pop();
  }
  if (more) page.next = page.orders.back().id;
  std::move(done)(std::move(page));
}

}  // namespace seckill
