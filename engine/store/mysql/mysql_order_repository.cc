#include "engine/store/mysql/mysql_order_repository.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"
#include "spdlog/spdlog.h"

namespace seckill {

// Runs each registered function at its time, on one thread of its own.
// Thread-safe; stop() (also run by the destructor) drops what is not due yet.
class CallDeadlines {
 public:
  CallDeadlines() : thread_([this] { run(); }) {}
  ~CallDeadlines() { stop(); }
  CallDeadlines(const CallDeadlines&) = delete;
  CallDeadlines& operator=(const CallDeadlines&) = delete;

  void at(absl::Time when, absl::AnyInvocable<void() &&> fn) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (due_.empty() || when < due_.begin()->first) wake_ = true;
    due_.emplace(when, std::move(fn));
  }

  void stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      wake_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::vector<absl::AnyInvocable<void() &&>> fire;
      {
        absl::MutexLock lock(&mu_);
        const absl::Time next = due_.empty() ? absl::InfiniteFuture() : due_.begin()->first;
        mu_.AwaitWithDeadline(absl::Condition(&wake_), next);
        wake_ = false;
        if (stopping_) return;
        const absl::Time now = absl::Now();
        while (!due_.empty() && due_.begin()->first <= now) {
          fire.push_back(std::move(due_.begin()->second));
          due_.erase(due_.begin());
        }
      }
      for (absl::AnyInvocable<void() &&>& fn : fire) std::move(fn)();
    }
  }

  absl::Mutex mu_;
  std::multimap<absl::Time, absl::AnyInvocable<void() &&>> due_ ABSL_GUARDED_BY(mu_);
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

namespace {

// A caller's callback, run once: with the first of the call's result and its
// deadline's Unavailable.
template <typename T>
class OnceCallback {
 public:
  explicit OnceCallback(Callback<T> done) : done_(std::move(done)) {}
  void complete(T value) {
    Callback<T> done;
    {
      absl::MutexLock lock(&mu_);
      if (!done_) return;
      done = std::move(done_);
      done_ = nullptr;
    }
    std::move(done)(std::move(value));
  }

 private:
  absl::Mutex mu_;
  Callback<T> done_ ABSL_GUARDED_BY(mu_);
};

// `done`, answered with Unavailable once `timeout` has passed unless the call
// answered first.
template <typename T>
std::shared_ptr<OnceCallback<T>> withDeadline(CallDeadlines& deadlines, absl::Duration timeout,
                                              Callback<T> done) {
  auto once = std::make_shared<OnceCallback<T>>(std::move(done));
  deadlines.at(absl::Now() + timeout, [once, timeout] {
    once->complete(absl::UnavailableError(
        absl::StrCat("mysql order repository: no answer within ", absl::FormatDuration(timeout))));
  });
  return once;
}

constexpr std::string_view kColumns =
    "SELECT id, sale_id, user_id, state, reason, created, pay_before, updated FROM orders ";

absl::Status unknownOrder() { return absl::NotFoundError("unknown order"); }

absl::StatusOr<Order> orderFromRow(const MysqlConnection::Row& row) {
  Order o;
  int64_t state = 0, reason = 0, created = 0, pay_before = 0, updated = 0;
  if (row.size() != 8 || !row[0] || !row[1] || !row[2] || !row[3] || !row[4] || !row[5] ||
      !row[6] || !row[7] || !absl::SimpleAtoi(*row[3], &state) ||
      !absl::SimpleAtoi(*row[4], &reason) || !absl::SimpleAtoi(*row[5], &created) ||
      !absl::SimpleAtoi(*row[6], &pay_before) || !absl::SimpleAtoi(*row[7], &updated)) {
    return absl::InternalError("mysql: malformed orders row");
  }
  const std::optional<OrderState> s = orderStateFromInt(state);
  const std::optional<CancelReason> r = cancelReasonFromInt(reason);
  if (!s || !r) return absl::InternalError("mysql: malformed orders row");
  o.state = *s;
  o.cancel_reason = *r;
  o.id = *row[0];
  o.sale_id = *row[1];
  o.user_id = *row[2];
  o.created_at = fromRedisMicros(created);
  o.pay_before = fromRedisMicros(pay_before);
  o.updated_at = fromRedisMicros(updated);
  return o;
}

// The row of `id`; nullopt if there is none.
absl::StatusOr<std::optional<Order>> selectOrder(MysqlConnection& c, const std::string& id) {
  absl::StatusOr<std::vector<MysqlConnection::Row>> rows =
      c.query(absl::StrCat(av(kColumns), "WHERE id = ", c.quote(id)));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Order>();
  absl::StatusOr<Order> o = orderFromRow((*rows)[0]);
  if (!o.ok()) return o.status();
  return std::optional<Order>(*std::move(o));
}

// Inserts `o`'s row with `state`, `reason` and `updated`, unless a row with its
// id exists or UNIQUE (sale_id, live_user) refuses it: the rows inserted (0|1).
absl::StatusOr<uint64_t> insertRow(MysqlConnection& c, const Order& o, OrderState state,
                                   CancelReason reason, absl::Time updated) {
  return c.execute(absl::StrCat(
      "INSERT INTO orders (id, sale_id, user_id, state, reason, created, pay_before, updated) "
      "VALUES (",
      c.quote(o.id), ",", c.quote(o.sale_id), ",", c.quote(o.user_id), ",",
      static_cast<int>(state), ",", static_cast<int>(reason), ",", toRedisMicros(o.created_at),
      ",", toRedisMicros(o.pay_before), ",", toRedisMicros(updated),
      ") ON DUPLICATE KEY UPDATE id = id"));
}

}  // namespace

