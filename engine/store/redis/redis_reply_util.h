#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/core/order.h"
#include "engine/store/redis/redis_client.h"

struct redisReply;    // <hiredis/hiredis.h>
struct redisContext;  // <hiredis/hiredis.h>

namespace seckill::redis_internal {

// An owned copy of a hiredis reply; types RedisReply does not know become kNil.
RedisReply copyReply(const redisReply& r);
// The same, with an error reply as a Status: transient server states (LOADING, BUSY,
// MASTERDOWN, TRYAGAIN, CLUSTERDOWN) are Unavailable, any other error Internal.
absl::StatusOr<RedisReply> fromHiredis(const redisReply& r);

// `argv` as one RESP command (an array of bulk strings), in place of `out`'s content:
// the bytes hiredis's redisFormatCommandArgv makes, without its sds appends and
// printf-style lengths. `out` keeps its capacity, so a reused one costs no allocation.
void encodeCommand(const std::vector<std::string>& argv, std::string& out);
// `argv` encoded into `wire` and queued in `c`'s output buffer (sent by its next write or
// blocking read): the one way this client formats a command. False if hiredis refused it.
bool appendCommand(redisContext* c, const std::vector<std::string>& argv, std::string& wire);
// One blocking command on `c`, nothing else in flight: the raw reply (the caller frees
// it), or null when the connection broke (`c->errstr` says why).
redisReply* blockingCommand(redisContext* c, const std::vector<std::string>& argv);

// The integer in an integer reply or a decimal string reply.
std::optional<int64_t> asInt(const RedisReply& r);
// The text of a string/status reply, a decimal integer reply, "" for nil.
std::string asString(const RedisReply& r);
// An order's record, the value of its field in the sale's order records hash
// (redis_keys::orderRecords): "<state> <reason> <created> <pay_before>
// <updated> <user>", states and reasons as their numbers, times in Redis
// microseconds; the user last, so it may hold any byte. The order id is the
// field and the sale is the key's, so neither is repeated. The Lua scripts
// write the same format (attempt_orders.lua, transition_order.lua).
std::string encodeOrderRecord(const Order& order);
// The order `id` of `sale` from its record; Internal if malformed.
absl::StatusOr<Order> parseOrderRecord(std::string_view sale, std::string_view id,
                                       std::string_view record);

}  // namespace seckill::redis_internal
