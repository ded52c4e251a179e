#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/redis/redis_client.h"

namespace seckill::app {

// What a Redis server's settings risk for the sales it holds, one sentence
// each (empty: nothing to say). `get(name)` is that CONFIG parameter's value,
// or nullopt when the server does not tell (CONFIG disabled or renamed, as
// on some managed services). Checked:
// - maxmemory-policy: anything but noeviction lets a full Redis evict a sale's
//   buyers, order records or delayed cancels (a second order per shopper,
//   acknowledged orders lost); with noeviction a full Redis refuses writes and
//   shoppers get 503 instead.
// - appendonly / appendfsync: without AOF a Redis restart loses the sales'
//   state; with appendfsync no the loss window is the kernel's (up to ~30 s).
std::vector<std::string> redisSettingWarnings(
    std::string_view server,
    const std::function<std::optional<std::string>(std::string_view name)>& get);

// Runs redisSettingWarnings on every server holding one of `sale_ids` (on a
// cluster, each master once), reading its settings with CONFIG GET.
std::vector<std::string> checkRedisSettings(RedisClient& client,
                                            const std::vector<std::string>& sale_ids);

}  // namespace seckill::app
