#pragma once

// A real seckill-engine process with its admin API on, for the console's tests: a tokens file
// (mode 0600) with an operator and a viewer token, an [admin] table on a loopback port that
// stays the same across restarts, and an order storm to load it. The e2e EngineProcess does the
// starting and stopping; this file only hides its Boost headers from the test sources.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "console/core/engine_session.h"
#include "gtest/gtest.h"

namespace seckill::console::testing {

class AdminEngine {
 public:
  enum class Role { kOperator, kViewer };

  AdminEngine();
  ~AdminEngine();
  AdminEngine(const AdminEngine&) = delete;
  AdminEngine& operator=(const AdminEngine&) = delete;

  // Starts the engine with `body` (its [[sale]] and [[rule]] tables) and node id `node`; waits
  // for /healthz. A second start() after stop() is a restart on the same admin port.
  ::testing::AssertionResult start(const std::string& body, const std::string& node = "node-a");
  // SIGTERM and a clean exit.
  ::testing::AssertionResult stop();
  void signal(int sig);

  EngineAddress address(Role role = Role::kOperator) const;
  uint16_t httpPort() const;
  uint16_t adminPort() const { return admin_port_; }
  std::string stderrText() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t admin_port_ = 0;
  std::string tokens_;
  std::string body_;
};

// Orders from fresh shoppers, as fast as `threads` keep-alive connections go, until stop().
class OrderStorm {
 public:
  OrderStorm(uint16_t http_port, std::string sale, int threads);
  ~OrderStorm();  // stop()
  void stop();
  int64_t answered() const { return answered_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> answered_{0};
  std::vector<std::thread> threads_;
};

}  // namespace seckill::console::testing
