#include "engine/store/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "engine/store/redis/redis_auth.h"
#include "engine/store/redis/redis_cluster.h"
#include "engine/store/redis/redis_reply_util.h"

namespace seckill {
namespace {

using redis_internal::copyReply;
using redis_internal::fromHiredis;

thread_local bool t_on_connection_thread = false;

timeval toTimeval(absl::Duration d) {
  int64_t us = absl::ToInt64Microseconds(d);
  return timeval{.tv_sec = static_cast<time_t>(us / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us % 1'000'000)};
}

bool isNoScript(const redisReply& r) {
  return r.type == REDIS_REPLY_ERROR && r.len >= 8 && std::string_view(r.str, 8) == "NOSCRIPT";
}

// A -MOVED / -ASK reply: the command did not run on this node.
bool isRedirect(const redisReply& r) {
  if (r.type != REDIS_REPLY_ERROR) return false;
  std::string_view msg(r.str, r.len);
  return msg.starts_with("MOVED ") || msg.starts_with("ASK ");
}

// What asking a server CLUSTER SLOTS found out.
struct Probe {
  bool reachable = false;
  bool cluster = false;  // cluster support enabled
  std::vector<redis_cluster::SlotRange> ranges;
};

// One CLUSTER SLOTS on a short-lived connection of its own.
Probe probe(const RedisEndpoint& e, const RedisAuth& auth, absl::Duration timeout,
            std::atomic<uint64_t>& sent) {
  Probe out;
  redisContext* c = redisConnectWithTimeout(e.host.c_str(), e.port, toTimeval(timeout));
  if (c == nullptr) return out;
  if (c->err != 0 || redisSetTimeout(c, toTimeval(timeout)) != REDIS_OK ||
      !redis_internal::authenticate(c, auth).ok()) {
    redisFree(c);
    return out;
  }
  sent.fetch_add(1, std::memory_order_relaxed);
  redisReply* r = redis_internal::blockingCommand(c, {"CLUSTER", "SLOTS"});
  if (r != nullptr) {
    out.reachable = true;
    if (r->type == REDIS_REPLY_ERROR) {
      // "ERR This instance has cluster support disabled"; anything else
      // (LOADING, ...) says nothing, so it counts as unreachable.
      std::string_view msg(r->str, r->len);
      out.reachable = msg.find("cluster support disabled") != std::string_view::npos;
    } else {
      out.cluster = true;
      absl::StatusOr<std::vector<redis_cluster::SlotRange>> ranges =
          redis_cluster::parseClusterSlots(copyReply(*r), e.host);
      if (ranges.ok()) out.ranges = *std::move(ranges);
    }
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

}  // namespace

// One queued command. For a script, argv[1] is filled with the SHA by the
// connection thread at send time.
struct RedisClient::Pending {
  int script = -1;
  std::vector<std::string> argv;
  Transaction txn;  // set for transact(): run alone, argv unused
  Callback<absl::StatusOr<RedisReply>> done;
  // Cluster mode: the route (to pick a connection on a redirect's target),
  // redirects followed so far, and whether ASKING must precede the command.
  std::string route;
  int redirects = 0;
  bool asking = false;
};

class RedisClient::Connection {
 public:
  // Starts the connection thread; it connects at once.
  Connection(RedisClient& client, RedisEndpoint endpoint)
      : client_(client), options_(client.options_), endpoint_(std::move(endpoint)) {
    thread_ = std::thread([this] { run(); });
  }

  ~Connection() { stop(); }

  // Waits (bounded by the connect timeout) for the first connection attempt,
  // so a client built against a live server is usable at once.
  void waitFirstAttempt() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::microseconds(absl::ToInt64Microseconds(
                           options_.connect_timeout + absl::Milliseconds(200))),
                 [this] { return first_attempt_done_; });
  }