MysqlOrderRepository::MysqlOrderRepository(RedisClient& redis, MysqlPool& pool,
                                           MysqlOrderRepositoryOptions options)
    : redis_(redis),
      pool_(pool),
      options_(options),
      deadlines_(std::make_unique<CallDeadlines>()),
      tasks_(options.threads, options.max_queued),
      refresher_([this] { refreshLoop(); }) {}

MysqlOrderRepository::~MysqlOrderRepository() { shutdown(); }

void MysqlOrderRepository::shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
  tasks_.shutdown();  // runs what is queued: every call has answered after it
  deadlines_->stop();
}

void MysqlOrderRepository::get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) {
  auto once = withDeadline(*deadlines_, options_.call_timeout, std::move(done));
  if (!tasks_.submit([this, id = std::string(order_id), once] { once->complete(getNow(id)); })) {
    once->complete(absl::UnavailableError("mysql order repository: queue full"));
  }
}

void MysqlOrderRepository::list(const OrderQuery& query,
                                Callback<absl::StatusOr<OrderPage>> done) {
  auto once = withDeadline(*deadlines_, options_.call_timeout, std::move(done));
  if (!tasks_.submit([this, query, once] { once->complete(listNow(query)); })) {
    once->complete(absl::UnavailableError("mysql order repository: queue full"));
  }
}

absl::StatusOr<OrderPage> MysqlOrderRepository::listNow(const OrderQuery& query) {
  absl::StatusOr<MysqlPool::Lease> conn = pool_.acquire();
  if (!conn.ok()) return conn.status();
  MysqlConnection& c = **conn;
  const size_t limit = std::max<size_t>(query.limit, 1);
  std::string sql = absl::StrCat(av(kColumns), "WHERE sale_id = ", c.quote(query.sale_id));
  if (!query.user_id.empty()) absl::StrAppend(&sql, " AND user_id = ", c.quote(query.user_id));
  if (!query.page.empty()) absl::StrAppend(&sql, " AND id > ", c.quote(query.page));
  absl::StrAppend(&sql, " ORDER BY id LIMIT ", limit + 1);
  absl::StatusOr<std::vector<MysqlConnection::Row>> rows = c.query(sql);
  if (!rows.ok()) return rows.status();
  OrderPage page;
  for (const MysqlConnection::Row& row : *rows) {
    if (page.orders.size() == limit) {
      page.next = page.orders.back().id;
      break;
    }
    absl::StatusOr<Order> o = orderFromRow(row);
    if (!o.ok()) return o.status();
    page.orders.push_back(*std::move(o));
  }
  return page;
}

