#include "engine/store/redis/redis_keys.h"

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill {

namespace redis_keys {
namespace {
std::string base(std::string_view sale) { return absl::StrCat("sk:{", av(sale), "}:"); }
}  // namespace

std::string meta(std::string_view sale) { return base(sale) + "meta"; }
std::string stock(std::string_view sale) { return base(sale) + "stock"; }
std::string buyers(std::string_view sale) { return base(sale) + "buyers"; }
std::string token(std::string_view sale, std::string_view token) {
  return absl::StrCat(base(sale), "t:", av(token));
}
std::string orderRecords(std::string_view sale) { return base(sale) + "records"; }
std::string orderStream(std::string_view sale) { return base(sale) + "orders"; }
std::string cancels(std::string_view sale) { return base(sale) + "cancel"; }
std::string cancelAttempts(std::string_view sale) { return base(sale) + "cancel:n"; }
std::string counts(std::string_view sale) { return base(sale) + "counts"; }

}  // namespace redis_keys

int64_t toRedisMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time fromRedisMicros(int64_t us) { return absl::FromUnixMicros(us); }
int64_t toRedisMillis(absl::Time t) { return absl::ToUnixMillis(t); }

}  // namespace seckill

#include "engine/store/redis/redis_scripts.h"

namespace seckill {

std::vector<RedisScript> storeScripts() {
  return {
      {"attempt_orders", std::string(redis_scripts::kAttemptOrders)},
      {"release_unit", std::string(redis_scripts::kReleaseUnit)},
      {"issue_token", std::string(redis_scripts::kIssueToken)},
      {"transition_order", std::string(redis_scripts::kTransitionOrder)},
      {"consume_due", std::string(redis_scripts::kConsumeDue)},
      {"queue_cancel", std::string(redis_scripts::kQueueCancel)},
      {"ack_cancel", std::string(redis_scripts::kAckCancel)},
      {"set_stock_total", std::string(redis_scripts::kSetStockTotal)},
  };
}

std::string_view orderAckScript() { return redis_scripts::kAckOrders; }

}  // namespace seckill