  // Stops the thread; commands still queued, and any submitted later, fail
  // with Unavailable. Idempotent.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Queues `p`; gives it back (false) when the connection is down or full.
  // Before the first connection attempt has finished, commands wait for it.
  bool enqueue(std::unique_ptr<Pending>& p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || (first_attempt_done_ && !up_.load(std::memory_order_acquire)) ||
          queue_.size() >= options_.max_queued) {
        return false;
      }
      queue_.push_back(std::move(p));
    }
    cv_.notify_one();
    return true;
  }

  bool up() const { return up_.load(std::memory_order_acquire); }

  // Why enqueue() gave a command back, for its Unavailable status: the
  // connection's last failure (the server's refusal of AUTH, "Connection
  // refused", ...) or its full queue.
  std::string refusal() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return "redis: client shutting down";
    if (!up_.load(std::memory_order_acquire)) {
      return absl::StrCat("redis ", endpoint_.toString(),
                          " is down: ", down_why_.empty() ? "not connected" : down_why_);
    }
    return absl::StrCat("redis ", endpoint_.toString(), ": ", queue_.size(),
                        " commands queued, none more taken");
  }

 private:
  void run() {
    t_on_connection_thread = true;
    absl::Duration backoff = options_.reconnect_min;
    std::deque<std::unique_ptr<Pending>> batch;
    while (true) {
      if (ctx_ == nullptr) {
        bool ok = connect();
        {
          std::lock_guard<std::mutex> lock(mu_);
          first_attempt_done_ = true;
          if (!ok) batch.swap(queue_);
        }
        cv_.notify_all();
        if (!ok) {
          failAll(batch, refusal());
          // A node that went away: the cluster may have moved its slots.
          if (client_.cluster_) client_.requestRefresh();
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait_for(lock, std::chrono::microseconds(absl::ToInt64Microseconds(backoff)),
                       [this] { return stopping_; });
          if (stopping_) break;
          backoff = std::min(backoff * 2, options_.reconnect_max);
          continue;
        }
        backoff = options_.reconnect_min;
      }
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        size_t n = std::min(queue_.size(), options_.max_batch);
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      runBatch(batch);
      batch.clear();
    }
    disconnect();
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(queue_);
    }
    failAll(batch, "redis: client shutting down");
  }

  static void failAll(std::deque<std::unique_ptr<Pending>>& batch, std::string_view why) {
    for (auto& p : batch) std::move(p->done)(absl::UnavailableError(av(why)));
    batch.clear();
  }

  bool connect() {
    redisContext* c = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                              toTimeval(options_.connect_timeout));
    if (c == nullptr) return failedToConnect("out of memory");
    if (c->err != 0 || redisSetTimeout(c, toTimeval(options_.command_timeout)) != REDIS_OK) {
      std::string why = c->errstr;
      redisFree(c);
      return failedToConnect(why);
    }
    if (absl::Status s = redis_internal::authenticate(c, options_.auth); !s.ok()) {
      redisFree(c);
      return failedToConnect(std::string(s.message()));
    }
    ctx_ = c;
    shas_.assign(options_.scripts.size(), std::string());
    for (size_t i = 0; i < options_.scripts.size(); ++i) {
      if (absl::Status s = loadScript(i); !s.ok()) {
        disconnect();
        return failedToConnect(std::string(s.message()));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      down_why_.clear();
    }
    up_.store(true, std::memory_order_release);
    return true;
  }

  // Keeps `why` for refusal(); false.
  bool failedToConnect(std::string why) {
    std::lock_guard<std::mutex> lock(mu_);
    down_why_ = std::move(why);
    return false;
  }

  void disconnect() {
    up_.store(false, std::memory_order_release);
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }

  // The connection broke mid-use (`why`: hiredis's reason): drop it (the run
  // loop reconnects).
  void lost(std::string_view why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      down_why_ = absl::StrCat("connection lost (", av(why), ")");
    }
    disconnect();
    if (client_.cluster_) client_.requestRefresh();
  }

  // Queues `argv` in hiredis's output buffer (sent by the next write or blocking read).
  bool append(const std::vector<std::string>& argv) {
    return redis_internal::appendCommand(ctx_, argv, wire_);
  }

  // One blocking command on this connection (nothing else in flight); the
  // raw reply (owned by the caller), or null with the connection dropped.
  redisReply* roundTripRaw(const std::vector<std::string>& argv) {
    client_.sent_.fetch_add(1, std::memory_order_relaxed);
    void* raw = nullptr;
    if (!append(argv) || redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      lost_why_ = ctx_->errstr;
      lost(lost_why_);
    }
    return static_cast<redisReply*>(raw);
  }

  absl::StatusOr<RedisReply> roundTrip(const std::vector<std::string>& argv) {
    redisReply* r = roundTripRaw(argv);
    if (r == nullptr) {
      return absl::UnavailableError(absl::StrCat("redis: connection lost (", lost_why_, ")"));
    }
    absl::StatusOr<RedisReply> out = fromHiredis(*r);
    freeReplyObject(r);
    return out;
  }

  absl::Status loadScript(size_t i) {
    absl::StatusOr<RedisReply> r = roundTrip({"SCRIPT", "LOAD", options_.scripts[i].body});
    if (!r.ok()) {
      return absl::Status(r.status().code(), absl::StrCat("SCRIPT LOAD ", options_.scripts[i].name,
                                                          ": ", r.status().message()));
    }
    if (r->type != RedisReply::Type::kString) {
      return absl::InternalError(absl::StrCat("redis: SCRIPT LOAD ", options_.scripts[i].name));
    }
    shas_[i] = r->str;
    return absl::OkStatus();
  }

  // Pipelines runs of plain commands; a transaction runs alone between them.
  void runBatch(std::deque<std::unique_ptr<Pending>>& batch) {
    std::vector<std::unique_ptr<Pending>*> run;
    for (auto& p : batch) {
      if (!p->txn) {
        run.push_back(&p);
        continue;
      }
      runPipeline(run);
      run.clear();
      runTransaction(*p);
    }
    runPipeline(run);
  }

  class SessionImpl final : public Session {
   public:
    explicit SessionImpl(Connection& c) : c_(c) {}
    absl::StatusOr<std::vector<RedisReply>> pipeline(
        const std::vector<std::vector<std::string>>& commands) override {
      if (c_.ctx_ == nullptr) return absl::UnavailableError("redis: not connected");
      std::string broken;
      for (const auto& argv : commands) {
        if (!c_.append(argv)) {
          broken = c_.ctx_->errstr;
          break;
        }
      }
      c_.client_.sent_.fetch_add(commands.size(), std::memory_order_relaxed);
      int done = 0;
      while (broken.empty() && done == 0) {
        if (redisBufferWrite(c_.ctx_, &done) != REDIS_OK) broken = c_.ctx_->errstr;
      }
      std::vector<RedisReply> out;
      absl::Status first_error;
      for (size_t i = 0; broken.empty() && i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(c_.ctx_, &raw) != REDIS_OK || raw == nullptr) {
          broken = c_.ctx_->err != 0 ? c_.ctx_->errstr : "no reply";
          break;
        }
        auto* r = static_cast<redisReply*>(raw);
        absl::StatusOr<RedisReply> one = fromHiredis(*r);
        if (c_.client_.cluster_ && isRedirect(*r)) {
          // The slot is elsewhere: a transaction cannot follow it midway.
          std::string_view msg(r->str, r->len);
          c_.client_.noteMoved(msg, c_.endpoint_);
          one = absl::UnavailableError(
              absl::StrCat("redis: slot moved during a transaction (", av(msg), ")"));
        }
        freeReplyObject(r);
        if (!one.ok()) {
          if (first_error.ok()) first_error = one.status();
          out.emplace_back();
        } else {
          out.push_back(*std::move(one));
        }
      }
      if (!broken.empty()) {
        c_.lost(broken);
        return absl::UnavailableError(absl::StrCat("redis: connection lost (", broken, ")"));
      }
      if (!first_error.ok()) return first_error;
      return out;
    }

   private:
    Connection& c_;
  };

  void runTransaction(Pending& p) {
    if (ctx_ == nullptr) {
      std::move(p.done)(absl::UnavailableError("redis: connection lost"));
      return;
    }
    SessionImpl session(*this);
    absl::StatusOr<RedisReply> result = std::move(p.txn)(session);
    std::move(p.done)(std::move(result));
  }

  // What became of one command of a pipeline.
  enum class Fate : uint8_t { kAnswered, kNoScript, kRedirected };

  // Settles `slot`'s command from its reply: a result, a NOSCRIPT to retry,
  // or (cluster) handed on to another node by a MOVED/ASK.
  Fate settle(std::unique_ptr<Pending>& slot, const redisReply& r,
              absl::StatusOr<RedisReply>& result) {
    if (slot->script >= 0 && isNoScript(r)) return Fate::kNoScript;
    if (client_.cluster_ && isRedirect(r)) {
      client_.redirect(std::move(slot), std::string_view(r.str, r.len), endpoint_);
      return Fate::kRedirected;
    }
    result = fromHiredis(r);
    return Fate::kAnswered;
  }

  void runPipeline(const std::vector<std::unique_ptr<Pending>*>& batch) {
    const size_t n = batch.size();
    if (n == 0) return;
    if (ctx_ == nullptr) {
      for (auto* p : batch) std::move((*p)->done)(absl::UnavailableError("redis: connection lost"));
      return;
    }
    std::vector<absl::StatusOr<RedisReply>> results(n, absl::UnavailableError("redis: not sent"));
    std::vector<Fate> fates(n, Fate::kAnswered);
    size_t sent = 0;
    uint64_t written = 0;
    std::string broken;
    static const std::vector<std::string> kAsking = {"ASKING"};
    for (; sent < n; ++sent) {
      Pending& p = **batch[sent];
      if (p.script >= 0) p.argv[1] = shas_[p.script];
      if (p.asking) {
        if (!append(kAsking)) {
          broken = ctx_->errstr;
          break;
        }
        ++written;
      }
      if (!append(p.argv)) {
        broken = ctx_->errstr;
        break;
      }
      ++written;
    }
    client_.sent_.fetch_add(written, std::memory_order_relaxed);
    int done = 0;
    while (broken.empty() && done == 0) {
      if (redisBufferWrite(ctx_, &done) != REDIS_OK) broken = ctx_->errstr;
    }
    size_t read = 0;
    for (; broken.empty() && read < sent; ++read) {
      void* raw = nullptr;
      if ((*batch[read])->asking) {  // ASKING's +OK (an error shows in the next reply)
        if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
          broken = ctx_->err != 0 ? ctx_->errstr : "no reply";
          break;
        }
        freeReplyObject(raw);
        raw = nullptr;
      }
      if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
        broken = ctx_->err != 0 ? ctx_->errstr : "no reply";
        break;
      }
      auto* r = static_cast<redisReply*>(raw);
      fates[read] = settle(*batch[read], *r, results[read]);
      freeReplyObject(r);
    }
    if (!broken.empty()) {
      // Whatever was not answered may or may not have run: the caller sees
      // Unavailable and must treat the outcome as unknown.
      for (size_t i = read; i < n; ++i) {
        results[i] = absl::UnavailableError(absl::StrCat("redis: connection lost (", broken, ")"));
      }
      for (size_t i = 0; i < read; ++i) {
        if (fates[i] == Fate::kNoScript) {
          fates[i] = Fate::kAnswered;
          results[i] = absl::UnavailableError("redis: connection lost");
        }
      }
      lost(broken);
    } else {
      // The server lost its scripts (restart, SCRIPT FLUSH): reload, retry once.
      for (size_t i = 0; i < n; ++i) {
        if (fates[i] != Fate::kNoScript) continue;
        fates[i] = Fate::kAnswered;
        Pending& p = **batch[i];
        if (ctx_ == nullptr) {
          results[i] = absl::UnavailableError("redis: connection lost");
          continue;
        }
        absl::Status loaded = loadScript(static_cast<size_t>(p.script));
        if (!loaded.ok()) {
          results[i] = loaded;
          continue;
        }
        p.argv[1] = shas_[p.script];
        if (p.asking) {
          redisReply* ok = roundTripRaw(kAsking);
          if (ok == nullptr) {
            results[i] = absl::UnavailableError("redis: connection lost");
            continue;
          }
          freeReplyObject(ok);
        }
        redisReply* r = roundTripRaw(p.argv);
        if (r == nullptr) {
          results[i] = absl::UnavailableError("redis: connection lost");
          continue;
        }
        if (isNoScript(*r)) {
          results[i] = fromHiredis(*r);
        } else {
          fates[i] = settle(*batch[i], *r, results[i]);
        }
        freeReplyObject(r);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (fates[i] != Fate::kRedirected) std::move((*batch[i])->done)(std::move(results[i]));
    }
  }

  RedisClient& client_;
  const RedisClientOptions& options_;
  const RedisEndpoint endpoint_;
  std::atomic<bool> up_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  bool first_attempt_done_ = false;              // guarded by mu_

  // Owned by the connection thread.
  redisContext* ctx_ = nullptr;
  std::string wire_;  // append()'s scratch: one command's bytes, its capacity kept
  std::vector<std::string> shas_;
  std::string lost_why_;
  std::string down_why_;  // guarded by mu_: the last failed connect's reason

  std::thread thread_;  // last: started after every other member exists
};

