#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/core/order.h"  // saleOfOrderId

namespace seckill {

// The Redis keys of one sale. Every key carries the hash tag {<sale_id>}, so
// each script touches one cluster slot. See docs/redis.md for the layout.
namespace redis_keys {

// The version of this layout, kept in the sale's meta hash (field `layout`):
// 2 since the buyers and the order records became one hash each per sale. A
// meta hash without it is layout 1 (a key per buyer and per order).
inline constexpr std::string_view kLayout = "2";

std::string meta(std::string_view sale);                             // hash: stock_total, layout
std::string stock(std::string_view sale);                            // int: units left
std::string buyers(std::string_view sale);                           // hash: user -> order id
std::string token(std::string_view sale, std::string_view token);    // hash: the token
std::string orderRecords(std::string_view sale);                     // hash: order id -> record
std::string orderStream(std::string_view sale);                      // stream: created orders
std::string cancels(std::string_view sale);                          // zset: order id by pay_before
std::string cancelAttempts(std::string_view sale);                   // hash: deliveries per order
std::string counts(std::string_view sale);                           // hash: orders per state

}  // namespace redis_keys

// Times inside Redis: microseconds since the Unix epoch (exact in a Lua double
// until the year 2255) for stored fields and scores; milliseconds for expiries.
int64_t toRedisMicros(absl::Time t);
absl::Time fromRedisMicros(int64_t us);
int64_t toRedisMillis(absl::Time t);

}  // namespace seckill

#include <vector>

#include "engine/store/redis/redis_client.h"

namespace seckill {

// The scripts of the Redis stores, by index into storeScripts().
enum StoreScript : size_t {
  kScriptAttemptOrders,
  kScriptReleaseUnit,
  kScriptIssueToken,
  kScriptTransitionOrder,
  kScriptConsumeDue,
  kScriptQueueCancel,
  kScriptAckCancel,
  kScriptSetStockTotal,
};

// Every script the Redis stores run; put them in RedisClientOptions::scripts
// of the client the stores share.
std::vector<RedisScript> storeScripts();

// ack_orders.lua, the order writer's XACK + XDEL + HDEL in one step. The
// writer's own client loads no scripts: it sends this one with EVAL, once per
// committed batch.
std::string_view orderAckScript();

}  // namespace seckill
