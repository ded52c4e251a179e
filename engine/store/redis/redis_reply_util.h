#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/core/order.h"
#include "engine/store/redis/redis_client.h"

namespace seckill::redis_internal {

// The integer in an integer reply or a decimal string reply.
std::optional<int64_t> asInt(const RedisReply& r);
// The text of a string/status reply, a decimal integer reply, "" for nil.
std::string asString(const RedisReply& r);
// An order from a flat HGETALL array (field, value, ...); Internal if malformed.
absl::StatusOr<Order> parseOrder(const RedisReply& fields);

}  // namespace seckill::redis_internal