void MysqlOrderRepository::transition(std::string_view order_id, OrderState from, OrderState to,
                                      CancelReason reason, absl::Time at,
                                      std::optional<absl::Time> only_before,
                                      Callback<absl::StatusOr<Transition>> done) {
  auto once = withDeadline(*deadlines_, options_.call_timeout, std::move(done));
  if (!tasks_.submit([this, id = std::string(order_id), from, to, reason, at, only_before, once] {
        once->complete(transitionNow(id, from, to, reason, at, only_before));
      })) {
    once->complete(absl::UnavailableError("mysql order repository: queue full"));
  }
}

absl::StatusOr<std::optional<Order>> MysqlOrderRepository::readRecord(std::string_view sale,
                                                                      const std::string& id) {
  absl::StatusOr<RedisReply> r =
      redis_.commandSync(sale, {"HGET", redis_keys::orderRecords(sale), id});
  if (!r.ok()) return r.status();
  if (r->isNil()) return std::optional<Order>();
  absl::StatusOr<Order> o = redis_internal::parseOrderRecord(sale, id, r->str);
  if (!o.ok()) return o.status();
  return std::optional<Order>(*std::move(o));
}

absl::StatusOr<Order> MysqlOrderRepository::getNow(const std::string& order_id) {
  std::optional<std::string_view> sale = saleOfOrderId(order_id);
  if (!sale || !isValidOrderId(order_id)) return unknownOrder();
  absl::StatusOr<MysqlPool::Lease> lease = pool_.acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<std::optional<Order>> row = selectOrder(**lease, order_id);
  if (!row.ok()) return row.status();
  if (*row) return **std::move(row);
  absl::StatusOr<std::optional<Order>> record = readRecord(*sale, order_id);
  if (!record.ok()) return record.status();
  if (*record) {
    if ((*record)->state != OrderState::kPendingPayment) {
      absl::Status s = settleRecord(**lease, **record);
      if (!s.ok()) return s;
    }
    return **std::move(record);
  }
  // Persisted and its record deleted between the two reads?
  row = selectOrder(**lease, order_id);
  if (!row.ok()) return row.status();
  if (*row) return **std::move(row);
  return unknownOrder();
}

