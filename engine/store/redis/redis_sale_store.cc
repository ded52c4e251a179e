#include "engine/store/redis/redis_sale_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/core/token.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {
namespace {

using redis_internal::asInt;
using redis_internal::asString;
using redis_internal::encodeOrderRecord;

absl::Status unknownSale(std::string_view sale_id) {
  return absl::NotFoundError(absl::StrCat("unknown sale ", av(sale_id)));
}

// attempt_orders.lua's answer codes, in AttemptOutcome order.
std::optional<AttemptOutcome> outcomeOf(int64_t code) {
  switch (code) {
    case 0: return AttemptOutcome::kCreated;
    case 1: return AttemptOutcome::kDuplicate;
    case 2: return AttemptOutcome::kSoldOut;
    case 3: return AttemptOutcome::kInvalidToken;
    case 4: return AttemptOutcome::kTokenInFlight;
    case 5: return AttemptOutcome::kSaleNotOpen;
    case 6: return AttemptOutcome::kBusy;
  }
  return std::nullopt;
}

// Turns one answer of attempt_orders.lua (its code alone, or {code, replayed,
// id, created, pay_before, updated}; the optimistic path builds the latter)
// into an AttemptResult. `attempted` is the order this attempt would create.
absl::StatusOr<AttemptResult> parseAttempt(const RedisReply& r, Order& attempted) {
  const bool full = r.type == RedisReply::Type::kArray;
  if (!(full && r.elements.size() == 6) && r.type != RedisReply::Type::kInteger) {
    return absl::InternalError("redis: malformed attempt_orders answer");
  }
  std::optional<int64_t> code = asInt(full ? r.elements[0] : r);
  std::optional<AttemptOutcome> outcome = code ? outcomeOf(*code) : std::nullopt;
  if (!outcome) return absl::InternalError("redis: bad attempt_orders code");
  AttemptResult result;
  result.outcome = *outcome;
  result.replayed = full && asInt(r.elements[1]).value_or(0) == 1;
  if (*outcome == AttemptOutcome::kCreated && !result.replayed) {
    result.order = std::move(attempted);
  } else if (full && (*outcome == AttemptOutcome::kCreated ||
                      *outcome == AttemptOutcome::kDuplicate)) {
    result.order.id = asString(r.elements[2]);
    result.order.sale_id = attempted.sale_id;
    result.order.user_id = attempted.user_id;
    if (*outcome == AttemptOutcome::kCreated) {
      result.order.state = OrderState::kPendingPayment;
      result.order.created_at = fromRedisMicros(asInt(r.elements[3]).value_or(0));
      result.order.pay_before = fromRedisMicros(asInt(r.elements[4]).value_or(0));
      result.order.updated_at = fromRedisMicros(asInt(r.elements[5]).value_or(0));
    }
  }
  return result;
}

}  // namespace

// Answers each attempt of a group from attempt_orders.lua's reply: one answer
// per attempt, in order.
void RedisSaleStore::answerGroup(std::vector<Queued>& group, const absl::StatusOr<RedisReply>& r) {
  absl::Status failed = r.status();
  if (failed.ok() && (r->type != RedisReply::Type::kArray || r->elements.size() != group.size())) {
    failed = absl::InternalError("redis: malformed attempt_orders answer");
  }
  for (size_t i = 0; i < group.size(); ++i) {
    Queued& q = group[i];
    if (!failed.ok()) {
      std::move(q.done)(failed);
    } else {
      std::move(q.done)(parseAttempt(r->elements[i], q.attempt.order));
    }
  }
}

RedisSaleStore::Sale* RedisSaleStore::find(std::string_view sale_id) const {
  return sales_.find(sale_id);
}

RedisSaleStore::~RedisSaleStore() {
  for (Sale* sale : sales_.all()) {
    std::deque<Queued> left;
    {
      absl::MutexLock lock(&sale->mu);
      left.swap(sale->waiting);
    }
    for (Queued& q : left) std::move(q.done)(absl::UnavailableError("redis: store shut down"));
  }
}

