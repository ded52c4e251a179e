#include "engine/store/redis/redis_rate_limiter.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_keys.h"
#include "engine/store/redis/redis_reply_util.h"
#include "engine/store/redis/redis_scripts.h"

namespace seckill {

using redis_internal::asInt;
using ratelimit::Algorithm;
using ratelimit::Decision;

std::vector<RedisScript> rateLimitScripts() {
  return {
      {"rl_token_bucket", std::string(redis_scripts::kRlTokenBucket)},
      {"rl_leaky_bucket", std::string(redis_scripts::kRlLeakyBucket)},
      {"rl_sliding_window", std::string(redis_scripts::kRlSlidingWindow)},
      {"rl_sliding_log", std::string(redis_scripts::kRlSlidingLog)},
  };
}

namespace redis_keys {

namespace {

constexpr size_t kMaxRawKey = 64;

// Characters that keep a key readable and cannot end the hash tag.
bool plainKey(std::string_view key) {
  if (key.size() > kMaxRawKey) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("-_.:@").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string rateLimitRoute(uint64_t rule_hash, std::string_view scope_key) {
  if (plainKey(scope_key)) return absl::StrFormat("%016x:=%s", rule_hash, av(scope_key));
  return absl::StrFormat("%016x:#%016x", rule_hash, fnv1a(scope_key));
}

std::string rateLimitKey(std::string_view route) { return absl::StrCat("sk:rl:{", av(route), "}"); }

}  // namespace redis_keys

RedisRateLimiter::RedisRateLimiter(RedisClient& client, RedisRateLimiterOptions options)
    : client_(client), options_(options) {}

void RedisRateLimiter::acquire(const ratelimit::CompiledRule& rule, std::string_view key,
                               absl::Time now, uint32_t hits,
                               Callback<absl::StatusOr<Decision>> done) {
  const ratelimit::RuleSpec& spec = rule.spec;
  std::string route = redis_keys::rateLimitRoute(rule.identity_hash, key);
  std::vector<std::string> keys{redis_keys::rateLimitKey(route)};
  std::vector<std::string> args;
  args.reserve(6);
  args.push_back(options_.redis_time ? std::string() : absl::StrCat(toRedisMicros(now)));
  args.push_back(absl::StrCat(hits));
  args.push_back(absl::StrCat(spec.rate));
  args.push_back(absl::StrCat(absl::ToInt64Microseconds(spec.per)));
  size_t script = 0;
  switch (spec.algorithm) {
    case Algorithm::kTokenBucket:
      script = kScriptRlTokenBucket;
      args.push_back(absl::StrCat(spec.burst));
      args.push_back(absl::StrCat(absl::ToInt64Microseconds(spec.warmup)));
      break;
    case Algorithm::kLeakyBucket:
      script = kScriptRlLeakyBucket;
      args.push_back(absl::StrCat(spec.queue));
      break;
    case Algorithm::kSlidingWindow:
      script = kScriptRlSlidingWindow;
      break;
    case Algorithm::kSlidingLog:
      script = kScriptRlSlidingLog;
      break;
  }
  client_.eval(route, options_.first_script + script, std::move(keys), std::move(args),
               [done = std::move(done)](absl::StatusOr<RedisReply> r) mutable {
                 if (!r.ok()) return std::move(done)(r.status());
                 const RedisReply& reply = *r;
                 if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 5) {
                   return std::move(done)(
                       absl::InternalError("rate limit script: malformed reply"));
                 }
                 int64_t f[5];
                 for (size_t i = 0; i < 5; ++i) {
                   std::optional<int64_t> v = asInt(reply.elements[i]);
                   if (!v) {
                     return std::move(done)(
                         absl::InternalError("rate limit script: malformed reply"));
                   }
                   f[i] = *v;
                 }
                 Decision d;
                 d.kind = f[0] == 0 ? Decision::kAllow : Decision::kReject;
                 d.wait = absl::Microseconds(f[1]);
                 d.limit = f[2];
                 d.remaining = f[3];
                 d.reset = absl::Microseconds(f[4]);
                 std::move(done)(d);
               });
}

}  // namespace seckill
