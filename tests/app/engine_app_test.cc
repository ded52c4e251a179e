#include "engine/app/engine_app.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/app/test_http.h"

namespace seckill::app {
namespace {

using ::testing::HasSubstr;
using testing::httpExchange;
using testing::httpGet;
using ::testing::StartsWith;

// The demo sale on a free port, with a short pay timeout and a fast consumer.
EngineConfig testConfig() {
  EngineConfig config = demoConfig();
  config.http.port = 0;
  config.http.threads = 1;
  config.orders.cancel_poll = absl::Milliseconds(10);
  config.sales[0].pay_timeout = absl::Milliseconds(50);
  return config;
}

TEST(EngineAppTest, ServesOrdersAndExpiresTheUnpaidOnes) {
  absl::StatusOr<std::unique_ptr<EngineApp>> app = EngineApp::create(testConfig());
  ASSERT_TRUE(app.ok()) << app.status();
  (*app)->start();
  const uint16_t port = (*app)->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ((*app)->listenAddress(), "127.0.0.1:" + std::to_string(port));

  std::string created =
      httpExchange(port,
                   "POST /api/v1/sales/demo/orders HTTP/1.1\r\nHost: test\r\nX-User-Id: u1\r\n"
                   "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(created, StartsWith("HTTP/1.1 201"));

  // The timer thread drives the consumer: the unpaid order is cancelled and acked.
  std::string metrics;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = httpGet(port, "/metrics");
  } while (metrics.find("seckill_cancel_acked_total 1\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_THAT(metrics, HasSubstr("# TYPE seckill_cancel_queue_pending gauge\n"));
  EXPECT_THAT(metrics, HasSubstr("seckill_cancel_queue_pending 0\n"));
  EXPECT_THAT(metrics, HasSubstr("seckill_cancel_acked_total 1\n"));
  // The stats history's memory, at least its ring of empty samples.
  EXPECT_THAT(metrics, HasSubstr("# TYPE seckill_stats_history_bytes gauge\n"));
  const std::string gauge = "\nseckill_stats_history_bytes ";
  const size_t at = metrics.find(gauge);
  ASSERT_NE(at, std::string::npos);
  const long long history_bytes = std::stoll(metrics.substr(at + gauge.size()));
  EXPECT_GE(history_bytes, static_cast<long long>((*app)->statsHistory().capacity() *
                                                  sizeof(StatsSample)));

  (*app)->stop();
  (*app)->stop();                            // idempotent
  EXPECT_EQ(httpGet(port, "/healthz"), "");  // no longer listening
}

TEST(EngineAppTest, DescribesWhatItServes) {
  absl::StatusOr<std::unique_ptr<EngineApp>> app = EngineApp::create(testConfig());
  ASSERT_TRUE(app.ok()) << app.status();
  std::vector<std::string> lines = (*app)->describe();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("listening on http://127.0.0.1:"));
  EXPECT_EQ(lines[1], "stores: memory (embedded); orders: memory");
  EXPECT_EQ(lines[2], "control state: memory (not persisted: lost at restart)");
  EXPECT_THAT(lines[3], HasSubstr("sale \"demo\" (Demo drop): stock 10000, strategy atomic"));
}

TEST(EngineAppTest, AnAddressInUseFailsCreate) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);

  EngineConfig config = testConfig();
  config.http.port = port;
  absl::StatusOr<std::unique_ptr<EngineApp>> app = EngineApp::create(config);
  ::close(fd);
  ASSERT_FALSE(app.ok());
  EXPECT_THAT(std::string(app.status().message()),
              StartsWith("cannot listen on 127.0.0.1:" + std::to_string(port) + ": "));
}

TEST(EngineAppTest, ASecondEngineOnTheSamePortFails) {
  absl::StatusOr<std::unique_ptr<EngineApp>> first = EngineApp::create(testConfig());
  ASSERT_TRUE(first.ok()) << first.status();
  EngineConfig config = testConfig();
  config.http.port = (*first)->port();
  absl::StatusOr<std::unique_ptr<EngineApp>> second = EngineApp::create(config);
  EXPECT_FALSE(second.ok()) << "two engines share port " << config.http.port;
}

TEST(EngineAppTest, AnInvalidSaleFailsCreate) {
  EngineConfig config = testConfig();
  config.sales[0].stock = -1;
  absl::StatusOr<std::unique_ptr<EngineApp>> app = EngineApp::create(config);
  ASSERT_FALSE(app.ok());
  EXPECT_EQ(app.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seckill::app
