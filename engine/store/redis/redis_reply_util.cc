#include "engine/store/redis/redis_reply_util.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"

namespace seckill::redis_internal {

std::optional<int64_t> asInt(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  int64_t v = 0;
  if ((r.type == RedisReply::Type::kString || r.type == RedisReply::Type::kStatus) &&
      absl::SimpleAtoi(av(r.str), &v)) {
    return v;
  }
  return std::nullopt;
}

std::string asString(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return std::to_string(r.integer);
  return r.str;
}

absl::StatusOr<Order> parseOrder(const RedisReply& fields) {
  if (fields.type != RedisReply::Type::kArray || fields.elements.size() % 2 != 0) {
    return absl::InternalError("redis: malformed order hash");
  }
  Order o;
  bool has_id = false;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& f = fields.elements[i].str;
    const RedisReply& v = fields.elements[i + 1];
    if (f == "id") {
      o.id = v.str;
      has_id = true;
    } else if (f == "sale") {
      o.sale_id = v.str;
    } else if (f == "user") {
      o.user_id = v.str;
    } else if (f == "state") {
      int64_t s = asInt(v).value_or(-1);
      if (s < 0 || s > 2) return absl::InternalError("redis: bad order state");
      o.state = static_cast<OrderState>(s);
    } else if (f == "reason") {
      int64_t s = asInt(v).value_or(-1);
      if (s < 0 || s > 2) return absl::InternalError("redis: bad cancel reason");
      o.cancel_reason = static_cast<CancelReason>(s);
    } else if (f == "created") {
      o.created_at = fromRedisMicros(asInt(v).value_or(0));
    } else if (f == "pay_before") {
      o.pay_before = fromRedisMicros(asInt(v).value_or(0));
    } else if (f == "updated") {
      o.updated_at = fromRedisMicros(asInt(v).value_or(0));
    }
  }
  if (!has_id) return absl::InternalError("redis: order hash without id");
  return o;
}

}  // namespace seckill::redis_internal