// One server (one master in a cluster) and its connections.
struct RedisClient::Node {
  RedisEndpoint endpoint;
  std::vector<std::unique_ptr<Connection>> connections;

  Connection* pick(std::string_view route) {
    return connections[std::hash<std::string_view>()(route) % connections.size()].get();
  }
};

// Slot -> master. Read lock-free on every command; written by the refresher
// and on MOVED. A momentarily stale entry only costs a redirect.
struct RedisClient::SlotMap {
  std::array<std::atomic<Node*>, redis_cluster::kSlots> slots{};
};

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {
  options_.connections = std::max(1, options_.connections);
  if (options_.seeds.empty()) options_.seeds.push_back({options_.host, options_.port});
  using Mode = RedisClientOptions::Mode;

  // Which kind of deployment is this? The first seed that answers decides.
  RedisEndpoint standalone = options_.seeds.front();
  Probe found;
  if (options_.mode != Mode::kStandalone) {
    for (const RedisEndpoint& seed : options_.seeds) {
      Probe p = probe(seed, options_.auth, options_.connect_timeout, sent_);
      if (!p.reachable) continue;
      standalone = seed;
      found = std::move(p);
      break;
    }
  }
  switch (options_.mode) {
    case Mode::kStandalone: cluster_ = false; break;
    case Mode::kCluster: cluster_ = true; break;
    case Mode::kAuto:
      cluster_ = found.reachable ? found.cluster : options_.seeds.size() > 1;
      break;
  }

  if (!cluster_) {
    standalone_ = nodeFor(standalone, /*wait_for_connect=*/true);
    return;
  }
  slots_ = std::make_unique<SlotMap>();
  for (const redis_cluster::SlotRange& r : found.ranges) {
    Node* node = nodeFor(r.master, /*wait_for_connect=*/true);
    for (int s = r.first; s <= r.last; ++s) slots_->slots[s].store(node, std::memory_order_release);
  }
  refresher_ = std::thread([this] { refreshLoop(); });
  if (found.ranges.empty()) requestRefresh();
}

