#include "engine/store/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
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

namespace seckill {
namespace {

thread_local bool t_on_connection_thread = false;

timeval toTimeval(absl::Duration d) {
  int64_t us = absl::ToInt64Microseconds(d);
  return timeval{.tv_sec = static_cast<time_t>(us / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us % 1'000'000)};
}

RedisReply copyReply(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        if (r.element[i] != nullptr) out.elements.push_back(copyReply(*r.element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

// An error reply as a Status: transient server states are Unavailable.
absl::Status errorStatus(std::string_view msg) {
  for (std::string_view transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (absl::StartsWith(av(msg), av(transient))) {
      return absl::UnavailableError(absl::StrCat("redis: ", av(msg)));
    }
  }
  return absl::InternalError(absl::StrCat("redis: ", av(msg)));
}

absl::StatusOr<RedisReply> fromHiredis(const redisReply& r) {
  if (r.type == REDIS_REPLY_ERROR) return errorStatus(std::string_view(r.str, r.len));
  return copyReply(r);
}

bool isNoScript(const redisReply& r) {
  return r.type == REDIS_REPLY_ERROR && r.len >= 8 && std::string_view(r.str, 8) == "NOSCRIPT";
}

}  // namespace

// One queued command. For a script, argv[1] is filled with the SHA by the
// connection thread at send time.
struct RedisClient::Pending {
  int script = -1;
  std::vector<std::string> argv;
  Transaction txn;  // set for transact(): run alone, argv unused
  Callback<absl::StatusOr<RedisReply>> done;
};

class RedisClient::Connection {
 public:
  Connection(const RedisClientOptions& options, std::atomic<uint64_t>& sent)
      : options_(options), sent_(sent) {
    thread_ = std::thread([this] { run(); });
    // Wait (bounded by the connect timeout) for the first attempt, so a client
    // built against a live server is usable at once.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::microseconds(absl::ToInt64Microseconds(
                           options_.connect_timeout + absl::Milliseconds(200))),
                 [this] { return first_attempt_done_; });
  }