// A dropped duplicate (Redis lost the shopper's key and the unit of the live
// order `live`, then sold this one): its buyer is bound to `live` again (whose
// unit this one's stands for: a cancel of `live` then returns it), and it gets
// its row as cancelled (a cancelled row holds no live_user), so it can be
// neither paid nor cancelled again and its cancel message is settled.
//
// One transaction holds `live`'s row (SELECT ... FOR UPDATE) from the lookup to
// the commit, so `live` cannot be cancelled between the lookup and the rebind:
// its cancel's UPDATE waits, and its unit release then finds the buyer bound
// to it. The rebind rewrites this order's Redis record as cancelled in the
// same script, so a retry after a failure past that point (the caller reruns
// everything) inserts it as cancelled even if `live` went meanwhile. A lookup
// that finds no live order means `live` went before the rebind: this order is
// the shopper's order now and is inserted as it is.
absl::Status MysqlOrderRepository::recordDuplicate(MysqlConnection& c, const Order& o,
                                                   absl::Time at) {
  bool open = false;  // a transaction to roll back on the way out
  auto fail = [&](absl::Status s) {
    if (open) (void)c.execute("ROLLBACK");  // best effort; a broken connection is closed anyway
    return s;
  };
  absl::StatusOr<uint64_t> begun = c.execute("START TRANSACTION");
  if (!begun.ok()) return begun.status();
  open = true;
  absl::StatusOr<std::vector<MysqlConnection::Row>> live =
      c.query(absl::StrCat("SELECT id FROM orders WHERE sale_id = ", c.quote(o.sale_id),
                           " AND live_user = ", c.quote(o.user_id), " FOR UPDATE"));
  if (!live.ok()) return fail(live.status());
  if (live->empty() || !(*live)[0][0]) {
    // The live order went before this order was handed over (the buyer is
    // still bound to it): it is the shopper's order now, with its unit.
    absl::StatusOr<RedisReply> buyer =
        redis_.commandSync(o.sale_id, {"HGET", redis_keys::buyers(o.sale_id), o.user_id});
    if (!buyer.ok()) return fail(buyer.status());
    if (buyer->isNil() || buyer->str != o.id) {
      // Handed over by a concurrent call since our read of the record: the
      // retry reads it again, cancelled.
      return fail(absl::UnavailableError(
          absl::StrCat("order ", o.id, ": handed over to its user's live order meanwhile")));
    }
    absl::StatusOr<uint64_t> ins = insertRow(c, o, o.state, o.cancel_reason, o.updated_at);
    if (!ins.ok()) return fail(ins.status());
    if (*ins == 0) {
      return fail(
          absl::UnavailableError(absl::StrCat("order ", o.id, ": its user's live order changed")));
    }
    absl::StatusOr<uint64_t> committed = c.execute("COMMIT");
    if (!committed.ok()) return fail(committed.status());
    return absl::OkStatus();
  }
  const std::string& live_id = *(*live)[0][0];
  Order handed = o;
  handed.state = OrderState::kCancelled;
  handed.cancel_reason = CancelReason::kDuplicate;
  handed.updated_at = at;
  absl::StatusOr<RedisReply> rebound =
      redis_.evalSync(o.sale_id, kScriptReleaseUnit,
                      {redis_keys::buyers(o.sale_id), redis_keys::stock(o.sale_id),
                       redis_keys::orderRecords(o.sale_id)},
                      {o.user_id, o.id, live_id, redis_internal::encodeOrderRecord(handed)});
  if (!rebound.ok()) return fail(rebound.status());
  absl::StatusOr<uint64_t> dup =
      insertRow(c, o, OrderState::kCancelled, CancelReason::kDuplicate, at);
  if (!dup.ok()) return fail(dup.status());
  absl::StatusOr<uint64_t> committed = c.execute("COMMIT");
  if (!committed.ok()) return fail(committed.status());
  open = false;
  if (*dup == 1) {
    spdlog::warn(
        "orders: sale {}: order {} of user {} recorded as cancelled (duplicate): the user's "
        "live order {} is in the database",
        o.sale_id, o.id, o.user_id, live_id);
  }
  deleteRecord(o);
  return absl::OkStatus();
}

absl::Status MysqlOrderRepository::settleRecord(MysqlConnection& c, const Order& o) {
  absl::StatusOr<uint64_t> ins = insertRow(c, o, o.state, o.cancel_reason, o.updated_at);
  if (!ins.ok()) return ins.status();
  // A cancelled row never meets UNIQUE (sale_id, live_user): 0 means it is in.
  if (*ins == 1 || o.state == OrderState::kCancelled) deleteRecord(o);
  return absl::OkStatus();
}

void MysqlOrderRepository::deleteRecord(const Order& o) {
  absl::StatusOr<RedisReply> deleted =
      redis_.commandSync(o.sale_id, {"HDEL", redis_keys::orderRecords(o.sale_id), o.id});
  if (!deleted.ok()) {
    spdlog::warn("orders: record of order {} not deleted from Redis: {}", o.id,
                 deleted.status().ToString());
  }
}

