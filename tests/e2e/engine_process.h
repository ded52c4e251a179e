#pragma once

// Runs the real seckill-engine binary for end-to-end tests: writes a config
// with a free loopback port, spawns the process with its output captured to
// temp files, waits for /healthz, and stops it with SIGTERM expecting a clean
// exit. Every wait is bounded.

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/http/http_test_client.h"
#include "tests/support/test_process.h"

#ifndef SECKILL_ENGINE_BIN
#error "SECKILL_ENGINE_BIN must name the seckill-engine binary"
#endif

namespace seckill::e2e {

using Clock = std::chrono::steady_clock;

using testing::freeLoopbackPort;
using testing::readFile;
using testing::waitExit;

// A private temporary directory (seckill-e2e-XXXXXX in $TMPDIR), removed with
// everything in it.
class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("seckill-e2e") {}
};

// Spawns the engine with `args`; stdout and stderr go to the given files.
// Returns the pid, or -1.
inline pid_t spawnEngine(const std::vector<std::string>& args, const std::string& out_path,
                         const std::string& err_path) {
  std::vector<std::string> argv{SECKILL_ENGINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::spawnProcess(argv, out_path, err_path);
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
    testing::killAndReap(pid);
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
    if (pid_ > 0) testing::killAndReap(pid_);
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

      auto healthy = [this] {
        http::testing::TestClient probe(port_, std::chrono::seconds(2));
        return probe.connected() && probe.get("/healthz").status == 200;
      };
      int status = 0;
      switch (testing::awaitStartup(pid_, std::chrono::seconds(30), std::chrono::milliseconds(20),
                                    healthy, &status)) {
        case testing::Startup::kReady:
          return ::testing::AssertionSuccess();
        case testing::Startup::kTimedOut:
          return ::testing::AssertionFailure() << "no /healthz within 30 s; stderr:\n"
                                               << stderrText();
        case testing::Startup::kExited:
          break;
      }
      pid_ = -1;
      const std::string err = stderrText();
      if (err.find("in use") == std::string::npos) {
        return ::testing::AssertionFailure()
               << "the engine exited during start-up (status " << status << "):\n"
               << err << "\nconfig:\n"
               << config;
      }
      // Lost the port race: retry on another port.
    }
    return ::testing::AssertionFailure() << "could not find a free port";
  }

  // SIGTERM, then expects a clean exit (code 0) within 20 s.
  ::testing::AssertionResult stop() {
    if (pid_ <= 0) return ::testing::AssertionSuccess();
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = waitExit(pid_, std::chrono::seconds(20), status);
    if (!exited) status = testing::killAndReap(pid_);
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
    testing::killAndReap(pid_);
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
