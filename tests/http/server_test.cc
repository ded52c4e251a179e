// The Beast server in-process: a whole embedded core behind real sockets on a
// free port, driven by a small synchronous client.
#include "engine/http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "engine/core/ratelimit/rate_limiter.h"
#include "engine/http/metrics.h"
#include "gtest/gtest.h"
#include "tests/http/http_test_client.h"
#include "tests/http/api_deps.h"
#include "tests/support/sale_fixture.h"

namespace seckill::http {
namespace {

using seckill::testing::apiDepsOf;
using seckill::testing::SaleWorld;
using testing::Reply;
using testing::TestClient;

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : world_(sales()) {}
  ~ServerTest() override {
    if (server_) server_->stop();
  }

  static std::vector<SaleSpec> sales() {
    SaleSpec fifo = SaleWorld::spec("fifo", 50, StockStrategy::kFifo);
    return {SaleWorld::spec("s1", 3), SaleWorld::spec("big", 1'000'000), fifo,
            SaleWorld::spec("many", 200)};
  }

  void start(ServerOptions options = {}) {
    options.port = 0;
    auto created = Server::create(options, deps());
    ASSERT_TRUE(created.ok()) << created.status();
    server_ = *std::move(created);
    server_->start();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  ShopperApiDeps deps() {
    ShopperApiDeps deps = apiDepsOf(world_);
    deps.limiter = limiter_;
    if (extra_metric_bytes_ > 0) {
      deps.collect_stats = [bytes = extra_metric_bytes_](Callback<EngineStats> done) {
        EngineStats s;
        MetricFamily big{"seckill_filler", std::string(bytes, '#'), MetricFamily::Type::kGauge, {}};
        s.extra.push_back(std::move(big));
        std::move(done)(std::move(s));
      };
    }
    return deps;
  }

  size_t extra_metric_bytes_ = 0;  // > 0: /metrics carries this much more
  const ratelimit::RateLimiter* limiter_ = nullptr;

  SaleWorld world_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  TestClient c(port_);
  ASSERT_TRUE(c.connected()) << c.error();
  Reply r = c.get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_TRUE(r.hasHeader("Date"));
  EXPECT_TRUE(r.keep_alive);

  r = c.post("/api/v1/sales/s1/orders", "alice");
  EXPECT_EQ(r.status, 201) << r.body;
  const std::string id = r.str("order_id");
  r = c.post("/api/v1/sales/s1/orders", "alice");
  EXPECT_EQ(r.status, 409);
  r = c.get("/api/v1/orders/" + id, "alice");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.str("state"), "pending_payment");
  r = c.post("/api/v1/orders/" + id + "/pay", "alice");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.str("state"), "paid");
  r = c.get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.keep_alive) << "a well-formed request's 4xx keeps the connection";
  r = c.request("DELETE", "/api/v1/sales/s1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET");
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  start();
  TestClient c(port_);
  ASSERT_TRUE(
      c.sendRaw("POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: "
                "p1\r\nContent-Length: 0\r\n\r\n"
                "POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: "
                "p1\r\nContent-Length: 0\r\n\r\n"
                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.readReply().status, 201);
  EXPECT_EQ(c.readReply().status, 409);
  EXPECT_EQ(c.readReply().status, 200);
}