RedisClient::~RedisClient() { shutdown(); }

void RedisClient::shutdown() {
  {
    absl::MutexLock lock(&refresh_mu_);
    refresh_stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
  // Connections are stopped, never destroyed, before the client goes: a
  // callback running during shutdown may still submit to another connection.
  std::vector<Node*> nodes;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& n : nodes_) nodes.push_back(n.get());
  }
  for (Node* n : nodes) {
    for (auto& c : n->connections) c->stop();
  }
}

bool RedisClient::onConnectionThread() { return t_on_connection_thread; }

int RedisClient::connectedCount() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& node : nodes_) {
    for (const auto& c : node->connections) n += c->up() ? 1 : 0;
  }
  return n;
}

std::string RedisClient::endpointFor(std::string_view route) const {
  if (!cluster_) return standalone_->endpoint.toString();
  Node* n = slots_->slots[redis_cluster::routeSlot(route)].load(std::memory_order_acquire);
  return n == nullptr ? std::string() : n->endpoint.toString();
}

RedisClient::Node* RedisClient::nodeFor(const RedisEndpoint& endpoint, bool wait_for_connect) {
  {
    absl::MutexLock lock(&mu_);
    for (auto& n : nodes_) {
      if (n->endpoint == endpoint) return n.get();
    }
    if (shut_down_) return nullptr;
  }
  // Started outside the lock: connection threads look nodes up meanwhile.
  auto node = std::make_unique<Node>();
  node->endpoint = endpoint;
  for (int i = 0; i < options_.connections; ++i) {
    node->connections.push_back(std::make_unique<Connection>(*this, endpoint));
  }
  Node* out = nullptr;
  {
    absl::MutexLock lock(&mu_);
    for (auto& n : nodes_) {
      if (n->endpoint == endpoint) out = n.get();  // another thread was first
    }
    if (out == nullptr && !shut_down_) {
      out = node.get();
      nodes_.push_back(std::move(node));
    }
  }
  if (node != nullptr) {  // not kept
    for (auto& c : node->connections) c->stop();
    return out;
  }
  if (wait_for_connect) {
    for (auto& c : out->connections) c->waitFirstAttempt();
  }
  return out;
}

