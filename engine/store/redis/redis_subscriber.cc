#include "engine/store/redis/redis_subscriber.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <algorithm>

#include "engine/store/redis/redis_auth.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {
namespace {

timeval toTimeval(absl::Duration d) {
  int64_t us = absl::ToInt64Microseconds(d);
  return timeval{.tv_sec = static_cast<time_t>(us / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us % 1'000'000)};
}

// ["<kind>", channel, payload-or-count] with a string kind.
bool isPush(const redisReply& r, std::string_view kind) {
  return r.type == REDIS_REPLY_ARRAY && r.elements == 3 &&
         r.element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(r.element[0]->str, r.element[0]->len) == kind &&
         r.element[1]->type == REDIS_REPLY_STRING;
}

}  // namespace

RedisSubscriber::RedisSubscriber(RedisSubscriberOptions options, Handler on_message)
    : options_(std::move(options)), on_message_(std::move(on_message)) {
  thread_ = std::thread([this] { run(); });
}

RedisSubscriber::~RedisSubscriber() { stop(); }

void RedisSubscriber::stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // Wakes the thread from its blocking read; it sees stopping_ and leaves.
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

void RedisSubscriber::run() {
  absl::Duration backoff = options_.reconnect_min;
  for (size_t attempt = 0;; ++attempt) {
    if (!options_.seeds.empty() && !options_.channels.empty()) {
      if (session(options_.seeds[attempt % options_.seeds.size()])) {
        backoff = options_.reconnect_min;
      }
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.reconnect_max);
  }
}

bool RedisSubscriber::session(const RedisEndpoint& endpoint) {
  redisContext* c = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                            toTimeval(options_.connect_timeout));
  if (c == nullptr) return false;
  // AUTH under the connect timeout (a refusal is the client's to report: its
  // connections fail alike); then blocking reads without a timeout (a
  // subscriber waits for as long as it takes), and keepalive to detect a peer
  // that vanished without a FIN.
  if (c->err != 0 || redisSetTimeout(c, toTimeval(options_.connect_timeout)) != REDIS_OK ||
      !redis_internal::authenticate(c, options_.auth).ok() ||
      redisSetTimeout(c, timeval{0, 0}) != REDIS_OK || redisEnableKeepAlive(c) != REDIS_OK) {
    redisFree(c);
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      redisFree(c);
      return false;
    }
    fd_ = c->fd;
  }
  std::vector<std::string> argv = {"SUBSCRIBE"};
  argv.insert(argv.end(), options_.channels.begin(), options_.channels.end());
  std::string wire;
  bool had_subscribed = false;
  size_t confirmed = 0;
  if (redis_internal::appendCommand(c, argv, wire)) {
    while (true) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) break;  // broken or stopped
      auto* r = static_cast<redisReply*>(raw);
      if (isPush(*r, "message") && r->element[2]->type == REDIS_REPLY_STRING) {
        on_message_(std::string_view(r->element[1]->str, r->element[1]->len),
                    std::string_view(r->element[2]->str, r->element[2]->len));
      } else if (isPush(*r, "subscribe")) {
        if (++confirmed == options_.channels.size()) {
          had_subscribed = true;
          subscriptions_.fetch_add(1, std::memory_order_acq_rel);
          subscribed_.store(true, std::memory_order_release);
        }
      } else if (r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        break;
      }
      freeReplyObject(r);
    }
  }
  subscribed_.store(false, std::memory_order_release);
  {
    absl::MutexLock lock(&mu_);
    fd_ = -1;
  }
  redisFree(c);
  return had_subscribed;
}

}  // namespace seckill
