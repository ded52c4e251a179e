#pragma once
// A shopper storm over HTTP for the end-to-end tests: `threads` threads, each
// with its own keep-alive connection, place orders for `users` distinct
// shoppers (each `attempts` times), spread round-robin over the engines.
// `on_created` sees the running count of 201s (a test kills an engine there).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/http/http_test_client.h"

namespace seckill::e2e {

struct StormResult {
  std::map<std::string, std::string> order_of_user;  // every 201: user -> order id
  int sold_out = 0;
  int duplicate = 0;
  int unavailable = 0;  // 503 or no answer (tolerated only when asked)
  int other = 0;
  std::string first_other;
  int64_t created() const { return static_cast<int64_t>(order_of_user.size()); }
};

inline StormResult runStorm(const std::vector<uint16_t>& ports, const std::string& sale,
                            int threads, int users, int attempts_per_user,
                            const std::string& user_prefix = {}, bool tolerate_errors = false,
                            const std::function<void(int64_t created)>& on_created = {}) {
  StormResult result;
  std::mutex mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      http::testing::TestClient c(ports[static_cast<size_t>(t) % ports.size()]);
      for (int u = t; u < users; u += threads) {
        const std::string user = user_prefix + "u" + std::to_string(u);
        for (int a = 0; a < attempts_per_user; ++a) {
          http::testing::Reply r = c.post("/api/v1/sales/" + sale + "/orders", user);
          std::lock_guard<std::mutex> lock(mu);
          if (r.status == 201) {
            const bool fresh = result.order_of_user.emplace(user, r.str("order_id")).second;
            EXPECT_TRUE(fresh) << "second order for " << user;
            if (on_created) on_created(result.created());  // under the lock: one at a time
          } else if (r.status == 410) {
            ++result.sold_out;
          } else if (r.status == 409 && r.str("error") == "duplicate") {
            ++result.duplicate;
          } else if (tolerate_errors && (r.status == 503 || r.status == 0)) {
            ++result.unavailable;
            if (r.status == 0) c.connect();  // the engine went away: try again later
          } else {
            if (result.other++ == 0) {
              result.first_other = std::to_string(r.status) + " " + r.body + " " + c.error();
            }
          }
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
  return result;
}

// A storm of `users` fresh shoppers (6 threads, one attempt each) on one
// engine, killed with SIGKILL right after its `kill_after`-th 201: the crash
// lands mid-storm at a point the test controls. Connection errors and 503s
// after the kill are counted in `unavailable`.
template <typename Engine>
StormResult runStormKilledAfter(Engine& engine, const std::string& sale, int users,
                                int64_t kill_after, bool& killed) {
  killed = false;
  return runStorm({engine.port()}, sale, 6, users, 1, "", /*tolerate_errors=*/true,
                  [&](int64_t created) {
                    if (created == kill_after) {
                      engine.kill9();
                      killed = true;
                    }
                  });
}

// Polls `done` every 20 ms until it is true or `timeout` passes (generous:
// sanitizer builds on a shared 2-core machine are slow).
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

inline std::string metricsOf(uint16_t port) {
  http::testing::TestClient c(port);
  return c.get("/metrics").body;
}

}  // namespace seckill::e2e