RedisClient::Connection* RedisClient::route(std::string_view key) {
  if (!cluster_) return standalone_->pick(key);
  Node* n = slots_->slots[redis_cluster::routeSlot(key)].load(std::memory_order_acquire);
  if (n == nullptr) {
    requestRefresh();
    return nullptr;
  }
  return n->pick(key);
}

void RedisClient::submit(std::string_view route_key, std::unique_ptr<Pending> p) {
  if (cluster_) p->route = std::string(route_key);
  Connection* c = route(route_key);
  if (c == nullptr) {
    std::move(p->done)(absl::UnavailableError("redis: no cluster node serves this slot"));
    return;
  }
  if (!c->enqueue(p)) std::move(p->done)(absl::UnavailableError(c->refusal()));
}

void RedisClient::redirect(std::unique_ptr<Pending> p, std::string_view error,
                           const RedisEndpoint& from) {
  std::optional<redis_cluster::Redirect> r = redis_cluster::parseRedirect(error);
  if (!r.has_value()) {
    std::move(p->done)(absl::InternalError(absl::StrCat("redis: bad redirect: ", av(error))));
    return;
  }
  if (++p->redirects > options_.max_redirects) {
    std::move(p->done)(
        absl::UnavailableError(absl::StrCat("redis: too many redirects (", av(error), ")")));
    return;
  }
  if (r->target.host.empty()) r->target.host = from.host;
  Node* node = nodeFor(r->target, /*wait_for_connect=*/false);
  if (node == nullptr) {
    std::move(p->done)(absl::UnavailableError("redis: client shutting down"));
    return;
  }
  if (!r->ask) {
    slots_->slots[r->slot].store(node, std::memory_order_release);
    requestRefresh();  // a MOVED rarely comes alone: learn the whole new map
  }
  p->asking = r->ask;
  Connection* c = node->pick(p->route);
  if (!c->enqueue(p)) std::move(p->done)(absl::UnavailableError(c->refusal()));
}

