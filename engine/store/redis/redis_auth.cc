#include "engine/store/redis/redis_auth.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"

namespace seckill::redis_internal {

absl::Status authenticate(redisContext* c, const RedisAuth& auth) {
  if (!auth.enabled()) return absl::OkStatus();
  std::vector<std::string_view> argv = {"AUTH"};
  if (!auth.user.empty()) argv.push_back(auth.user);
  argv.push_back(auth.password);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (std::string_view a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
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
