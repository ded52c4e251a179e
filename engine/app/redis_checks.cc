#include "engine/app/redis_checks.h"

#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::app {

std::vector<std::string> redisSettingWarnings(
    std::string_view server,
    const std::function<std::optional<std::string>(std::string_view name)>& get) {
  std::vector<std::string> out;
  const std::optional<std::string> policy = get("maxmemory-policy");
  const std::optional<std::string> aof = get("appendonly");
  const std::optional<std::string> fsync = get("appendfsync");
  if (!policy && !aof) {
    out.push_back(absl::StrCat(
        "redis ", av(server),
        ": its settings cannot be read (CONFIG GET refused); make sure maxmemory-policy is "
        "noeviction and AOF is on (appendonly yes, appendfsync everysec)"));
    return out;
  }
  if (policy && *policy != "noeviction") {
    out.push_back(absl::StrCat(
        "redis ", av(server), ": maxmemory-policy is ", *policy,
        ": a full Redis may evict a sale's buyers, order records or delayed cancels (second "
        "orders per shopper, acknowledged orders lost); set maxmemory-policy noeviction (a full "
        "Redis then refuses new orders with 503)"));
  }
  if (aof && *aof != "yes") {
    out.push_back(absl::StrCat(
        "redis ", av(server),
        ": appendonly is no: a Redis restart loses every sale's stock, buyers and pending orders; "
        "set appendonly yes, appendfsync everysec (docs/durability.md)"));
  } else if (fsync && *fsync == "no") {
    out.push_back(absl::StrCat(
        "redis ", av(server),
        ": appendfsync is no: a crash of its machine can lose the last ~30 s of orders; set "
        "appendfsync everysec (docs/durability.md)"));
  }
  return out;
}

std::vector<std::string> checkRedisSettings(RedisClient& client,
                                            const std::vector<std::string>& sale_ids) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& sale : sale_ids) {
    const std::string server = client.endpointFor(sale);
    if (!seen.insert(server).second) continue;
    auto get = [&](std::string_view name) -> std::optional<std::string> {
      absl::StatusOr<RedisReply> r = client.commandSync(sale, {"CONFIG", "GET", std::string(name)});
      // ["name", "value"]; an empty array for an unknown name.
      if (!r.ok() || r->type != RedisReply::Type::kArray || r->elements.size() != 2) {
        return std::nullopt;
      }
      return r->elements[1].str;
    };
    for (std::string& w : redisSettingWarnings(server, get)) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace seckill::app