void RedisClient::noteMoved(std::string_view error, const RedisEndpoint& from) {
  std::optional<redis_cluster::Redirect> r = redis_cluster::parseRedirect(error);
  if (!r.has_value() || r->ask) return;
  if (r->target.host.empty()) r->target.host = from.host;
  if (Node* node = nodeFor(r->target, /*wait_for_connect=*/false)) {
    slots_->slots[r->slot].store(node, std::memory_order_release);
  }
  requestRefresh();
}

void RedisClient::requestRefresh() {
  absl::MutexLock lock(&refresh_mu_);
  refresh_requested_ = true;
}

std::vector<RedisEndpoint> RedisClient::refreshCandidates() {
  std::vector<RedisEndpoint> out;
  {
    absl::MutexLock lock(&mu_);
    for (auto& n : nodes_) out.push_back(n->endpoint);
  }
  for (const RedisEndpoint& seed : options_.seeds) {
    if (std::find(out.begin(), out.end(), seed) == out.end()) out.push_back(seed);
  }
  return out;
}

bool RedisClient::refreshNow() {
  for (const RedisEndpoint& e : refreshCandidates()) {
    Probe p = probe(e, options_.auth, options_.connect_timeout, sent_);
    if (!p.cluster || p.ranges.empty()) continue;
    std::vector<Node*> next(redis_cluster::kSlots, nullptr);
    for (const redis_cluster::SlotRange& r : p.ranges) {
      Node* node = nodeFor(r.master, /*wait_for_connect=*/false);
      if (node == nullptr) return false;  // shutting down
      std::fill(next.begin() + r.first, next.begin() + r.last + 1, node);
    }
    bool complete = true;
    for (int s = 0; s < redis_cluster::kSlots; ++s) {
      slots_->slots[s].store(next[s], std::memory_order_release);
      complete = complete && next[s] != nullptr;
    }
    return complete;
  }
  return false;
}