absl::StatusOr<Transition> MysqlOrderRepository::transitionNow(
    const std::string& order_id, OrderState from, OrderState to, CancelReason reason, absl::Time at,
    std::optional<absl::Time> only_before) {
  std::optional<std::string_view> sale = saleOfOrderId(order_id);
  if (!sale || !isValidOrderId(order_id)) return unknownOrder();
  // The record first: once it is gone, the writer has committed the row.
  absl::StatusOr<std::optional<Order>> record = readRecord(*sale, order_id);
  if (!record.ok()) return record.status();
  absl::StatusOr<MysqlPool::Lease> lease = pool_.acquire();
  if (!lease.ok()) return lease.status();
  MysqlConnection& c = **lease;
  if (*record && (*record)->state != OrderState::kPendingPayment) {
    absl::Status s = settleRecord(c, **record);
    if (!s.ok()) return s;
  } else if (*record) {  // pending: the writer may not have inserted it yet
    const Order& o = **record;
    absl::StatusOr<uint64_t> ins = insertRow(c, o, o.state, o.cancel_reason, o.updated_at);
    if (!ins.ok()) return ins.status();
    if (*ins == 0) {
      // Not inserted: the row exists, or another live order of this shopper
      // holds UNIQUE (sale_id, live_user) and the writer dropped this one.
      absl::StatusOr<std::optional<Order>> row = selectOrder(c, order_id);
      if (!row.ok()) return row.status();
      if (!*row) {
        absl::Status s = recordDuplicate(c, o, at);
        if (!s.ok()) return s;
      }
    }
  }
  bool applied = false;
  if (!only_before || at < *only_before) {
    CancelReason recorded = to == OrderState::kCancelled ? reason : CancelReason::kNone;
    absl::StatusOr<uint64_t> updated = c.execute(
        absl::StrCat("UPDATE orders SET state = ", static_cast<int>(to),
                     ", reason = ", static_cast<int>(recorded), ", updated = ", toRedisMicros(at),
                     " WHERE id = ", c.quote(order_id), " AND state = ", static_cast<int>(from)));
    if (!updated.ok()) return updated.status();
    applied = *updated == 1;
  }
  absl::StatusOr<std::optional<Order>> row = selectOrder(c, order_id);
  if (!row.ok()) return row.status();
  if (!*row) {
    if (!*record) return unknownOrder();
    // The record exists but its row could not be inserted: another live order
    // of this user holds UNIQUE (sale_id, live_user). Nothing was changed.
    return absl::FailedPreconditionError(absl::StrCat(
        "order ", order_id, " conflicts with another live order of its user in the database"));
  }
  return Transition{.order = **std::move(row), .applied = applied};
}

OrderCounts MysqlOrderRepository::counts() const {
  return OrderCounts{.pending_payment = pending_.load(std::memory_order_relaxed),
                     .paid = paid_.load(std::memory_order_relaxed),
                     .cancelled = cancelled_.load(std::memory_order_relaxed)};
}

absl::Status MysqlOrderRepository::refreshCounts() {
  absl::StatusOr<MysqlPool::Lease> lease = pool_.acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<std::vector<MysqlConnection::Row>> rows =
      (*lease)->query("SELECT state, COUNT(*) FROM orders GROUP BY state");
  if (!rows.ok()) return rows.status();
  int64_t by_state[3] = {0, 0, 0};
  for (const MysqlConnection::Row& row : *rows) {
    int64_t state = -1, n = 0;
    if (row.size() != 2 || !row[0] || !row[1] || !absl::SimpleAtoi(*row[0], &state) ||
        !absl::SimpleAtoi(*row[1], &n) || state < 0 || state > 2) {
      return absl::InternalError("mysql: malformed counts row");
    }
    by_state[state] = n;
  }
  pending_.store(by_state[0], std::memory_order_relaxed);
  paid_.store(by_state[1], std::memory_order_relaxed);
  cancelled_.store(by_state[2], std::memory_order_relaxed);
  return absl::OkStatus();
}

void MysqlOrderRepository::refreshLoop() {
  bool warned = false;
  while (true) {
    absl::Status s = refreshCounts();
    if (!s.ok() && !warned) spdlog::warn("mysql order counts not refreshed: {}", s.ToString());
    warned = !s.ok();
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.counts_refresh);
    if (stopping_) return;
  }
}

}  // namespace seckill
