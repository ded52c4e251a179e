#include "engine/store/redis/redis_delay_queue.h"

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {

using redis_internal::asInt;
using redis_internal::asString;

std::string RedisDelayQueue::publish(std::string_view payload, absl::Time due) {
  std::optional<std::string_view> sale = saleOfOrderId(payload);
  if (!sale) return std::string();
  std::string id = absl::StrCat(av(*sale), "|", av(payload));
  client_.eval(*sale, kScriptQueueCancel, {redis_keys::cancels(*sale), redis_keys::counts(*sale)},
               {std::to_string(toRedisMicros(due)), std::string(payload)},
               [](absl::StatusOr<RedisReply>) {});
  return id;
}

void RedisDelayQueue::consume(absl::Time now, size_t max, absl::Duration visibility,
                              std::vector<Delivery>& out) {
  size_t taken = 0;
  for (const std::string& sale : sale_ids_()) {
    if (taken >= max) break;
    absl::StatusOr<RedisReply> r = client_.evalSync(
        sale, kScriptConsumeDue, {redis_keys::cancels(sale), redis_keys::cancelAttempts(sale)},
        {std::to_string(toRedisMicros(now)), std::to_string(max - taken),
         std::to_string(toRedisMicros(now + visibility))});
    if (!r.ok() || r->type != RedisReply::Type::kArray) continue;
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      std::string order_id = asString(r->elements[i]);
      out.push_back(Delivery{.id = absl::StrCat(sale, "|", order_id),
                             .payload = std::move(order_id),
                             .attempts = static_cast<int>(asInt(r->elements[i + 1]).value_or(1))});
      ++taken;
    }
  }
}

void RedisDelayQueue::ack(const std::string& id) {
  size_t bar = id.find('|');
  if (bar == std::string::npos) return;
  std::string sale = id.substr(0, bar);
  std::string order_id = id.substr(bar + 1);
  client_.eval(sale, kScriptAckCancel,
               {redis_keys::cancels(sale), redis_keys::cancelAttempts(sale), redis_keys::counts(sale)},
               {order_id}, [](absl::StatusOr<RedisReply>) {});
}

size_t RedisDelayQueue::pending() const {
  size_t n = 0;
  for (const std::string& sale : sale_ids_()) {
    absl::StatusOr<RedisReply> r =
        client_.commandSync(sale, {"HGET", redis_keys::counts(sale), "cancel_queue"});
    if (r.ok()) n += static_cast<size_t>(asInt(*r).value_or(0));
  }
  return n;
}

}  // namespace seckill
