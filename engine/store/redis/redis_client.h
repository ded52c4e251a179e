#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/core/callback.h"
#include "engine/store/redis/redis_endpoint.h"

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
  // The servers to start from. When `seeds` is empty, host:port is the one
  // seed. Build seeds from configuration with parseRedisAddressList().
  std::string host = "127.0.0.1";
  int port = 6379;
  std::vector<RedisEndpoint> seeds;
  // Sent with AUTH on every connection, to every node (a cluster's nodes share
  // their users and passwords).
  RedisAuth auth;

  // kAuto asks the seeds (CLUSTER SLOTS) at start: a cluster node makes the
  // client a cluster client, a server without cluster support a standalone
  // one. When no seed answers, one seed means standalone (reconnecting as
  // ever) and several mean cluster (the slot map is fetched once one answers).
  enum class Mode : uint8_t { kAuto, kStandalone, kCluster };
  Mode mode = Mode::kAuto;

  int connections = 2;  // per server (per master in a cluster), each with its own thread
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(1);  // a reply later than this: Unavailable
  size_t max_queued = 65536;                          // per connection; beyond: Unavailable
  size_t max_batch = 1024;                            // commands written per flush
  absl::Duration reconnect_min = absl::Milliseconds(20);
  absl::Duration reconnect_max = absl::Milliseconds(500);
  std::vector<RedisScript> scripts;  // referred to by index in eval()

  // Cluster only: MOVED/ASK redirects followed per command before it fails
  // with Unavailable, and the least time between two slot map refreshes.
  int max_redirects = 5;
  absl::Duration refresh_interval = absl::Milliseconds(100);
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
// Redis Cluster (see docs/redis.md): the route IS the hash tag content of the
// command's keys (the sale id: every key of a sale is `sk:{<sale>}:...`); the
// command goes to the master of slot CRC16(route) & 16383, on one of its
// `connections` connections. The client keeps a slot map from CLUSTER SLOTS,
// follows -MOVED (updating the map, and refreshing it from one background
// thread at most every `refresh_interval`) and -ASK (ASKING + the command on
// the named node, map unchanged), at most `max_redirects` times per command.
// Scripts are loaded on every connection of every node. A transaction runs on
// the route's master; a redirect inside it fails it with Unavailable (the map
// is updated, so the caller's retry goes to the right node). Threads: K per
// master, created when the master first appears in the map or in a redirect,
// plus one refresher thread.
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

  // Connections currently up, over all servers.
  int connectedCount() const;

  // True iff the client runs in cluster mode (decided at construction).
  bool clusterMode() const { return cluster_; }

  // Cluster: the master that currently serves `route` in the client's slot
  // map ("host:port"), empty if none. Standalone: the server.
  std::string endpointFor(std::string_view route) const;

  // Commands written to Redis so far, over all connections (script reloads,
  // NOSCRIPT retries, redirected resends, ASKING and the CLUSTER SLOTS
  // probes included): what a round-trip count is measured by.
  uint64_t commandsSent() const { return sent_.load(std::memory_order_relaxed); }

 private:
  class Connection;
  struct Node;
  struct Pending;
  struct SlotMap;

  Connection* route(std::string_view key);
  void submit(std::string_view route, std::unique_ptr<Pending> p);

  // Cluster mode.
  Node* nodeFor(const RedisEndpoint& endpoint, bool wait_for_connect);
  void redirect(std::unique_ptr<Pending> p, std::string_view error, const RedisEndpoint& from);
  void noteMoved(std::string_view error, const RedisEndpoint& from);
  void requestRefresh();
  void refreshLoop();
  bool refreshNow();
  std::vector<RedisEndpoint> refreshCandidates();

  RedisClientOptions options_;
  std::atomic<uint64_t> sent_{0};
  bool cluster_ = false;  // fixed at construction

  // Nodes are created on demand and destroyed only with the client, so a
  // Node* (in the slot map, in a connection thread) stays valid.
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Node>> nodes_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  Node* standalone_ = nullptr;     // standalone mode: the only node
  std::unique_ptr<SlotMap> slots_;  // cluster mode: slot -> master, lock-free reads

  // The refresher thread (cluster mode): one CLUSTER SLOTS at a time.
  absl::Mutex refresh_mu_;
  bool refresh_requested_ ABSL_GUARDED_BY(refresh_mu_) = false;
  bool refresh_stopping_ ABSL_GUARDED_BY(refresh_mu_) = false;
  std::thread refresher_;
};

}  // namespace seckill