absl::Status RedisSaleStore::addSale(const SaleSpec& spec) {
  if (absl::Status s = spec.validate(); !s.ok()) return s;
  absl::MutexLock lock(&add_mu_);
  if (find(spec.id) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("sale \"", spec.id, "\" already registered"));
  }
  // A sale that an engine with another key layout started in Redis is refused:
  // this engine would not see its buyers, and its shoppers could order twice.
  const std::string meta_key = redis_keys::meta(spec.id);
  absl::StatusOr<RedisReply> seen =
      client_.commandSync(spec.id, {"HMGET", meta_key, "stock_total", "layout"});
  if (!seen.ok()) return seen.status();
  if (seen->type != RedisReply::Type::kArray || seen->elements.size() != 2) {
    return absl::InternalError(absl::StrCat("redis: malformed answer reading ", meta_key));
  }
  if (!seen->elements[0].isNil() && asString(seen->elements[1]) != redis_keys::kLayout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sale \"", spec.id, "\" exists in Redis in key layout ",
        seen->elements[1].isNil() ? std::string("1") : asString(seen->elements[1]),
        ", and this engine reads and writes layout ", av(redis_keys::kLayout),
        " (docs/redis.md, \"Key layout\"): finish that sale with the engine that started it, "
        "or delete its keys sk:{", spec.id, "}:*"));
  }
  std::string stock = std::to_string(spec.stock);
  absl::StatusOr<RedisReply> set =
      client_.commandSync(spec.id, {"SET", redis_keys::stock(spec.id), stock, "NX"});
  if (!set.ok()) return set.status();
  // The total only with the stock: an adjusted total of a running sale is kept.
  absl::StatusOr<RedisReply> total =
      client_.commandSync(spec.id, {"HSETNX", meta_key, "stock_total", stock});
  if (!total.ok()) return total.status();
  absl::StatusOr<RedisReply> meta = client_.commandSync(
      spec.id, {"HSET", meta_key, "layout", std::string(redis_keys::kLayout)});
  if (!meta.ok()) return meta.status();
  auto sale = std::make_unique<Sale>();
  sale->spec = spec;
  sales_.add(spec.id, std::move(sale));
  return absl::OkStatus();
}

void RedisSaleStore::issueToken(std::string_view sale_id, std::string_view user_id,
                                absl::Time expires, Callback<absl::StatusOr<std::string>> done) {
  const Sale* sale = find(sale_id);
  if (sale == nullptr) {
    std::move(done)(unknownSale(sale_id));
    return;
  }
  std::string token = newSubmissionToken();
  std::vector<std::string> keys = {redis_keys::token(sale_id, token)};
  std::vector<std::string> args = {
      std::string(user_id), std::to_string(toRedisMillis(expires)),
      std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(sale->spec.token_ttl)))};
  client_.eval(sale_id, kScriptIssueToken, std::move(keys), std::move(args),
               [token = std::move(token), done = std::move(done)](
                   absl::StatusOr<RedisReply> r) mutable {
                 if (!r.ok()) {
                   std::move(done)(r.status());
                   return;
                 }
                 std::move(done)(std::move(token));
               });
}

void RedisSaleStore::attemptOrder(OrderAttempt attempt, absl::Time now,
                                  Callback<absl::StatusOr<AttemptResult>> done) {
  Sale* sale = find(attempt.order.sale_id);
  if (sale == nullptr) {
    std::move(done)(unknownSale(attempt.order.sale_id));
    return;
  }
  if (sale->spec.strategy == StockStrategy::kOptimistic) {
    attemptOptimistic(std::move(attempt), now, std::move(done));
    return;
  }
  bool full = false;
  {
    absl::MutexLock lock(&sale->mu);
    if (sale->in_flight) {
      // The sale's call is in flight: wait for its reply, and go in the next group.
      full = sale->waiting.size() >= options_.max_waiting;
      if (!full) {
        sale->waiting.push_back(Queued{std::move(attempt), now, std::move(done)});
        return;
      }
    } else {
      sale->in_flight = true;
    }
  }
  if (full) {
    std::move(done)(absl::UnavailableError(absl::StrCat(
        "redis: ", options_.max_waiting, " order attempts already wait for sale ",
        av(attempt.order.sale_id))));
    return;
  }
  std::vector<Queued> group;
  group.push_back(Queued{std::move(attempt), now, std::move(done)});
  sendGroup(*sale, std::move(group));
}

