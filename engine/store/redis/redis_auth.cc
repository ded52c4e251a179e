#include "engine/store/redis/redis_auth.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill::redis_internal {

absl::Status authenticate(redisContext* c, const RedisAuth& auth) {
  if (!auth.enabled()) return absl::OkStatus();
  std::vector<std::string> argv = {"AUTH"};
  if (!auth.user.empty()) argv.push_back(auth.user);
  argv.push_back(auth.password);
  redisReply* r = blockingCommand(c, argv);
  if (r == nullptr) {
    return absl::UnavailableError(absl::StrCat("AUTH: connection lost (", c->errstr, ")"));
  }
  absl::Status out = absl::OkStatus();
  if (r->type == REDIS_REPLY_ERROR) {
    out = absl::UnauthenticatedError(absl::StrCat("AUTH as ",
                                                  auth.user.empty() ? "default" : auth.user,
                                                  " refused: ", av(std::string_view(r->str, r->len))));
  }
  freeReplyObject(r);
  return out;
}

}  // namespace seckill::redis_internal
