#pragma once

#include <hiredis/hiredis.h>

#include "absl/status/status.h"
#include "engine/store/redis/redis_endpoint.h"

namespace seckill::redis_internal {

// Sends AUTH on a fresh blocking connection when `auth` is enabled (nothing
// otherwise). Unauthenticated names the server's refusal ("WRONGPASS ...",
// "ERR AUTH <password> called without any password configured ..."),
// Unavailable a broken connection; the password never appears in either.
absl::Status authenticate(redisContext* c, const RedisAuth& auth);

}  // namespace seckill::redis_internal
