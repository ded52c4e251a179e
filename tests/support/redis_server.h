#pragma once

#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/test_process.h"

namespace seckill::testing {

namespace redis_server_detail {

inline std::string text(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r.integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ERROR:
      return "ERR:" + std::string(r.str, r.len);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (size_t i = 0; i < r.elements; ++i) absl::StrAppend(&out, text(*r.element[i]), "\n");
      return out;
    }
  }
  return {};
}

}  // namespace redis_server_detail

// Runs one command against 127.0.0.1:`port` on a fresh connection (`timeout`
// to connect and for the reply). The reply as text (string, status, integer,
// "(nil)", "ERR:<msg>", arrays as lines), or an error status when the server
// cannot be reached.
inline absl::StatusOr<std::string> queryRedisPort(
    int port, const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{.tv_sec = us / 1000000, .tv_usec = us % 1000000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError("cannot connect");
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (r == nullptr) {
    redisFree(c);
    return absl::UnavailableError("no reply");
  }
  std::string out = redis_server_detail::text(*r);
  freeReplyObject(r);
  redisFree(c);
  return out;
}

// Starts the redis-server command line `args` (args[0] the binary; it is to
// listen on 127.0.0.1:`port` and log to its --logfile) and waits (5 s at most)
// until it answers PING. Returns its pid; on failure the process is gone
// (exited, or killed and reaped). UNAVAILABLE when it exits first (the port
// was probably taken: retry) or never answers.
inline absl::StatusOr<pid_t> startRedisProcess(const std::vector<std::string>& args, int port) {
  pid_t pid = spawnProcess(args);
  if (pid < 0) return absl::InternalError("cannot spawn " + args[0]);
  auto answers = [port] {
    absl::StatusOr<std::string> pong = queryRedisPort(port, {"PING"}, std::chrono::seconds(1));
    return pong.ok() && *pong == "PONG";
  };
  switch (awaitStartup(pid, std::chrono::seconds(5), std::chrono::milliseconds(10), answers)) {
    case Startup::kReady:
      return pid;
    case Startup::kExited:
      return absl::UnavailableError(absl::StrCat("redis-server exited on port ", port));
    case Startup::kTimedOut:
      break;
  }
  killAndReap(pid);
  return absl::UnavailableError(absl::StrCat("redis-server did not answer PING on ", port));
}

// A real redis-server for tests: on a free loopback port, in a fresh temp
// directory, without persistence. start() waits (bounded) until PING answers;
// stop() kills it (SIGKILL: a crash); start() again reuses the port and
// directory, for restart tests. The destructor stops it and removes the dir.
// Fails (never skips) when redis-server is not on PATH.
class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Persistence for crash tests: an append-only file fsynced on every write
  // (appendfsync always), so a SIGKILL loses nothing acknowledged. Call
  // before start().
  void enableAof() { aof_ = true; }

  // Starts the server; picks a port on the first start (retrying if taken).
  absl::Status start() {
    if (pid_ > 0) return absl::OkStatus();
    if (dir_.empty()) return absl::InternalError("mkdtemp failed");
    std::string binary = findOnPath("redis-server");
    if (binary.empty()) {
      return absl::FailedPreconditionError(
          "redis-server not found on PATH: install the redis-server package "
          "(apt-get install redis-server) to run the Redis tests");
    }
    const bool fixed_port = port_ != 0;
    absl::Status last = absl::UnavailableError("redis-server did not start");
    for (int attempt = 0; attempt < (fixed_port ? 20 : 5); ++attempt) {
      if (!fixed_port) port_ = freeLoopbackPort();
      absl::StatusOr<pid_t> pid = startRedisProcess(
          {binary, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_, "--save",
           "", "--appendonly", aof_ ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no",
           "--logfile", dir_ + "/redis.log"},
          port_);
      if (pid.ok()) {
        pid_ = *pid;
        return absl::OkStatus();
      }
      last = pid.status();
      if (fixed_port) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }

  // Kills the server (SIGKILL) and reaps it. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    killAndReap(pid_);
    pid_ = -1;
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Runs one command on a fresh connection. Returns the reply as text (string,
  // status, integer, "(nil)", "ERR:<msg>", arrays as lines), or an error
  // status when the server cannot be reached.
  absl::StatusOr<std::string> query(const std::vector<std::string>& argv) const {
    return queryRedisPort(port_, argv, std::chrono::seconds(1));
  }

  // Calls per command from INFO commandstats ("evalsha" -> n, "config|resetstat" -> n).
  std::vector<std::pair<std::string, long>> commandCalls() const {
    std::vector<std::pair<std::string, long>> out;
    absl::StatusOr<std::string> info = query({"INFO", "commandstats"});
    if (!info.ok()) return out;
    for (absl::string_view line : absl::StrSplit(*info, '\n')) {
      if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
      size_t colon = line.find(':');
      size_t calls = line.find("calls=");
      if (colon == absl::string_view::npos || calls == absl::string_view::npos) continue;
      out.emplace_back(std::string(line.substr(0, colon)),
                       std::strtol(std::string(line.substr(calls + 6)).c_str(), nullptr, 10));
    }
    return out;
  }

 private:
  TempDir tmp_{"seckill-redis", "/tmp"};
  const std::string dir_ = tmp_.path().string();
  int port_ = 0;
  pid_t pid_ = -1;
  bool aof_ = false;
};

}  // namespace seckill::testing