TEST_F(ServerTest, DeepPipelineAndASlowReader) {
  start();
  TestClient c(port_, std::chrono::seconds(10), /*receive_buffer=*/4096);
  // Many more pipelined requests than are answered inline (the rest go
  // through the queue), read only after a pause.
  constexpr int kRequests = 400;
  std::string burst;
  for (int i = 0; i < kRequests; ++i) {
    burst += i % 2 == 0 ? "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                        : "GET /api/v1/sales/s1 HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  ASSERT_TRUE(c.sendRaw(burst));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < kRequests; ++i) {
    Reply r = c.readReply();
    ASSERT_EQ(r.status, 200) << "reply " << i << ": " << c.error();
    if (i % 2 == 1) {
      ASSERT_EQ(r.str("id"), "s1") << "reply " << i;
    }
  }
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(ServerTest, HugeAnswerToASlowReader) {
  // 8 MB of /metrics: more than the kernel buffers hold, so the server must
  // wait for the socket to drain, twice on one connection.
  const std::string filler(8 << 20, '#');
  extra_metric_bytes_ = filler.size();
  start();
  TestClient c(port_, std::chrono::seconds(20));
  ASSERT_TRUE(
      c.sendRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 2; ++i) {
    Reply r = c.readReply();
    ASSERT_EQ(r.status, 200) << c.error();
    EXPECT_GT(r.body.size(), filler.size());
  }
  EXPECT_EQ(c.get("/healthz").status, 200);
}

// The next request arrives while the connection still writes an answer (the kernel buffers
// are full): the edge its bytes raise comes while nobody waits for it, and the bytes are read
// once the answer is out. A lost edge leaves the second request unanswered.
TEST_F(ServerTest, ARequestThatArrivesWhileAnAnswerIsWrittenIsRead) {
  const std::string filler(8 << 20, '#');
  extra_metric_bytes_ = filler.size();
  start();
  TestClient c(port_, std::chrono::seconds(20));
  ASSERT_TRUE(c.sendRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.readAtLeast(1)) << c.error();  // the request was read: its answer is under way
  ASSERT_TRUE(c.sendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  Reply big = c.readReply();
  ASSERT_EQ(big.status, 200) << c.error();
  EXPECT_GT(big.body.size(), filler.size());
  Reply next = c.readReply();
  EXPECT_EQ(next.status, 200) << c.error();
}

TEST_F(ServerTest, IdempotentReplayHeader) {
  start();
  TestClient c(port_);
  Reply t = c.post("/api/v1/sales/s1/tokens", "u1");
  ASSERT_EQ(t.status, 200);
  const std::string token = t.str("token");
  Reply first = c.post("/api/v1/sales/s1/orders", "u1", {}, {{"Idempotency-Key", token}});
  ASSERT_EQ(first.status, 201);
  EXPECT_FALSE(first.hasHeader("Idempotent-Replayed"));
  Reply again = c.post("/api/v1/sales/s1/orders", "u1", {}, {{"Idempotency-Key", token}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
}

TEST_F(ServerTest, OversizedHeadersAre431AndClose) {
  ServerOptions o;
  o.max_header_bytes = 2048;
  start(o);
  TestClient c(port_);
  Reply r = c.request("GET", "/healthz", {{"X-Padding", std::string(4000, 'a')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.body, R"({"error":"headers_too_large"})");
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(c.closedByPeer());
}

TEST_F(ServerTest, OversizedBodyIs413AndClose) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  TestClient c(port_);
  Reply r = c.post("/api/v1/sales/s1/orders", "u1", std::string(5000, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"error":"body_too_large"})");
  EXPECT_TRUE(c.closedByPeer());
  EXPECT_EQ(world_.stockLeft("s1"), 3);
  // Chunked bodies are held to the same limit.
  TestClient d(port_);
  ASSERT_TRUE(
      d.sendRaw("POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: u2\r\n"
                "Transfer-Encoding: chunked\r\n\r\n800\r\n" +
                std::string(0x800, ' ') + "\r\n0\r\n\r\n"));
  EXPECT_EQ(d.readReply().status, 413);
}

TEST_F(ServerTest, MalformedRequestIs400AndClose) {
  start();
  for (std::string raw : {"GARBAGE\r\n\r\n",
                          "GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /api/v1/sales/s1/orders HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    TestClient c(port_);
    ASSERT_TRUE(c.sendRaw(raw));
    Reply r = c.readReply();
    EXPECT_EQ(r.status, 400) << raw;
    EXPECT_EQ(r.str("error"), "bad_request") << raw;
    EXPECT_TRUE(c.closedByPeer()) << raw;
  }
}

TEST_F(ServerTest, ChunkedAndExpectContinueBodies) {
  start();
  TestClient c(port_);
  ASSERT_TRUE(
      c.sendRaw("POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: u1\r\n"
                "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"tok\r\n2\r\nx\"\r\n0\r\n\r\n"));
  Reply r = c.readReply();
  EXPECT_EQ(r.status, 400) << "the chunks form {\"tokx\" which is malformed";

  TestClient e(port_);
  const std::string body = R"({"token":null})";
  ASSERT_TRUE(
      e.sendRaw("POST /api/v1/sales/s1/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: u2\r\n"
                "Expect: 100-continue\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_EQ(e.readReply().status, 100);
  ASSERT_TRUE(e.sendRaw(body));
  EXPECT_EQ(e.readReply().status, 201);
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  start();
  TestClient c(port_);
  ASSERT_TRUE(c.sendRaw("GET /healthz HTTP/1.0\r\n\r\n"));
  Reply r = c.readReply();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(c.closedByPeer());

  TestClient k(port_);
  ASSERT_TRUE(k.sendRaw("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  r = k.readReply();
  EXPECT_EQ(r.header("Connection"), "keep-alive");
  EXPECT_EQ(k.get("/healthz").status, 200);
}

TEST_F(ServerTest, SlowHeadIsCutOff) {
  ServerOptions o;
  o.header_timeout = absl::Milliseconds(200);
  start(o);
  TestClient c(port_, std::chrono::seconds(5));
  ASSERT_TRUE(c.sendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(ServerTest, IdleConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout = absl::Milliseconds(200);
  start(o);
  TestClient c(port_, std::chrono::seconds(5));
  EXPECT_EQ(c.get("/healthz").status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

// An idle keep-alive connection gives its per-request state (read buffer, request, answer)
// back once answered, whatever the answer's path; only a request being received holds one.
TEST_F(ServerTest, IdleConnectionsHoldNoRequestState) {
  start();
  const HttpMetrics& m = server_->metrics();
  // The server gives the state back just after writing the answer the client reads.
  auto holding = [&](int64_t want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (m.connectionsHoldingRequestState() != want &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return m.connectionsHoldingRequestState();
  };
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 16; ++i) {
    auto& c = clients.emplace_back(std::make_unique<TestClient>(port_));
    ASSERT_TRUE(c->connected()) << c->error();
    EXPECT_EQ(c->get("/healthz").status, 200);
    // Answered on another thread (the fifo sale's sequencer), then pipelined requests.
    EXPECT_EQ(c->post("/api/v1/sales/fifo/orders", "i" + std::to_string(i)).status, 201);
    ASSERT_TRUE(c->sendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c->readReply().status, 200);
    EXPECT_EQ(c->readReply().status, 200);
  }
  EXPECT_EQ(m.connections(), 16);
  EXPECT_EQ(holding(0), 0);

  // A request head half received holds it until answered.
  ASSERT_TRUE(clients[3]->sendRaw("GET /healthz HTTP/1.1\r\nHo"));
  EXPECT_EQ(holding(1), 1);
  ASSERT_TRUE(clients[3]->sendRaw("st: x\r\n\r\n"));
  EXPECT_EQ(clients[3]->readReply().status, 200);
  EXPECT_EQ(holding(0), 0);

  // And one closed while receiving gives it back too.
  ASSERT_TRUE(clients[5]->sendRaw("GET /heal"));
  EXPECT_EQ(holding(1), 1);
  clients[5].reset();
  EXPECT_EQ(holding(0), 0);
  for (size_t i = 0; i < clients.size(); ++i) {
    if (clients[i]) {
      EXPECT_EQ(clients[i]->get("/healthz").status, 200) << i;
    }
  }
  EXPECT_EQ(holding(0), 0);
}

TEST_F(ServerTest, ConnectionLimit) {
  ServerOptions o;
  o.max_connections = 2;
  o.threads = 1;
  start(o);
  TestClient a(port_), b(port_);
  EXPECT_EQ(a.get("/healthz").status, 200);
  EXPECT_EQ(b.get("/healthz").status, 200);
  TestClient c(port_, std::chrono::seconds(5));
  EXPECT_TRUE(c.closedByPeer()) << "the third connection is closed at once";
  Reply m = a.get("/metrics");
  EXPECT_NE(m.body.find("seckill_http_connections 2\n"), std::string::npos) << m.body;
}

TEST_F(ServerTest, FifoCompletionsHopBackToTheConnection) {
  start();
  TestClient c(port_);
  int created = 0;
  for (int i = 0; i < 60; ++i) {
    Reply r = c.post("/api/v1/sales/fifo/orders", "f" + std::to_string(i));
    if (r.status == 201)
      ++created;
    else
      EXPECT_EQ(r.status, 410) << r.body;
  }
  EXPECT_EQ(created, 50);
}

TEST_F(ServerTest, ConcurrentStormSellsExactlyTheStock) {
  ServerOptions o;
  o.threads = 2;
  start(o);
  constexpr int kThreads = 6;
  constexpr int kUsersPerThread = 60;
  std::atomic<int> created{0}, sold_out{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TestClient c(port_);
      for (int i = 0; i < kUsersPerThread; ++i) {
        const std::string sale = i % 2 == 0 ? "many" : "fifo";
        Reply r = c.post("/api/v1/sales/" + sale + "/orders",
                         "t" + std::to_string(t) + "-" + std::to_string(i));
        if (r.status == 201)
          ++created;
        else if (r.status == 410)
          ++sold_out;
        else
          ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  // many: 180 attempts for 200 units; fifo: 180 attempts for 50 units.
  EXPECT_EQ(created.load(), 180 + 50);
  EXPECT_EQ(sold_out.load(), 130);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(world_.stockLeft("many"), 20);
  EXPECT_EQ(world_.stockLeft("fifo"), 0);
}

TEST_F(ServerTest, MetricsCountRequests) {
  start();
  TestClient c(port_);
  c.post("/api/v1/sales/s1/orders", "u1");
  c.post("/api/v1/sales/s1/orders");
  c.get("/nope");
  Reply m = c.get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("seckill_http_requests_total{route=\"order\",code=\"201\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("seckill_http_requests_total{route=\"order\",code=\"400\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("seckill_http_requests_total{route=\"other\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("seckill_stock_left{sale=\"s1\"} 2\n"), std::string::npos);
  EXPECT_NE(m.body.find("seckill_http_request_duration_seconds_count 3\n"), std::string::npos);
}

TEST_F(ServerTest, StopClosesOpenConnectionsAndIsIdempotent) {
  start();
  TestClient idle(port_);
  EXPECT_EQ(idle.get("/healthz").status, 200);
  TestClient half(port_);
  ASSERT_TRUE(half.sendRaw("GET /heal"));
  server_->stop();
  server_->stop();
  EXPECT_TRUE(idle.closedByPeer());
  EXPECT_TRUE(half.closedByPeer());
  TestClient late(port_, std::chrono::seconds(2));
  EXPECT_FALSE(late.connected() && late.get("/healthz").status == 200);
}

TEST_F(ServerTest, DrainAnswersWhatIsInFlightAndClosesTheRest) {
  // One order a second, the next one queued: a request that is with the core during the drain.
  ratelimit::RuleRegistry rules;
  ratelimit::RuleSpec queue;
  queue.path = "/api/v1/sales/*/orders";
  queue.rate = 1;
  queue.burst = 1;
  queue.on_limit = ratelimit::OnLimit::kQueue;
  queue.max_wait = absl::Seconds(3);
  ASSERT_TRUE(rules.replace({queue}).ok());
  ratelimit::RateLimiter limiter(rules);
  limiter_ = &limiter;
  start();
  TestClient idle(port_);
  EXPECT_EQ(idle.get("/healthz").status, 200);
  TestClient first(port_);
  ASSERT_EQ(first.post("/api/v1/sales/big/orders", "u1").status, 201);
  TestClient queued(port_);
  ASSERT_TRUE(queued.sendRaw(
      "POST /api/v1/sales/big/orders HTTP/1.1\r\nHost: x\r\nX-User-Id: u2\r\n"
      "Content-Length: 0\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // it is queued now

  const auto t0 = std::chrono::steady_clock::now();
  server_->drain(absl::Seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5))
      << "drain returns once the last request in flight is answered";
  Reply r = queued.readReply();
  EXPECT_EQ(r.status, 201) << "the request in flight is answered";
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(idle.closedByPeer()) << "an idle connection is closed at once";
  TestClient late(port_, std::chrono::seconds(2));
  EXPECT_FALSE(late.connected() && late.get("/healthz").status == 200) << "no new connections";
  server_->stop();
}

TEST_F(ServerTest, StopWithoutStart) {
  auto created = Server::create(ServerOptions{.port = 0}, deps());
  ASSERT_TRUE(created.ok());
  (*created)->stop();
}

TEST_F(ServerTest, BindFailuresAreReported) {
  // A port someone else listens on.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor taken(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  ServerOptions o;
  o.port = taken.local_endpoint().port();
  auto created = Server::create(o, deps());
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << created.status();

  o.host = "not-an-ip";
  o.port = 0;
  created = Server::create(o, deps());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, Ipv6Loopback) {
  ServerOptions o;
  o.host = "::1";
  o.port = 0;
  auto created = Server::create(o, deps());
  if (!created.ok()) GTEST_SKIP() << "no IPv6 loopback: " << created.status();
  (*created)->start();
  (*created)->stop();
}

}  // namespace
}  // namespace seckill::http