  ~Connection() { stop(); }

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
  bool enqueue(std::unique_ptr<Pending>& p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || !up_.load(std::memory_order_acquire) ||
          queue_.size() >= options_.max_queued) {
        return false;
      }
      queue_.push_back(std::move(p));
    }
    cv_.notify_one();
    return true;
  }

  bool up() const { return up_.load(std::memory_order_acquire); }

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
          failAll(batch, "redis: not connected");
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
    redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                              toTimeval(options_.connect_timeout));
    if (c == nullptr) return false;
    if (c->err != 0 || redisSetTimeout(c, toTimeval(options_.command_timeout)) != REDIS_OK) {
      redisFree(c);
      return false;
    }
    ctx_ = c;
    shas_.assign(options_.scripts.size(), std::string());
    for (size_t i = 0; i < options_.scripts.size(); ++i) {
      if (!loadScript(i).ok()) {
        disconnect();
        return false;
      }
    }
    up_.store(true, std::memory_order_release);
    return true;
  }

  void disconnect() {
    up_.store(false, std::memory_order_release);
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }

  // One blocking command on this connection (nothing else in flight).
  absl::StatusOr<RedisReply> roundTrip(const std::vector<std::string>& argv) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    sent_.fetch_add(1, std::memory_order_relaxed);
    void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    if (raw == nullptr) {
      std::string why = absl::StrCat("redis: connection lost (", ctx_->errstr, ")");
      disconnect();
      return absl::UnavailableError(why);
    }
    auto* r = static_cast<redisReply*>(raw);
    absl::StatusOr<RedisReply> out = fromHiredis(*r);
    freeReplyObject(r);
    return out;
  }

  absl::Status loadScript(size_t i) {
    absl::StatusOr<RedisReply> r = roundTrip({"SCRIPT", "LOAD", options_.scripts[i].body});
    if (!r.ok()) return r.status();
    if (r->type != RedisReply::Type::kString) {
      return absl::InternalError(absl::StrCat("redis: SCRIPT LOAD ", options_.scripts[i].name));
    }
    shas_[i] = r->str;
    return absl::OkStatus();
  }

  // Pipelines runs of plain commands; a transaction runs alone between them.
  void runBatch(std::deque<std::unique_ptr<Pending>>& batch) {
    std::vector<Pending*> run;
    for (auto& p : batch) {
      if (!p->txn) {
        run.push_back(p.get());
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
      std::vector<const char*> ptrs;
      std::vector<size_t> lens;
      std::string broken;
      for (const auto& argv : commands) {
        ptrs.clear();
        lens.clear();
        for (const std::string& a : argv) {
          ptrs.push_back(a.data());
          lens.push_back(a.size());
        }
        if (redisAppendCommandArgv(c_.ctx_, static_cast<int>(ptrs.size()), ptrs.data(),
                                   lens.data()) != REDIS_OK) {
          broken = c_.ctx_->errstr;
          break;
        }
      }
      c_.sent_.fetch_add(commands.size(), std::memory_order_relaxed);
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
        freeReplyObject(r);
        if (!one.ok()) {
          if (first_error.ok()) first_error = one.status();
          out.emplace_back();
        } else {
          out.push_back(*std::move(one));
        }
      }
      if (!broken.empty()) {
        c_.disconnect();
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

  void runPipeline(const std::vector<Pending*>& batch) {
    const size_t n = batch.size();
    if (n == 0) return;
    if (ctx_ == nullptr) {
      for (Pending* p : batch) std::move(p->done)(absl::UnavailableError("redis: connection lost"));
      return;
    }
    std::vector<absl::StatusOr<RedisReply>> results(n, absl::UnavailableError("redis: not sent"));
    std::vector<size_t> noscript;
    size_t sent = 0;
    std::string broken;
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (; sent < n; ++sent) {
      Pending& p = *batch[sent];
      if (p.script >= 0) p.argv[1] = shas_[p.script];
      ptrs.clear();
      lens.clear();
      for (const std::string& a : p.argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(ctx_, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()) !=
          REDIS_OK) {
        broken = ctx_->errstr;
        break;
      }
    }
    sent_.fetch_add(sent, std::memory_order_relaxed);
    int done = 0;
    while (broken.empty() && done == 0) {
      if (redisBufferWrite(ctx_, &done) != REDIS_OK) broken = ctx_->errstr;
    }
    size_t read = 0;
    for (; broken.empty() && read < sent; ++read) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
        broken = ctx_->err != 0 ? ctx_->errstr : "no reply";
        break;
      }
      auto* r = static_cast<redisReply*>(raw);
      if (batch[read]->script >= 0 && isNoScript(*r)) {
        noscript.push_back(read);
      } else {
        results[read] = fromHiredis(*r);
      }
      freeReplyObject(r);
    }
    if (!broken.empty()) {
      // Whatever was not answered may or may not have run: the caller sees
      // Unavailable and must treat the outcome as unknown.
      for (size_t i = read; i < n; ++i) {
        results[i] = absl::UnavailableError(absl::StrCat("redis: connection lost (", broken, ")"));
      }
      disconnect();
    } else {
      // The server lost its scripts (restart, SCRIPT FLUSH): reload, retry once.
      for (size_t i : noscript) {
        Pending& p = *batch[i];
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
        results[i] = roundTrip(p.argv);
      }
    }
    for (size_t i = 0; i < n; ++i) std::move(batch[i]->done)(std::move(results[i]));
  }

  const RedisClientOptions& options_;
  std::atomic<uint64_t>& sent_;
  std::atomic<bool> up_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  bool first_attempt_done_ = false;              // guarded by mu_

  // Owned by the connection thread.
  redisContext* ctx_ = nullptr;
  std::vector<std::string> shas_;

  std::thread thread_;  // last: started after every other member exists
};

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {
  int n = std::max(1, options_.connections);
  for (int i = 0; i < n; ++i) connections_.push_back(std::make_unique<Connection>(options_, sent_));
}

RedisClient::~RedisClient() { shutdown(); }

void RedisClient::shutdown() {
  // Connections are stopped, never destroyed, before the client goes: a
  // callback running during shutdown may still submit to another connection.
  for (auto& c : connections_) c->stop();
}

bool RedisClient::onConnectionThread() { return t_on_connection_thread; }

int RedisClient::connectedCount() const {
  int n = 0;
  for (const auto& c : connections_) n += c->up() ? 1 : 0;
  return n;
}

RedisClient::Connection& RedisClient::route(std::string_view key) {
  return *connections_[std::hash<std::string_view>()(key) % connections_.size()];
}

void RedisClient::submit(std::string_view route_key, std::unique_ptr<Pending> p) {
  if (!route(route_key).enqueue(p)) {
    std::move(p->done)(absl::UnavailableError("redis: connection down or queue full"));
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
