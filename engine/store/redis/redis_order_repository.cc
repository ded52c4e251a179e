#include "engine/store/redis/redis_order_repository.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {
namespace {

using redis_internal::asInt;
using redis_internal::parseOrderRecord;

absl::Status unknownOrder() { return absl::NotFoundError("unknown order"); }

}  // namespace

void RedisOrderRepository::get(std::string_view order_id, Callback<absl::StatusOr<Order>> done) {
  std::optional<std::string_view> sale = saleOfOrderId(order_id);
  if (!sale) {
    std::move(done)(unknownOrder());
    return;
  }
  client_.command(*sale, {"HGET", redis_keys::orderRecords(*sale), std::string(order_id)},
                  [sale = std::string(*sale), id = std::string(order_id),
                   done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                    if (!r.ok()) {
                      std::move(done)(r.status());
                      return;
                    }
                    if (r->isNil()) {
                      std::move(done)(unknownOrder());
                      return;
                    }
                    std::move(done)(parseOrderRecord(sale, id, r->str));
                  });
}

void RedisOrderRepository::transition(std::string_view order_id, OrderState from, OrderState to,
                                      CancelReason reason, absl::Time at,
                                      std::optional<absl::Time> only_before,
                                      Callback<absl::StatusOr<Transition>> done) {
  std::optional<std::string_view> sale = saleOfOrderId(order_id);
  if (!sale) {
    std::move(done)(unknownOrder());
    return;
  }
  std::vector<std::string> args = {
      std::string(order_id),
      std::to_string(static_cast<int>(from)),
      std::to_string(static_cast<int>(to)),
      std::to_string(static_cast<int>(reason)),
      std::to_string(toRedisMicros(at)),
      only_before ? std::to_string(toRedisMicros(*only_before)) : std::string(),
  };
  client_.eval(*sale, kScriptTransitionOrder,
               {redis_keys::orderRecords(*sale), redis_keys::counts(*sale)}, std::move(args),
               [sale = std::string(*sale), id = std::string(order_id),
                done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                 if (!r.ok()) {
                   std::move(done)(r.status());
                   return;
                 }
                 if (r->type != RedisReply::Type::kArray || r->elements.empty()) {
                   std::move(done)(absl::InternalError("redis: malformed transition answer"));
                   return;
                 }
                 int64_t applied = asInt(r->elements[0]).value_or(-2);
                 if (applied == -1) {
                   std::move(done)(unknownOrder());
                   return;
                 }
                 if (r->elements.size() != 2 || applied < 0) {
                   std::move(done)(absl::InternalError("redis: malformed transition answer"));
                   return;
                 }
                 absl::StatusOr<Order> order = parseOrderRecord(sale, id, r->elements[1].str);
                 if (!order.ok()) {
                   std::move(done)(order.status());
                   return;
                 }
                 std::move(done)(Transition{.order = *std::move(order), .applied = applied == 1});
               });
}

OrderCounts RedisOrderRepository::counts() const {
  OrderCounts c;
  for (const std::string& sale : sale_ids_()) {
    absl::StatusOr<RedisReply> r = client_.commandSync(
        sale, {"HMGET", redis_keys::counts(sale), "pending", "paid", "cancelled"});
    if (!r.ok() || r->type != RedisReply::Type::kArray || r->elements.size() != 3) continue;
    c.pending_payment += asInt(r->elements[0]).value_or(0);
    c.paid += asInt(r->elements[1]).value_or(0);
    c.cancelled += asInt(r->elements[2]).value_or(0);
  }
  return c;
}

void RedisOrderRepository::list(const OrderQuery& query,
                                Callback<absl::StatusOr<OrderPage>> done) {
  std::string cursor = query.page.empty() ? "0" : query.page;
  if (!std::all_of(cursor.begin(), cursor.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::move(done)(absl::InvalidArgumentError("page_token: not a token this engine gave"));
    return;
  }
  // With a shopper to filter on, scan wider: most records are other shoppers'.
  const size_t count = query.user_id.empty() ? query.limit : std::max<size_t>(query.limit, 1000);
  client_.command(
      query.sale_id,
      {"HSCAN", redis_keys::orderRecords(query.sale_id), cursor, "COUNT", std::to_string(count)},
      [sale = query.sale_id, user = query.user_id, done = std::move(done)](
          absl::StatusOr<RedisReply> r) mutable {
        if (!r.ok()) {
          std::move(done)(r.status());
          return;
        }
        if (r->type != RedisReply::Type::kArray || r->elements.size() != 2 ||
            r->elements[1].type != RedisReply::Type::kArray) {
          std::move(done)(absl::InternalError("redis: malformed HSCAN answer"));
          return;
        }
        OrderPage page;
        const std::string next = redis_internal::asString(r->elements[0]);
        if (next != "0") page.next = next;
        const auto& items = r->elements[1].elements;
        for (size_t i = 0; i + 1 < items.size(); i += 2) {
          absl::StatusOr<Order> order = parseOrderRecord(sale, items[i].str, items[i + 1].str);
          if (!order.ok()) continue;  // a record this version cannot read is skipped, not fatal
          if (!user.empty() && order->user_id != user) continue;
          page.orders.push_back(*std::move(order));
        }
        std::sort(page.orders.begin(), page.orders.end(),
                  [](const Order& a, const Order& b) { return a.id < b.id; });
        std::move(done)(std::move(page));
      });
}

}  // namespace seckill
