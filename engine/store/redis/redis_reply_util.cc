#include "engine/store/redis/redis_reply_util.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"

namespace seckill::redis_internal {
namespace {

// An error reply as a Status: transient server states are Unavailable.
absl::Status errorStatus(std::string_view msg) {
  for (std::string_view transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (absl::StartsWith(av(msg), av(transient))) {
      return absl::UnavailableError(absl::StrCat("redis: ", av(msg)));
    }
  }
  return absl::InternalError(absl::StrCat("redis: ", av(msg)));
}

}  // namespace

RedisReply copyReply(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        if (r.element[i] != nullptr) out.elements.push_back(copyReply(*r.element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

absl::StatusOr<RedisReply> fromHiredis(const redisReply& r) {
  if (r.type == REDIS_REPLY_ERROR) return errorStatus(std::string_view(r.str, r.len));
  return copyReply(r);
}

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

void encodeCommand(const std::vector<std::string>& argv, std::string& out) {
  // Each part is a header ("*" or "$", at most 20 digits, CRLF) and, for an argument, its
  // bytes and a CRLF: 25 bytes beyond the bytes bound every one.
  size_t bound = 25;
  for (const std::string& a : argv) bound += 25 + a.size();
  out.resize(bound);
  char* p = out.data();
  auto header = [&p](char kind, size_t n) {
    *p++ = kind;
    p = std::to_chars(p, p + 20, n).ptr;
    *p++ = '\r';
    *p++ = '\n';
  };
  header('*', argv.size());
  for (const std::string& a : argv) {
    header('$', a.size());
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    p += a.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  out.resize(static_cast<size_t>(p - out.data()));
}

bool appendCommand(redisContext* c, const std::vector<std::string>& argv, std::string& wire) {
  encodeCommand(argv, wire);
  return redisAppendFormattedCommand(c, wire.data(), wire.size()) == REDIS_OK;
}

redisReply* blockingCommand(redisContext* c, const std::vector<std::string>& argv) {
  std::string wire;
  void* raw = nullptr;
  if (!appendCommand(c, argv, wire) || redisGetReply(c, &raw) != REDIS_OK) return nullptr;
  return static_cast<redisReply*>(raw);
}

std::string encodeOrderRecord(const Order& order) {
  return absl::StrCat(static_cast<int>(order.state), " ", static_cast<int>(order.cancel_reason), " ",
                      toRedisMicros(order.created_at), " ", toRedisMicros(order.pay_before), " ",
                      toRedisMicros(order.updated_at), " ", order.user_id);
}

absl::StatusOr<Order> parseOrderRecord(std::string_view sale, std::string_view id,
                                       std::string_view record) {
  auto malformed = [&] {
    return absl::InternalError(absl::StrCat("redis: malformed record of order ", av(id)));
  };
  int64_t v[5];
  for (int64_t& field : v) {
    const size_t space = record.find(' ');
    if (space == std::string_view::npos || !absl::SimpleAtoi(av(record.substr(0, space)), &field)) {
      return malformed();
    }
    record.remove_prefix(space + 1);
  }
  const std::optional<OrderState> state = orderStateFromInt(v[0]);
  const std::optional<CancelReason> reason = cancelReasonFromInt(v[1]);
  if (!state || !reason || record.empty()) return malformed();
  Order o;
  o.id = std::string(id);
  o.sale_id = std::string(sale);
  o.user_id = std::string(record);
  o.state = *state;
  o.cancel_reason = *reason;
  o.created_at = fromRedisMicros(v[2]);
  o.pay_before = fromRedisMicros(v[3]);
  o.updated_at = fromRedisMicros(v[4]);
  return o;
}

}  // namespace seckill::redis_internal