void RedisSaleStore::sendGroup(Sale& sale, std::vector<Queued> group) {
  const std::string& sale_id = sale.spec.id;
  std::vector<std::string> keys = {
      redis_keys::stock(sale_id),
      redis_keys::orderStream(sale_id),
      redis_keys::cancels(sale_id),
      redis_keys::counts(sale_id),
      redis_keys::buyers(sale_id),
      redis_keys::orderRecords(sale_id),
  };
  // The group's delayed cancel comes due at the latest pay_before of its attempts, and its
  // tokens are judged at its latest arrival: the time nearest the script's one instant.
  absl::Time cancel_due = absl::InfinitePast();
  absl::Time now = absl::InfinitePast();
  for (const Queued& q : group) {
    cancel_due = std::max(cancel_due, q.attempt.order.pay_before);
    now = std::max(now, q.now);
  }
  std::vector<std::string> args = {sale_id, options_.stream_orders ? "1" : "0",
                                   std::to_string(toRedisMicros(cancel_due)),
                                   std::to_string(toRedisMillis(now))};
  // Five arguments per attempt; the order's record is formatted here, once, so the
  // script neither receives its times one by one nor concatenates it.
  args.reserve(args.size() + 5 * group.size());
  for (const Queued& q : group) {
    const OrderAttempt& a = q.attempt;
    const Order& order = a.order;
    // A token's key only for an attempt that has one (the script takes them in order).
    if (!a.token.empty()) keys.push_back(redis_keys::token(sale_id, a.token));
    args.push_back(order.id);
    args.push_back(order.user_id);
    args.push_back(a.token);
    static constexpr std::string_view kFlags[] = {"0", "1", "2", "3"};
    args.emplace_back(kFlags[(a.require_token ? 1 : 0) + (a.window_open ? 2 : 0)]);
    args.push_back(encodeOrderRecord(order));
  }
  groups_.fetch_add(1, std::memory_order_relaxed);
  grouped_.fetch_add(group.size(), std::memory_order_relaxed);
  client_.eval(
      sale_id, kScriptAttemptOrders, std::move(keys), std::move(args),
      [this, &sale, group = std::move(group)](absl::StatusOr<RedisReply> r) mutable {
        // First the next group, which waited while this one ran; then the answers.
        std::vector<Queued> next;
        {
          absl::MutexLock lock(&sale.mu);
          const size_t n = std::min(sale.waiting.size(), options_.max_group);
          next.reserve(n);
          for (size_t i = 0; i < n; ++i) {
            next.push_back(std::move(sale.waiting.front()));
            sale.waiting.pop_front();
          }
          sale.in_flight = n > 0;
        }
        if (!next.empty()) sendGroup(sale, std::move(next));
        answerGroup(group, r);
      });
}

namespace {

RedisReply intReply(int64_t v) {
  RedisReply r;
  r.type = RedisReply::Type::kInteger;
  r.integer = v;
  return r;
}

RedisReply strReply(std::string v) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(v);
  return r;
}

// The script's answer shape, so parseAttempt() serves both paths.
RedisReply attemptAnswer(int64_t code, bool replayed, std::string id, std::string c,
                         std::string p, std::string u) {
  RedisReply r;
  r.type = RedisReply::Type::kArray;
  r.elements = {intReply(code),   intReply(replayed ? 1 : 0), strReply(std::move(id)),
                strReply(std::move(c)), strReply(std::move(p)), strReply(std::move(u))};
  return r;
}

RedisReply codeOnly(int64_t code) { return attemptAnswer(code, false, "", "0", "0", "0"); }

}  // namespace

