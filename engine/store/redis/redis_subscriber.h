#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/store/redis/redis_endpoint.h"

namespace seckill {

struct RedisSubscriberOptions {
  // Tried in turn, one at a time: any one node will do, since a cluster
  // broadcasts every PUBLISH to all its nodes.
  std::vector<RedisEndpoint> seeds;
  RedisAuth auth;  // sent with AUTH on every connection
  std::vector<std::string> channels;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration reconnect_min = absl::Milliseconds(20);
  absl::Duration reconnect_max = absl::Milliseconds(500);
};

// A pub/sub listener: one dedicated hiredis connection and thread that
// SUBSCRIBEs to `channels` and calls `on_message(channel, payload)` for every
// message, on that thread, in arrival order. A broken connection is replaced
// (next seed, backoff 20 ms doubling to 500 ms) and the channels subscribed
// again; messages published while it is down are lost (pub/sub keeps nothing),
// so use it for hints that a reader can also learn another way (a sold-out
// flag the next script call would report anyway).
//
// Publishing needs no subscriber: client.command(route, {"PUBLISH", channel,
// payload}) on a RedisClient (any route; in a cluster every node relays it).
//
// Thread-safety: the methods are thread-safe; `on_message` must not call
// stop() (it runs on the thread stop() joins).
class RedisSubscriber {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view payload)>;

  // Starts the thread; it connects and subscribes at once.
  RedisSubscriber(RedisSubscriberOptions options, Handler on_message);
  // Calls stop().
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // Closes the connection and joins the thread; no callback runs after it
  // returns. Idempotent.
  void stop();

  // True while subscribed to every channel.
  bool subscribed() const { return subscribed_.load(std::memory_order_acquire); }
  // Times the channels were (re)subscribed: 1 after the first connect.
  uint64_t subscriptions() const { return subscriptions_.load(std::memory_order_acquire); }

 private:
  void run();
  // One connection's life: connect, subscribe, deliver until it breaks.
  // Returns true if it had subscribed (the backoff starts over).
  bool session(const RedisEndpoint& endpoint);

  const RedisSubscriberOptions options_;
  const Handler on_message_;
  std::atomic<bool> subscribed_{false};
  std::atomic<uint64_t> subscriptions_{0};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;  // the live socket, shut down by stop()

  std::thread thread_;  // last: started after every other member exists
};

}  // namespace seckill