void RedisClient::refreshLoop() {
  absl::Time last = absl::InfinitePast();
  bool complete = true;
  while (true) {
    {
      absl::MutexLock lock(&refresh_mu_);
      auto wanted = [this] { return refresh_requested_ || refresh_stopping_; };
      // An incomplete map (cluster still forming, no node reachable) is
      // retried without waiting for a request.
      if (complete) {
        refresh_mu_.Await(absl::Condition(&wanted));
      } else {
        refresh_mu_.AwaitWithTimeout(absl::Condition(&wanted), options_.reconnect_max);
      }
      if (refresh_stopping_) return;
      // At most one refresh per interval: requests made meanwhile coalesce.
      absl::Duration wait = last + options_.refresh_interval - absl::Now();
      if (wait > absl::ZeroDuration()) {
        auto stopping = [this] { return refresh_stopping_; };
        refresh_mu_.AwaitWithTimeout(absl::Condition(&stopping), wait);
        if (refresh_stopping_) return;
      }
      refresh_requested_ = false;
    }
    complete = refreshNow();
    last = absl::Now();
  }
}

void RedisClient::command(std::string_view route_key, std::vector<std::string> argv,
                          Callback<absl::StatusOr<RedisReply>> done) {
  auto p = std::make_unique<Pending>();
  p->argv = std::move(argv);
  p->done = std::move(done);
  submit(route_key, std::move(p));
}

void RedisClient::transact(std::string_view route_key, Transaction txn,
                           Callback<absl::StatusOr<RedisReply>> done) {
  auto p = std::make_unique<Pending>();
  p->txn = std::move(txn);
  p->done = std::move(done);
  submit(route_key, std::move(p));
}

void RedisClient::eval(std::string_view route_key, size_t script, std::vector<std::string> keys,
                       std::vector<std::string> args, Callback<absl::StatusOr<RedisReply>> done) {
  if (script >= options_.scripts.size()) {
    std::move(done)(absl::InvalidArgumentError("redis: unknown script"));
    return;
  }
  auto p = std::make_unique<Pending>();
  p->script = static_cast<int>(script);
  p->argv.reserve(3 + keys.size() + args.size());
  p->argv.push_back("EVALSHA");
  p->argv.push_back(std::string());  // the SHA, filled in on the connection thread
  p->argv.push_back(std::to_string(keys.size()));
  for (std::string& k : keys) p->argv.push_back(std::move(k));
  for (std::string& a : args) p->argv.push_back(std::move(a));
  p->done = std::move(done);
  submit(route_key, std::move(p));
}

namespace {

template <typename Start>
absl::StatusOr<RedisReply> waitFor(Start start) {
  if (RedisClient::onConnectionThread()) {
    return absl::FailedPreconditionError("redis: blocking call on a connection thread");
  }
  std::promise<absl::StatusOr<RedisReply>> promise;
  auto future = promise.get_future();
  start([&promise](absl::StatusOr<RedisReply> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace

absl::StatusOr<RedisReply> RedisClient::commandSync(std::string_view route_key,
                                                    std::vector<std::string> argv) {
  return waitFor([&](Callback<absl::StatusOr<RedisReply>> done) {
    command(route_key, std::move(argv), std::move(done));
  });
}

absl::StatusOr<RedisReply> RedisClient::evalSync(std::string_view route_key, size_t script,
                                                 std::vector<std::string> keys,
                                                 std::vector<std::string> args) {
  return waitFor([&](Callback<absl::StatusOr<RedisReply>> done) {
    eval(route_key, script, std::move(keys), std::move(args), std::move(done));
  });
}

}  // namespace seckill
