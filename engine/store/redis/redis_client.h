#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"

namespace seckill {

// An owned copy of one hiredis reply. Error replies never reach callers as a
// RedisReply: they become an absl::Status (see RedisClient::command).
struct RedisReply {
  enum class Type : uint8_t { kNil, kStatus, kInteger, kString, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;                  // kString and kStatus
  std::vector<RedisReply> elements;  // kArray

  bool isNil() const { return type == Type::kNil; }
};

// A Lua script the client keeps loaded: SCRIPT LOAD on every (re)connect, run
// with EVALSHA, reloaded and retried once on NOSCRIPT.
struct RedisScript {
  std::string name;  // for messages
  std::string body;
};

struct RedisClientOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int connections = 2;  // each served by its own thread
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(1);  // a reply later than this: Unavailable
  size_t max_queued = 65536;                          // per connection; beyond: Unavailable
  size_t max_batch = 1024;                            // commands written per flush
  absl::Duration reconnect_min = absl::Milliseconds(20);
  absl::Duration reconnect_max = absl::Milliseconds(500);
  std::vector<RedisScript> scripts;  // referred to by index in eval()
};

// An auto-pipelining Redis client. It owns `connections` hiredis (synchronous)
// contexts, each served by one dedicated thread that drains a queue of pending
// commands in batches: append every queued command, flush once, then read each
// reply and complete its callback. Thousands of in-flight commands thus share
// a few connections and nobody but the connection threads ever blocks on I/O.
//
// Commands are routed to a connection by hash of their `route` key, so the
// commands of one route (one sale) are executed in submission order.
//
// Failure: a timeout or a broken connection fails every in-flight command of
// that connection with Unavailable; the thread reconnects with backoff
// (reloading the scripts). While a connection is down, or its queue is full,
// commands fail immediately with Unavailable. Error replies become Internal
// (Unavailable for LOADING/BUSY/MASTERDOWN/TRYAGAIN/CLUSTERDOWN).
//
// Thread-safety: every method is thread-safe. Callbacks run on a connection
// thread; they may submit further commands but must not block waiting for one
// (the sync helpers refuse to run on a connection thread).
class RedisClient {
 public:
  explicit RedisClient(RedisClientOptions options);
  // Calls shutdown().
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Stops the connection threads: commands still queued, and any sent later,
  // fail with Unavailable. Call it before destroying what the callbacks use;
  // from one owner thread, never from a callback. Idempotent.
  void shutdown();

  // Sends one command (argv[0] is the command name).
  void command(std::string_view route, std::vector<std::string> argv,
               Callback<absl::StatusOr<RedisReply>> done);

  // Runs options.scripts[script] with EVALSHA over `keys` and `args`.
  void eval(std::string_view route, size_t script, std::vector<std::string> keys,
            std::vector<std::string> args, Callback<absl::StatusOr<RedisReply>> done);

  // A connection lent to a transaction (WATCH/MULTI/EXEC): nothing else is
  // sent on it while the transaction runs.
  class Session {
   public:
    virtual ~Session() = default;
    // Writes `commands` in one flush and reads every reply (one round trip).
    // An error reply fails the call (Internal) once all replies were read; a
    // broken connection fails it with Unavailable.
    virtual absl::StatusOr<std::vector<RedisReply>> pipeline(
        const std::vector<std::vector<std::string>>& commands) = 0;
  };
  using Transaction = absl::AnyInvocable<absl::StatusOr<RedisReply>(Session&) &&>;

  // Runs `txn` on the route's connection thread with that connection to
  // itself, and completes `done` with its result. The connection serves
  // nothing else meanwhile, so keep transactions to a few round trips.
  void transact(std::string_view route, Transaction txn,
                Callback<absl::StatusOr<RedisReply>> done);

  // Blocking forms, for setup and for callers on their own threads. They fail
  // with FailedPrecondition when called on a connection thread (deadlock).
  absl::StatusOr<RedisReply> commandSync(std::string_view route, std::vector<std::string> argv);
  absl::StatusOr<RedisReply> evalSync(std::string_view route, size_t script,
                                      std::vector<std::string> keys,
                                      std::vector<std::string> args);

  // True iff the calling thread is one of this process's Redis connection threads.
  static bool onConnectionThread();

  // Connections currently up.
  int connectedCount() const;

  // Commands written to Redis so far, over all connections (script reloads
  // and NOSCRIPT retries included): what a round-trip count is measured by.
  uint64_t commandsSent() const { return sent_.load(std::memory_order_relaxed); }

 private:
  class Connection;
  struct Pending;

  Connection& route(std::string_view key);
  void submit(std::string_view route, std::unique_ptr<Pending> p);

  RedisClientOptions options_;
  std::atomic<uint64_t> sent_{0};
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace seckill
