// limiter_service: seckill's rate limiter embedded in a tiny HTTP service (Boost.Beast, one
// thread). Every request is decided by the rules for its key, X-User-Id or else the client's
// address: 200, 429 with Retry-After and the RateLimit fields, or 503 while an override sheds
// the path. GET /counters lists each rule's counters and is never limited. SIGHUP re-reads the
// rule file and swaps the rules atomically (rules left unchanged keep their state); SIGINT and
// SIGTERM stop.
//
//   limiter_service [--port N] [--rules FILE]
//
// FILE holds [[rule]] and [[override]] tables, as seckill-engine's config does; without it the
// built-in kDefaultRules apply. Port 0 (the default) takes any free port; the line
// "listening on 127.0.0.1:<port>" says which.

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "engine/embed/embedded_limiter.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace rl = seckill::ratelimit;
using tcp = asio::ip::tcp;

// Each client 5 requests a second with bursts of 10; orders 100 a second for all clients.
constexpr std::string_view kDefaultRules = R"([[rule]]
path = "/**"
scope = "user"
rate = 5
burst = 10

[[rule]]
path = "/api/orders"
method = "POST"
rate = 100
burst = 100
)";

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

// The rules and what the service answers; the HTTP plumbing is below.
class Service {
 public:
  Service(std::unique_ptr<rl::EmbeddedLimiter> limiter, std::string rules_path)
      : limiter_(std::move(limiter)), rules_path_(std::move(rules_path)) {}

  // The answer to `req` from `client`; `delay` > 0: send it only after that long.
  http::response<http::string_body> answer(const http::request<http::string_body>& req,
                                           std::string_view client, absl::Duration& delay) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    if (req.method() == http::verb::get && req.target() == "/counters") {
      res.body() = counters();
    } else {
      const std::string_view user = sv(req["X-User-Id"]);
      const rl::Verdict v = limiter_->decide(sv(req.method_string()), sv(req.target()),
                                             user.empty() ? client : user, absl::Now());
      switch (v.kind) {
        case rl::Verdict::kDelay:  // a queue rule reserved a slot: answer after the wait
          delay = v.wait;
          [[fallthrough]];
        case rl::Verdict::kAllow:
        case rl::Verdict::kShadow:  // an on_limit = "log" rule would have limited it
          res.body() = "ok\n";
          break;
        case rl::Verdict::kReject:
          res.result(http::status::too_many_requests);
          res.set(http::field::retry_after, std::to_string(rl::ceilSeconds(v.wait)));
          res.set("RateLimit-Policy", rl::rateLimitPolicyField(v));
          res.set("RateLimit", rl::rateLimitField(v));
          res.body() = absl::StrCat("rate limited by ", v.rule, "\n");
          break;
        case rl::Verdict::kShed:
        case rl::Verdict::kUnavailable:
          res.result(http::status::service_unavailable);
          res.set(http::field::retry_after, std::to_string(rl::ceilSeconds(v.wait)));
          res.body() = absl::StrCat("shed by ", v.rule, "\n");
          break;
      }
    }
    res.prepare_payload();
    return res;
  }

  // SIGHUP: the rule file again, swapped in whole or not at all.
  void reload() {
    if (rules_path_.empty()) {
      std::cout << "SIGHUP: no --rules file, the built-in rules stay" << std::endl;
      return;
    }
    absl::StatusOr<uint64_t> v = limiter_->replaceRulesFromFile(rules_path_);
    if (v.ok()) {
      std::cout << "rules: version " << *v << " from " << rules_path_ << std::endl;
    } else {
      std::cerr << "rules refused, version " << limiter_->version()
                << " stays: " << v.status().message() << std::endl;
    }
  }

 private:
  std::string counters() const {
    std::string out = absl::StrCat("version ", limiter_->version(), "\n");
    for (const rl::RuleCounts& c : limiter_->counters()) {
      absl::StrAppend(&out, c.id, ": passed=", c.passed, " queued=", c.queued,
                      " limited=", c.limited, " shadow_limited=", c.shadow_limited,
                      " keys=", c.keys, "\n");
    }
    return out;
  }

  std::unique_ptr<rl::EmbeddedLimiter> limiter_;
  std::string rules_path_;
};

// One connection: read a request, answer it (after a queue delay if any), until either side
// closes or 30 s pass without a request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Service& service)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), service_(service) {}

  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->answer();
                     });
  }

 private:
  void answer() {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    const std::string client = ec ? "" : peer.address().to_string();
    absl::Duration delay = absl::ZeroDuration();
    response_ = service_.answer(request_, client, delay);
    if (delay <= absl::ZeroDuration()) return write();
    timer_.expires_after(absl::ToChronoNanoseconds(delay));
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->write(); });
  }

  void write() {
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec && self->response_.keep_alive()) return self->read();
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                      });
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Service& service_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

void acceptLoop(tcp::acceptor& acceptor, Service& service) {
  acceptor.async_accept([&acceptor, &service](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), service)->read();
    acceptLoop(acceptor, service);
  });
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  std::string rules_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else if (arg == "--rules" && i + 1 < argc) {
      rules_path = argv[++i];
    } else {
      std::cerr << "usage: limiter_service [--port N] [--rules FILE]\n";
      return 2;
    }
  }

  // The rules are checked whole before the service listens: a bad file names its line.
  absl::StatusOr<std::unique_ptr<rl::EmbeddedLimiter>> limiter =
      rules_path.empty() ? rl::EmbeddedLimiter::fromToml(kDefaultRules, "built-in rules")
                         : rl::EmbeddedLimiter::fromFile(rules_path);
  if (!limiter.ok()) {
    std::cerr << limiter.status().message() << std::endl;
    return 1;
  }
  Service service(*std::move(limiter), rules_path);

  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
  beast::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "cannot listen on 127.0.0.1:" << port << ": " << ec.message() << std::endl;
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  acceptLoop(acceptor, service);

  asio::signal_set signals(io, SIGHUP, SIGINT, SIGTERM);
  std::function<void(beast::error_code, int)> onSignal = [&](beast::error_code e, int signo) {
    if (e) return;
    if (signo != SIGHUP) {
      acceptor.close();
      io.stop();
      return;
    }
    service.reload();
    signals.async_wait(onSignal);
  };
  signals.async_wait(onSignal);
  io.run();
  return 0;
}
