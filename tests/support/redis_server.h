#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace seckill::testing {

// A real redis-server for tests: on a free loopback port, in a fresh temp
// directory, without persistence. start() waits (bounded) until PING answers;
// stop() kills it (SIGKILL: a crash); start() again reuses the port and
// directory, for restart tests. The destructor stops it and removes the dir.
// Fails (never skips) when redis-server is not on PATH.
class RedisServer {
 public:
  RedisServer() {
    char tmpl[] = "/tmp/seckill-redis-XXXXXX";
    if (char* d = mkdtemp(tmpl)) dir_ = d;
  }
  ~RedisServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
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
      if (!fixed_port) port_ = freePort();
      last = spawn(binary);
      if (last.ok()) return last;
      if (fixed_port) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }

  // Kills the server (SIGKILL) and reaps it. Idempotent.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Runs one command on a fresh connection. Returns the reply as text (string,
  // status, integer, "(nil)", "ERR:<msg>", arrays as lines), or an error
  // status when the server cannot be reached.
  absl::StatusOr<std::string> query(const std::vector<std::string>& argv) const {
    timeval tv{.tv_sec = 1, .tv_usec = 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
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
    std::string out = text(*r);
    freeReplyObject(r);
    redisFree(c);
    return out;
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
  static std::string findOnPath(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return {};
    for (absl::string_view d : absl::StrSplit(path, ':')) {
      std::string candidate = absl::StrCat(d, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
  }

  // A port the kernel just handed out (bind to port 0), released for redis.
  static int freePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }

  static std::string text(const redisReply& r) {
    switch (r.type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS: return std::string(r.str, r.len);
      case REDIS_REPLY_INTEGER: return std::to_string(r.integer);
      case REDIS_REPLY_NIL: return "(nil)";
      case REDIS_REPLY_ERROR: return "ERR:" + std::string(r.str, r.len);
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r.elements; ++i) absl::StrAppend(&out, text(*r.element[i]), "\n");
        return out;
      }
    }
    return {};
  }

  absl::Status spawn(const std::string& binary) {
    std::string port = std::to_string(port_);
    std::string log = dir_ + "/redis.log";
    std::vector<std::string> args = {binary, "--port", port, "--bind", "127.0.0.1",
                                     "--dir", dir_, "--save", "", "--appendonly",
                                     aof_ ? "yes" : "no", "--appendfsync", "always",
                                     "--daemonize", "no", "--logfile", log};
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken?
        pid_ = -1;
        return absl::UnavailableError(absl::StrCat("redis-server exited on port ", port_));
      }
      absl::StatusOr<std::string> pong = query({"PING"});
      if (pong.ok() && *pong == "PONG") return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    return absl::UnavailableError(absl::StrCat("redis-server did not answer PING on ", port_));
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool aof_ = false;
};

}  // namespace seckill::testing
