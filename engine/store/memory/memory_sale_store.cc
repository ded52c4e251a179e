#include "engine/store/memory/memory_sale_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/core/token.h"

namespace seckill {
namespace {

std::string dedupKey(std::string_view sale_id, std::string_view user_id) {
  return absl::StrCat(av(sale_id), "\x1f", av(user_id));
}

}  // namespace

// A per-sale queue of attempts and the single thread that runs them in
// arrival order (StockStrategy::kFifo).
struct MemorySaleStore::FifoLane {
  struct Item {
    OrderAttempt attempt;
    absl::Time now;
    Callback<absl::StatusOr<AttemptResult>> done;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;  // guarded by mu
  bool stopping = false;   // guarded by mu
  std::thread consumer;
};

MemorySaleStore::MemorySaleStore(MemoryOrderRepository& orders, DelayQueue& cancels,
                                 Options options)
    : orders_(orders), cancels_(cancels), options_(options) {}

MemorySaleStore::~MemorySaleStore() { shutdown(); }

MemorySaleStore::SaleSlot::~SaleSlot() = default;

void MemorySaleStore::shutdown() {
  for (SaleSlot* sale : sales_.all()) {
    FifoLane* lane = sale->fifo.get();
    if (lane == nullptr) continue;
    {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->stopping = true;
    }
    lane->cv.notify_all();
    if (lane->consumer.joinable()) lane->consumer.join();
  }
}

absl::Status MemorySaleStore::addSale(const SaleSpec& spec) {
  if (absl::Status s = spec.validate(); !s.ok()) return s;
  absl::MutexLock lock(&admin_mu_);
  if (sales_.find(spec.id) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("sale \"", spec.id, "\" already registered"));
  }
  auto slot = std::make_unique<SaleSlot>();
  slot->spec = spec;
  slot->stock.store(spec.stock, std::memory_order_release);
  slot->total.store(spec.stock, std::memory_order_release);
  if (spec.strategy == StockStrategy::kFifo) {
    slot->fifo = std::make_unique<FifoLane>();
    FifoLane* lane = slot->fifo.get();
    SaleSlot* sale = slot.get();
    lane->consumer = std::thread([this, lane, sale] {
      std::deque<FifoLane::Item> batch;
      while (true) {
        bool stopping;
        {
          std::unique_lock<std::mutex> lock(lane->mu);
          lane->cv.wait(lock, [lane] { return lane->stopping || !lane->queue.empty(); });
          batch.swap(lane->queue);
          stopping = lane->stopping;
        }
        for (FifoLane::Item& item : batch) {
          if (stopping) {
            std::move(item.done)(AttemptResult{.outcome = AttemptOutcome::kBusy});
          } else {
            AttemptResult r = runAttempt(*sale, item.attempt, item.now);
            std::move(item.done)(std::move(r));
          }
        }
        batch.clear();
        if (stopping) return;
      }
    });
  }
  sales_.add(spec.id, std::move(slot));  // cannot be taken: checked under admin_mu_
  return absl::OkStatus();
}

MemorySaleStore::SaleSlot* MemorySaleStore::find(std::string_view sale_id) const {
  return sales_.find(sale_id);
}

MemorySaleStore::DedupShard& MemorySaleStore::dedupShard(std::string_view key) {
  return dedup_[absl::HashOf(key) % kShards];
}

MemorySaleStore::TokenShard& MemorySaleStore::tokenShard(std::string_view token) {
  return tokens_[absl::HashOf(token) % kShards];
}

void MemorySaleStore::issueToken(std::string_view sale_id, std::string_view user_id,
                                 absl::Time expires, Callback<absl::StatusOr<std::string>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  absl::Time now = expires - sale->spec.token_ttl;
  std::string token = newSubmissionToken();
  TokenShard& shard = tokenShard(token);
  {
    absl::MutexLock lock(&shard.mu);
    if (now >= shard.next_sweep) {
      // Expired tokens go lazily, one shard at a time, at most once a second.
      absl::erase_if(shard.tokens, [now](const auto& kv) {
        return kv.second.expires <= now && kv.second.state != TokenState::kInFlight;
      });
      shard.next_sweep = now + absl::Seconds(1);
    }
    shard.tokens.emplace(token, TokenEntry{.sale_id = std::string(sale_id),
                                           .user_id = std::string(user_id),
                                           .expires = expires});
  }
  std::move(done)(std::move(token));
}

void MemorySaleStore::attemptOrder(OrderAttempt attempt, absl::Time now,
                                   Callback<absl::StatusOr<AttemptResult>> done) {
  SaleSlot* sale = find(attempt.order.sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", attempt.order.sale_id)));
    return;
  }
  if (FifoLane* lane = sale->fifo.get()) {
    {
      std::lock_guard<std::mutex> lock(lane->mu);
      if (!lane->stopping && lane->queue.size() < options_.fifo_capacity) {
        lane->queue.push_back(
            FifoLane::Item{.attempt = std::move(attempt), .now = now, .done = std::move(done)});
        done = nullptr;
      }
    }
    if (done == nullptr) {
      lane->cv.notify_one();
    } else {
      std::move(done)(AttemptResult{.outcome = AttemptOutcome::kBusy});
    }
    return;
  }
  AttemptResult r = runAttempt(*sale, attempt, now);
  std::move(done)(std::move(r));
}

AttemptResult MemorySaleStore::runAttempt(SaleSlot& sale, OrderAttempt& a, absl::Time now) {
  AttemptResult r;
  const bool has_token = !a.token.empty();

  // 1. The token: valid for this user and sale, unused (or replayed).
  if (has_token) {
    TokenShard& shard = tokenShard(a.token);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.tokens.find(a.token);
    if (it == shard.tokens.end() || now >= it->second.expires ||
        it->second.sale_id != a.order.sale_id || it->second.user_id != a.order.user_id) {
      r.outcome = AttemptOutcome::kInvalidToken;
      return r;
    }
    TokenEntry& t = it->second;
    if (t.state == TokenState::kUsed) {
      r = t.result;
      r.replayed = true;
      return r;
    }
    if (t.state == TokenState::kInFlight) {
      r.outcome = AttemptOutcome::kTokenInFlight;
      return r;
    }
    if (!a.window_open) {
      r.outcome = AttemptOutcome::kSaleNotOpen;
      return r;
    }
    t.state = TokenState::kInFlight;
  } else if (a.require_token) {
    r.outcome = AttemptOutcome::kInvalidToken;
    return r;
  } else if (!a.window_open) {
    r.outcome = AttemptOutcome::kSaleNotOpen;
    return r;
  }

  // 2. The (user, sale) dedup key, taken before any stock is touched.
  std::string key = dedupKey(a.order.sale_id, a.order.user_id);
  DedupShard& dshard = dedupShard(key);
  {
    absl::MutexLock lock(&dshard.mu);
    auto [it, inserted] = dshard.keys.try_emplace(key);
    if (!inserted && (!it->second.order_id.empty() || now < it->second.expires)) {
      r.outcome = AttemptOutcome::kDuplicate;
      r.order.id = it->second.order_id;
      r.order.sale_id = a.order.sale_id;
      r.order.user_id = a.order.user_id;
    } else {
      it->second = DedupEntry{.expires = now + a.dedup_ttl, .order_id = {}};
    }
  }
  if (r.outcome == AttemptOutcome::kDuplicate) {
    finishToken(a.token, r, /*consume=*/true);
    return r;
  }

  // 3. One unit, with the sale's strategy.
  AttemptOutcome took = takeUnit(sale);
  if (took != AttemptOutcome::kCreated) {
    releaseDedupKey(key);
    r.outcome = took;
    // A shed attempt (kBusy) leaves the token usable for a retry.
    finishToken(a.token, r, /*consume=*/took != AttemptOutcome::kBusy);
    return r;
  }

  // 4. The order and its delayed cancel. The key is bound to the order first,
  // so that the order's cancel always finds it; the order exists before its
  // cancel message can be consumed.
  {
    absl::MutexLock lock(&dshard.mu);
    dshard.keys[key] = DedupEntry{.expires = absl::InfiniteFuture(), .order_id = a.order.id};
  }
  r.outcome = AttemptOutcome::kCreated;
  r.order = a.order;
  orders_.insert(std::move(a.order));
  cancels_.publish(r.order.id, r.order.pay_before);
  finishToken(a.token, r, /*consume=*/true);
  return r;
}

AttemptOutcome MemorySaleStore::takeUnit(SaleSlot& sale) {
  std::atomic<int64_t>& stock = sale.stock;
  if (sale.spec.strategy == StockStrategy::kOptimistic) {
    for (int i = 0; i < options_.optimistic_retries; ++i) {
      int64_t v = stock.load(std::memory_order_acquire);
      if (v <= 0) return AttemptOutcome::kSoldOut;
      if (stock.compare_exchange_strong(v, v - 1, std::memory_order_acq_rel)) {
        return AttemptOutcome::kCreated;
      }
    }
    return AttemptOutcome::kBusy;
  }
  // Atomic check-and-decrement (also the deduction of kFifo and kCounterGate).
  // The read first keeps a sold-out sale from writing the shared line at all.
  if (stock.load(std::memory_order_acquire) <= 0) return AttemptOutcome::kSoldOut;
  if (stock.fetch_sub(1, std::memory_order_acq_rel) > 0) return AttemptOutcome::kCreated;
  stock.fetch_add(1, std::memory_order_acq_rel);
  return AttemptOutcome::kSoldOut;
}

void MemorySaleStore::finishToken(const std::string& token, const AttemptResult& result,
                                  bool consume) {
  if (token.empty()) return;
  TokenShard& shard = tokenShard(token);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.tokens.find(token);
  if (it == shard.tokens.end()) return;
  if (consume) {
    it->second.state = TokenState::kUsed;
    it->second.result = result;
  } else {
    it->second.state = TokenState::kFresh;
  }
}

void MemorySaleStore::releaseDedupKey(const std::string& key) {
  DedupShard& shard = dedupShard(key);
  absl::MutexLock lock(&shard.mu);
  shard.keys.erase(key);
}

void MemorySaleStore::releaseUnit(std::string_view sale_id, std::string_view user_id,
                                  std::string_view order_id, Callback<absl::StatusOr<bool>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  std::string key = dedupKey(sale_id, user_id);
  bool released = false;
  {
    DedupShard& shard = dedupShard(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.keys.find(key);
    if (it != shard.keys.end() && it->second.order_id == order_id) {
      shard.keys.erase(it);
      released = true;
    }
  }
  if (released) sale->stock.fetch_add(1, std::memory_order_acq_rel);
  std::move(done)(released);
}

void MemorySaleStore::stockLeft(std::string_view sale_id,
                                Callback<absl::StatusOr<int64_t>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  int64_t v = sale->stock.load(std::memory_order_acquire);
  std::move(done)(v < 0 ? int64_t{0} : v);
}

void MemorySaleStore::stockLevel(std::string_view sale_id,
                                 Callback<absl::StatusOr<StockLevel>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  std::move(done)(StockLevel{
      .total = sale->total.load(std::memory_order_acquire),
      .left = std::max<int64_t>(sale->stock.load(std::memory_order_acquire), 0)});
}

void MemorySaleStore::adjustStock(std::string_view sale_id, StockChange change,
                                  Callback<absl::StatusOr<StockLevel>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  StockLevel level;
  {
    absl::MutexLock lock(&admin_mu_);
    const int64_t old_total = sale->total.load(std::memory_order_acquire);
    const int64_t total =
        change.kind == StockChange::Kind::kDelta ? old_total + change.value : change.value;
    const int64_t delta = total - old_total;
    int64_t left = sale->stock.load(std::memory_order_acquire);
    // A concurrent takeUnit may hold the count one below for an instant; the CAS keeps its
    // later fetch_add exact, and the check reads the true count.
    while (true) {
      const int64_t true_left = std::max<int64_t>(left, 0);
      if (total < 0 || true_left + delta < 0) {
        std::move(done)(absl::FailedPreconditionError(absl::StrCat(
            "stock_total ", total, " is below the ", old_total - true_left,
            " units already sold (total ", old_total, ", left ", true_left, ")")));
        return;
      }
      if (sale->stock.compare_exchange_weak(left, left + delta, std::memory_order_acq_rel)) {
        level = StockLevel{.total = total, .left = std::max<int64_t>(left + delta, 0)};
        break;
      }
    }
    sale->total.store(total, std::memory_order_release);
  }
  std::move(done)(level);
}

size_t MemorySaleStore::tokenCount() const {
  size_t n = 0;
  for (const TokenShard& shard : tokens_) {
    absl::MutexLock lock(&shard.mu);
    n += shard.tokens.size();
  }
  return n;
}

}  // namespace seckill