void RedisSaleStore::attemptOptimistic(OrderAttempt attempt, absl::Time now,
                                       Callback<absl::StatusOr<AttemptResult>> done) {
  std::string sale_id = attempt.order.sale_id;
  auto txn = [this, a = attempt, now](RedisClient::Session& s) -> absl::StatusOr<RedisReply> {
    const Order& o = a.order;
    const std::string& sale = o.sale_id;
    const bool has_token = !a.token.empty();
    const std::string stock_key = redis_keys::stock(sale);
    const std::string buyers_key = redis_keys::buyers(sale);
    const std::string token_key = redis_keys::token(sale, a.token);
    const std::string created = std::to_string(toRedisMicros(o.created_at));
    const std::string pay_before = std::to_string(toRedisMicros(o.pay_before));
    const std::string updated = std::to_string(toRedisMicros(o.updated_at));
    const int64_t now_ms = toRedisMillis(now);

    for (int i = 0; i < options_.optimistic_retries; ++i) {
      // Round trip 1: watch and read everything the decision depends on.
      absl::StatusOr<std::vector<RedisReply>> read = s.pipeline({
          {"WATCH", stock_key, buyers_key, token_key},
          {"HMGET", token_key, "user", "exp", "state", "r_code", "r_oid", "r_c", "r_p", "r_u"},
          {"HGET", buyers_key, o.user_id},
          {"GET", stock_key},
      });
      if (!read.ok()) return read.status();
      if (read->size() != 4 || (*read)[1].elements.size() != 8) {
        return absl::InternalError("redis: malformed optimistic read");
      }
      const std::vector<RedisReply>& t = (*read)[1].elements;
      const RedisReply& held = (*read)[2];
      const int64_t left = asInt((*read)[3]).value_or(0);

      // Answers that write nothing end the transaction here.
      std::optional<RedisReply> early;
      if (has_token) {
        std::optional<int64_t> exp = asInt(t[1]);
        if (t[0].isNil() || t[0].str != o.user_id || !exp || now_ms >= *exp) {
          early = codeOnly(3);
        } else if (t[2].str == "used") {
          early = attemptAnswer(asInt(t[3]).value_or(6), true, t[4].str, t[5].str, t[6].str,
                                t[7].str);
        } else if (!a.window_open) {
          early = codeOnly(5);
        }
      } else if (a.require_token) {
        early = codeOnly(3);
      } else if (!a.window_open) {
        early = codeOnly(5);
      }
      if (early) {
        absl::StatusOr<std::vector<RedisReply>> un = s.pipeline({{"UNWATCH"}});
        if (!un.ok()) return un.status();
        return *std::move(early);
      }

      if (options_.before_optimistic_write) options_.before_optimistic_write();
      // Round trip 2: the writes, applied only if no watched key changed.
      std::vector<std::vector<std::string>> writes = {{"MULTI"}};
      int64_t code;
      std::string oid, c = "0", p = "0", u = "0";
      if (!held.isNil()) {
        code = 1;
        oid = held.str;
      } else if (left <= 0) {
        code = 2;
      } else {
        code = 0;
        oid = o.id;
        c = created;
        p = pay_before;
        u = updated;
        writes.push_back({"DECR", stock_key});
        writes.push_back({"HSET", buyers_key, o.user_id, o.id});
        writes.push_back({"HSET", redis_keys::orderRecords(sale), o.id, encodeOrderRecord(o)});
        if (options_.stream_orders) {
          writes.push_back({"XADD", redis_keys::orderStream(sale), "*", "id", o.id, "user",
                            o.user_id, "created", created, "pay_before", pay_before});
        }
        writes.push_back({"ZADD", redis_keys::cancels(sale), pay_before, o.id});
        writes.push_back({"HINCRBY", redis_keys::counts(sale), "pending", "1"});
        writes.push_back({"HINCRBY", redis_keys::counts(sale), "cancel_queue", "1"});
      }
      if (has_token) {
        writes.push_back({"HSET", token_key, "state", "used", "r_code", std::to_string(code),
                          "r_oid", oid, "r_c", c, "r_p", p, "r_u", u});
      }
      writes.push_back({"EXEC"});
      absl::StatusOr<std::vector<RedisReply>> exec = s.pipeline(writes);
      if (!exec.ok()) return exec.status();
      if (exec->back().isNil()) {  // a watched key changed: retry
        conflicts_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      return attemptAnswer(code, false, oid, c, p, u);
    }
    return codeOnly(6);  // retries exhausted: kBusy, the token stays usable
  };
  client_.transact(sale_id, std::move(txn),
                   [order = std::move(attempt.order), done = std::move(done)](
                       absl::StatusOr<RedisReply> r) mutable {
                     if (!r.ok()) {
                       std::move(done)(r.status());
                       return;
                     }
                     std::move(done)(parseAttempt(*r, order));
                   });
}

void RedisSaleStore::releaseUnit(std::string_view sale_id, std::string_view user_id,
                                 std::string_view order_id, Callback<absl::StatusOr<bool>> done) {
  if (find(sale_id) == nullptr) {
    std::move(done)(unknownSale(sale_id));
    return;
  }
  client_.eval(sale_id, kScriptReleaseUnit,
               {redis_keys::buyers(sale_id), redis_keys::stock(sale_id)},
               {std::string(user_id), std::string(order_id)},
               [done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                 if (!r.ok()) {
                   std::move(done)(r.status());
                   return;
                 }
                 std::optional<int64_t> v = asInt(*r);
                 if (!v) {
                   std::move(done)(absl::InternalError("redis: malformed release_unit answer"));
                   return;
                 }
                 std::move(done)(*v == 1);
               });
}

void RedisSaleStore::stockLeft(std::string_view sale_id, Callback<absl::StatusOr<int64_t>> done) {
  if (find(sale_id) == nullptr) {
    std::move(done)(unknownSale(sale_id));
    return;
  }
  client_.command(sale_id, {"GET", redis_keys::stock(sale_id)},
                  [done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                    if (!r.ok()) {
                      std::move(done)(r.status());
                      return;
                    }
                    if (r->isNil()) {
                      std::move(done)(int64_t{0});
                      return;
                    }
                    std::optional<int64_t> v = asInt(*r);
                    if (!v) {
                      std::move(done)(absl::InternalError("redis: stock is not an integer"));
                      return;
                    }
                    std::move(done)(*v < 0 ? int64_t{0} : *v);
                  });
}

void RedisSaleStore::adjustStock(std::string_view sale_id, StockChange change,
                                 Callback<absl::StatusOr<StockLevel>> done) {
  if (find(sale_id) == nullptr) {
    std::move(done)(unknownSale(sale_id));
    return;
  }
  client_.eval(
      sale_id, kScriptSetStockTotal, {redis_keys::stock(sale_id), redis_keys::meta(sale_id)},
      {change.kind == StockChange::Kind::kDelta ? "add" : "set", std::to_string(change.value)},
      [done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
        if (!r.ok()) {
          std::move(done)(r.status());
          return;
        }
        const int64_t code =
            r->type == RedisReply::Type::kArray && !r->elements.empty()
                ? asInt(r->elements[0]).value_or(-2)
                : -2;
        if (code == -1) {
          std::move(done)(absl::FailedPreconditionError("the sale has no stock in Redis"));
          return;
        }
        if (code < 0 || r->elements.size() != 4) {
          std::move(done)(absl::InternalError("redis: malformed set_stock_total answer"));
          return;
        }
        const StockLevel level{.total = asInt(r->elements[1]).value_or(0),
                               .left = asInt(r->elements[2]).value_or(0)};
        if (code == 0) {
          std::move(done)(absl::FailedPreconditionError(absl::StrCat(
              "stock_total ", asInt(r->elements[3]).value_or(0), " is below the ",
              level.total - level.left, " units already sold (total ", level.total, ", left ",
              level.left, ")")));
          return;
        }
        std::move(done)(level);
      });
}

void RedisSaleStore::stockLevel(std::string_view sale_id,
                                Callback<absl::StatusOr<StockLevel>> done) {
  if (find(sale_id) == nullptr) {
    std::move(done)(unknownSale(sale_id));
    return;
  }
  client_.eval(sale_id, kScriptSetStockTotal,
               {redis_keys::stock(sale_id), redis_keys::meta(sale_id)}, {"get", "0"},
               [done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                 if (!r.ok()) {
                   std::move(done)(r.status());
                   return;
                 }
                 if (r->type != RedisReply::Type::kArray || r->elements.size() != 4 ||
                     asInt(r->elements[0]).value_or(-1) < 0) {
                   std::move(done)(absl::InternalError("redis: the sale's stock is missing"));
                   return;
                 }
                 std::move(done)(StockLevel{.total = asInt(r->elements[1]).value_or(0),
                                            .left = asInt(r->elements[2]).value_or(0)});
               });
}

}  // namespace seckill
