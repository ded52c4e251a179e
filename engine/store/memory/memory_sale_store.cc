#include "engine/store/memory/memory_sale_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/core/token.h"
#include "engine/store/memory/shard_of.h"

namespace seckill {
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

MemorySaleStore::DedupShard& MemorySaleStore::dedupShard(SaleSlot& sale,
                                                         std::string_view user_id) {
  return sale.dedup[shardOf<kShards>(user_id)];
}

std::string MemorySaleStore::heldBy(DedupShard& shard, std::string_view user_id,
                                    uint64_t hold) const {
  if (hold == kInFlight) return {};
  if (hold == kOtherId) {
    auto it = shard.other_ids.find(user_id);
    return it != shard.other_ids.end() ? it->second : std::string();
  }
  return orders_.idOf(hold);
}

void MemorySaleStore::issueToken(std::string_view sale_id, std::string_view user_id,
                                 absl::Time expires, Callback<absl::StatusOr<std::string>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  const absl::Time now = expires - sale->spec.token_ttl;
  std::string token = tokens_.issue(sale_id, user_id, now, expires);
  if (token.empty()) {
    std::move(done)(absl::InternalError("memory store: could not sign a token"));
    return;
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
  uint64_t serial = 0;
  if (has_token) {
    TokenLog::Use use =
        tokens_.begin(a.token, a.order.sale_id, a.order.user_id, now, /*start=*/a.window_open);
    switch (use.kind) {
      case TokenLog::Begin::kInvalid:
        r.outcome = AttemptOutcome::kInvalidToken;
        return r;
      case TokenLog::Begin::kUsed:
        return replayOf(use, a);
      case TokenLog::Begin::kInFlight:
        r.outcome = AttemptOutcome::kTokenInFlight;
        return r;
      case TokenLog::Begin::kStarted:
        break;
    }
    if (!a.window_open) {
      r.outcome = AttemptOutcome::kSaleNotOpen;
      return r;
    }
    serial = use.serial;
  } else if (a.require_token) {
    r.outcome = AttemptOutcome::kInvalidToken;
    return r;
  } else if (!a.window_open) {
    r.outcome = AttemptOutcome::kSaleNotOpen;
    return r;
  }

  // Where the order would go: its table's lines load while the dedup and the unit are taken.
  const MemoryOrderRepository::Place order_place = orders_.place(a.order);

  // 2. The (user, sale) dedup key, taken before any stock is touched.
  const std::string_view user = a.order.user_id;
  DedupShard& dshard = dedupShard(sale, user);
  {
    absl::MutexLock lock(&dshard.mu);
    auto [it, inserted] = dshard.holds.try_emplace(user, kInFlight);
    if (!inserted) {
      r.outcome = AttemptOutcome::kDuplicate;
      r.order.id = heldBy(dshard, user, it->second);
      r.order.sale_id = a.order.sale_id;
      r.order.user_id = a.order.user_id;
    }
  }
  if (r.outcome == AttemptOutcome::kDuplicate) {
    finishToken(has_token, serial, r, /*consume=*/true);
    return r;
  }

  // 3. One unit, with the sale's strategy.
  AttemptOutcome took = takeUnit(sale);
  if (took != AttemptOutcome::kCreated) {
    {
      absl::MutexLock lock(&dshard.mu);
      dshard.holds.erase(user);
    }
    r.outcome = took;
    // A shed attempt (kBusy) leaves the token usable for a retry.
    finishToken(has_token, serial, r, /*consume=*/took != AttemptOutcome::kBusy);
    return r;
  }

  // 4. The order, the key bound to it, and its delayed cancel: the order exists and holds the
  // key before its cancel message can be consumed (the cancel finds both).
  r.outcome = AttemptOutcome::kCreated;
  r.order = std::move(a.order);  // `user` viewed a.order: r.order's from here on
  uint64_t order_key = MemoryOrderRepository::kNoKey;
  orders_.insert(r.order, order_place, &order_key);  // compact: no copy of the order's strings
  {
    const std::string_view holder = r.order.user_id;
    absl::MutexLock lock(&dshard.mu);
    if (order_key != MemoryOrderRepository::kNoKey) {
      dshard.holds[holder] = order_key;
    } else {
      dshard.holds[holder] = kOtherId;
      dshard.other_ids.insert_or_assign(CompactString(holder), r.order.id);
    }
  }
  cancels_.publish(r.order.id, r.order.pay_before);
  finishToken(has_token, serial, r, /*consume=*/true);
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

static_assert(MemoryOrderRepository::kKeyBits <= TokenLog::kCodeShift,
              "a used token's answer holds an order key in its payload");

namespace {
// TokenLog answer codes.
constexpr uint64_t kAnswerCreated = 1;
constexpr uint64_t kAnswerDuplicate = 2;
constexpr uint64_t kAnswerSoldOut = 3;
}  // namespace

void MemorySaleStore::finishToken(bool has_token, uint64_t serial, const AttemptResult& result,
                                  bool consume) {
  if (!has_token) return;
  if (!consume) {
    tokens_.finish(serial, TokenLog::kFresh);
    return;
  }
  uint64_t code;
  switch (result.outcome) {
    case AttemptOutcome::kCreated: code = kAnswerCreated; break;
    case AttemptOutcome::kDuplicate: code = kAnswerDuplicate; break;
    default: code = kAnswerSoldOut; break;  // the only other answer a token keeps
  }
  uint64_t payload = 0;  // no order (sold out; a duplicate of an attempt in flight)
  std::string_view other;
  if (!result.order.id.empty()) {
    payload = orders_.keyOf(result.order.id);
    if (payload == MemoryOrderRepository::kNoKey) {
      payload = TokenLog::kOtherId;
      other = result.order.id;
    }
  }
  tokens_.finish(serial, (code << TokenLog::kCodeShift) | payload, other);
}

AttemptResult MemorySaleStore::replayOf(const TokenLog::Use& use, const OrderAttempt& a) const {
  AttemptResult r;
  r.replayed = true;
  const uint64_t code = use.answer >> TokenLog::kCodeShift;
  const uint64_t payload = use.answer & TokenLog::kPayloadMask;
  if (code == kAnswerSoldOut) {
    r.outcome = AttemptOutcome::kSoldOut;
    return r;
  }
  r.outcome = code == kAnswerCreated ? AttemptOutcome::kCreated : AttemptOutcome::kDuplicate;
  r.order.sale_id = a.order.sale_id;
  r.order.user_id = a.order.user_id;
  if (payload == TokenLog::kOtherId) {
    r.order.id = use.other_id;
  } else if (payload != 0) {
    r.order.id = orders_.idOf(payload);
  }
  if (r.outcome == AttemptOutcome::kCreated) {
    // The order as it was created: pending, changed when made. Once forgotten (only when a
    // token outlives [orders] keep_finished), what the token knows: id, sale and shopper.
    std::optional<Order> now = payload != TokenLog::kOtherId ? orders_.find(payload) : std::nullopt;
    if (now) {
      r.order = *std::move(now);
      r.order.state = OrderState::kPendingPayment;
      r.order.cancel_reason = CancelReason::kNone;
      r.order.updated_at = r.order.created_at;
    } else if (payload == TokenLog::kOtherId) {
      // An id without a compact key: the repository looks it up by id.
      absl::StatusOr<Order> found = absl::NotFoundError("");
      orders_.get(r.order.id, [&](absl::StatusOr<Order> o) { found = std::move(o); });
      if (found.ok()) {
        r.order = *std::move(found);
        r.order.state = OrderState::kPendingPayment;
        r.order.cancel_reason = CancelReason::kNone;
        r.order.updated_at = r.order.created_at;
      }
    }
  }
  return r;
}

void MemorySaleStore::releaseUnit(std::string_view sale_id, std::string_view user_id,
                                  std::string_view order_id, Callback<absl::StatusOr<bool>> done) {
  SaleSlot* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id))));
    return;
  }
  bool released = false;
  {
    DedupShard& shard = dedupShard(*sale, user_id);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.holds.find(user_id);
    if (it != shard.holds.end() && it->second != kInFlight) {
      if (it->second == kOtherId) {
        auto other = shard.other_ids.find(user_id);
        if (other != shard.other_ids.end() && other->second == order_id) {
          shard.other_ids.erase(other);
          shard.holds.erase(it);
          released = true;
        }
      } else if (orders_.keyOf(order_id) == it->second) {
        shard.holds.erase(it);
        released = true;
      }
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

size_t MemorySaleStore::tokenCount() const { return tokens_.size(); }

}  // namespace seckill
