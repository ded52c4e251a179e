#pragma once

// Runs the real seckill-engine binary for end-to-end tests: writes a config
// with a free loopback port, spawns the process with its output captured to
// temp files, waits for /healthz, and stops it with SIGTERM expecting a clean
// exit. Every wait is bounded.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/http/http_test_client.h"

#ifndef SECKILL_ENGINE_BIN
#error "SECKILL_ENGINE_BIN must name the seckill-engine binary"
#endif

extern char** environ;

namespace seckill::e2e {

using Clock = std::chrono::steady_clock;

// A private temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "seckill-e2e-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A loopback port that was free a moment ago (the caller retries if it is
// taken before the engine binds it).
inline uint16_t freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Spawns the engine with `args`; stdout and stderr go to the given files.
// Returns the pid, or -1.
inline pid_t spawnEngine(const std::vector<std::string>& args, const std::string& out_path,
                         const std::string& err_path) {
  std::vector<std::string> argv_storage{SECKILL_ENGINE_BIN};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits up to `timeout` for `pid` to exit. True and `status` set if it did.
inline bool waitExit(pid_t pid, std::chrono::milliseconds timeout, int& status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

struct RunResult {
  bool exited = false;  // false: killed after the timeout
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the engine with `args` to completion (killed after `timeout`).
inline RunResult runEngine(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  TempDir dir;
  const std::string out = (dir.path() / "stdout").string();
  const std::string err = (dir.path() / "stderr").string();
  RunResult result;
  pid_t pid = spawnEngine(args, out, err);
  if (pid < 0) return result;
  int status = 0;
  if (waitExit(pid, timeout, status)) {
    result.exited = WIFEXITED(status);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } else {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  result.out = readFile(out);
  result.err = readFile(err);
  return result;
}

// One running engine.
class EngineProcess {
 public:
  EngineProcess() = default;
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;
  ~EngineProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }

  // Starts the engine with `body` (the [[sale]] / [orders] tables; the [http]
  // table is added here, on a free loopback port) and waits until /healthz
  // answers.
  ::testing::AssertionResult start(const std::string& body, int threads = 2,
                                   const std::string& extra_http = {}) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = freeLoopbackPort();
      if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
      http_table_ = "[http]\nlisten = \"127.0.0.1:" + std::to_string(port_) +
                    "\"\nthreads = " + std::to_string(threads) + "\n" + extra_http + "\n";
      const std::string config = http_table_ + body;
      config_path_ = dir_.write("engine.toml", config);
      pid_ = spawnEngine({"--config", config_path_}, stdoutPath(), stderrPath());
      if (pid_ < 0) return ::testing::AssertionFailure() << "cannot spawn " << SECKILL_ENGINE_BIN;

      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while (Clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          const std::string err = stderrText();
          if (err.find("in use") != std::string::npos) break;  // lost the port race: retry
          return ::testing::AssertionFailure()
                 << "the engine exited during start-up (status " << status << "):\n"
                 << err << "\nconfig:\n"
                 << config;
        }
        http::testing::TestClient probe(port_, std::chrono::seconds(2));
        if (probe.connected() && probe.get("/healthz").status == 200) {
          return ::testing::AssertionSuccess();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pid_ > 0) {
        return ::testing::AssertionFailure() << "no /healthz within 30 s; stderr:\n"
                                             << stderrText();
      }
    }
    return ::testing::AssertionFailure() << "could not find a free port";
  }

  // SIGTERM, then expects a clean exit (code 0) within 20 s.
  ::testing::AssertionResult stop() {
    if (pid_ <= 0) return ::testing::AssertionSuccess();
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = waitExit(pid_, std::chrono::seconds(20), status);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    if (!exited) {
      return ::testing::AssertionFailure() << "no exit 20 s after SIGTERM; stderr:\n"
                                           << stderrText();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return ::testing::AssertionFailure() << "unclean exit (status " << status << "); stderr:\n"
                                           << stderrText();
    }
    return ::testing::AssertionSuccess();
  }

  // Replaces the running engine's config file (same [http] table, new `body`)
  // by writing a temp file and renaming it over the old one.
  void rewriteConfig(const std::string& body) {
    const std::string tmp = dir_.write("engine.toml.new", http_table_ + body);
    ::rename(tmp.c_str(), config_path_.c_str());
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // SIGKILL (a crash at an arbitrary moment) and reap. The next start() runs
  // a new process with the same config body on a new port.
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }
  bool running() const { return pid_ > 0; }
  std::string stderrText() const { return readFile(stderrPath()); }

 private:
  std::string stdoutPath() const { return (dir_.path() / "stdout").string(); }
  std::string stderrPath() const { return (dir_.path() / "stderr").string(); }

  TempDir dir_;
  std::string config_path_;
  std::string http_table_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace seckill::e2e
