// The Beast/Asio shopper server.
//
// Threading: one io_context per worker thread, each with its own acceptor on
// the shared port (SO_REUSEPORT), so a connection lives its whole life on the
// thread that accepted it and never needs a strand or a lock. Core callbacks
// that complete on another thread hop back with a post (Worker::postForeign).
//
// The hot path allocates nothing in steady state: the request parser is a
// Beast basic_parser that writes straight into a per-connection Request, the
// response (head and body) is appended to a per-connection string and sent
// with one write.
//
// Timeouts: each connection carries a deadline (idle between requests; the
// request head timeout once its first byte arrived; none while the core works
// on it); a per-worker sweep timer closes the overdue ones, so the hot path
// only stores an integer instead of re-arming a timer per request.
#include "engine/http/server.h"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/basic_socket_acceptor.hpp"
#include "boost/asio/basic_stream_socket.hpp"
#include "boost/asio/basic_waitable_timer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/string.hpp"
// GCC 12 with -fsanitize=address sees Beast's optional<> content length as
// maybe-uninitialized (a false positive inside the header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "boost/beast/http/basic_parser.hpp"
#pragma GCC diagnostic pop
#include "boost/beast/http/error.hpp"
#include "engine/core/strings.h"
#include "engine/http/json_format.h"
#include "engine/http/metrics.h"
#include "engine/http/shopper_api.h"

namespace seckill::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using SteadyClock = std::chrono::steady_clock;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Executor>;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr int64_t kNever = INT64_MAX;
// How long a request may stay with the core before its connection is closed
// (a lost completion must not pin a connection forever).
constexpr int64_t kProcessingTimeoutNanos = 60'000'000'000;
// How long a closing connection keeps draining what the client still sends, so
// the kernel does not answer it with a RST that could destroy our last answer.
constexpr int64_t kLingerNanos = 1'000'000'000;
constexpr size_t kLingerMaxBytes = 1 << 20;
constexpr size_t kMinReadSize = 4096;
constexpr size_t kMaxReadSize = 65536;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

int64_t toNanos(absl::Duration d) {
  return d == absl::InfiniteDuration() ? kNever : absl::ToInt64Nanoseconds(d);
}

int64_t addSaturated(int64_t a, int64_t b) { return b > kNever - a ? kNever : a + b; }

// Parses a request straight into a (reused) Request, keeping only what the
// API reads: no header table is built.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}
  bool expectsContinue() const { return expect_continue_; }

 private:
  void on_request_impl(bhttp::verb method, beast::string_view method_str,
                       beast::string_view target, int version, error_code& /*ec*/) override {
    req_.method_name.assign(method_str.data(), method_str.size());
    req_.method = method == bhttp::verb::get    ? Method::kGet
                  : method == bhttp::verb::post ? Method::kPost
                                                : Method::kOther;
    req_.target.assign(target.data(), target.size());
    req_.version = version;
  }
  void on_response_impl(int, beast::string_view, int, error_code&) override {}
  void on_field_impl(bhttp::field name, beast::string_view name_str, beast::string_view value,
                     error_code& /*ec*/) override {
    if (name == bhttp::field::expect) {
      expect_continue_ = beast::iequals(value, "100-continue");
    } else if (name_str.size() == 9 && beast::iequals(name_str, "x-user-id")) {
      if (++req_.user_id_count == 1) req_.user_id.assign(value.data(), value.size());
    } else if (name_str.size() == 15 && beast::iequals(name_str, "idempotency-key")) {
      if (!req_.has_idempotency_key) req_.idempotency_key.assign(value.data(), value.size());
      req_.has_idempotency_key = true;
    } else if (name != bhttp::field::host && name != bhttp::field::content_length &&
               name != bhttp::field::connection) {
      // Kept for header-scoped rate rules.
      req_.addHeader(std::string_view(name_str.data(), name_str.size()),
                     std::string_view(value.data(), value.size()));
    }
  }
  void on_header_impl(error_code& /*ec*/) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& length,
                         error_code& /*ec*/) override {
    if (length) req_.body.reserve(static_cast<size_t>(*length));  // <= body_limit
  }
  size_t on_body_impl(beast::string_view body, error_code& /*ec*/) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code& /*ec*/) override {}

  Request& req_;
  bool expect_continue_ = false;
};

class Connection;

// Knobs a connection reads, in nanoseconds and bytes.
struct ConnectionLimits {
  int64_t header_timeout;
  int64_t idle_timeout;
  uint32_t max_header_bytes;
  uint64_t max_body_bytes;
  size_t max_connections;
};

// One worker thread's world: its io_context, acceptor, connections and sweep
// timer. Everything but postForeign() runs on the worker thread (or on the
// stopping thread once the worker thread has exited). Shared with its
// connections, so a connection kept alive by a late core callback never
// outlives the io_context its socket belongs to.
class Worker : public std::enable_shared_from_this<Worker> {
 public:
  Worker(const ConnectionLimits& limits, ShopperApi& api, HttpMetrics& metrics)
      : limits(limits), api(api), metrics(metrics) {}

  void accept();
  void scheduleSweep();
  // Stops accepting and closes every connection.
  void closeAll();
  // Closes the gate: postForeign() drops its handler from now on.
  void closeGate() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    gate_open_ = false;
  }

  // Runs `handler` on this worker. Callable from any thread; once the worker
  // has stopped, the handler is dropped instead.
  template <typename Handler>
  void postForeign(Handler&& handler) {
    std::lock_guard<std::mutex> lock(gate_mu_);
    if (gate_open_) asio::post(ioc, std::forward<Handler>(handler));
  }

  // The list of open connections owns them: a connection lives at least
  // until close() unlinks it, whatever else holds (or drops) a reference.
  void link(std::shared_ptr<Connection> c);
  void unlink(Connection* c);

  // "Date: <IMF-fixdate>\r\n", refreshed once a second.
  std::string_view dateHeader();

  // Declared first: destroyed last, after every socket and timer.
  asio::io_context ioc{1};
  Acceptor acceptor{ioc};
  const ConnectionLimits limits;
  ShopperApi& api;        // valid while the server lives (not touched after closeAll)
  HttpMetrics& metrics;   // idem
  bool stopping = false;  // set by closeAll

 private:
  void onAccept(const error_code& ec, Socket socket);
  void onSweep(const error_code& ec);

  Timer sweep_{ioc};
  Timer accept_retry_{ioc};
  Connection* head_ = nullptr;  // intrusive list of open connections

  std::mutex gate_mu_;
  bool gate_open_ = true;

  time_t date_second_ = -1;
  std::string date_line_;
};

// One client connection: reads requests one at a time, hands each to the
// API as an Exchange, writes the answer, and loops while keep-alive holds.
class Connection final : public Exchange, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Worker> worker, Socket socket)
      : worker_(std::move(worker)),
        socket_(std::move(socket)),
        buffer_(worker_->limits.max_header_bytes + kMaxReadSize) {}

  void start() {
    error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return close();
    // Once per connection: the key of ip-scoped rate rules.
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) request_.remote_ip = peer.address().to_string();
    deadline_ = addSaturated(steadyNanos(), worker_->limits.idle_timeout);
    parseBuffered();
  }

  // Closes the socket; pending operations complete with operation_aborted.
  // Worker thread only. May release the last reference: the caller must
  // hold one to touch the connection afterwards.
  void close() {
    if (closed_) return;
    closed_ = true;
    std::shared_ptr<Connection> keep = std::move(registered);
    worker_->unlink(this);
    worker_->metrics.connectionClosed();
    error_code ignored;
    socket_.close(ignored);
    if (timer_) timer_->cancel();
  }

  int64_t deadline() const { return deadline_; }

  Request& request() override { return request_; }
  Response& response() override { return response_; }
  void finish() override {
    if (worker_->ioc.get_executor().running_in_this_thread()) {
      send();
    } else {
      worker_->postForeign([self = shared_from_this()] { self->send(); });
    }
  }
  // Called by the API on the worker thread (from handle()).
  void defer(absl::Duration delay, absl::AnyInvocable<void() &&> fn) override {
    if (!timer_) timer_.emplace(worker_->ioc);
    timer_->expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(delay)));
    timer_->async_wait(
        [self = shared_from_this(), fn = std::move(fn)](const error_code& ec) mutable {
          if (ec || self->closed_) return;
          std::move(fn)();
        });
  }

  // The worker's list of open connections (worker thread only).
  std::shared_ptr<Connection> registered;
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  void parseBuffered();
  // Asks for more bytes. Asio (Boost 1.74) tries the socket at once, so right
  // after an answer this costs one recv that fails with EAGAIN before the wait
  // for readability (nginx skips it: its read was short). Waiting without
  // that try (async_wait) would cost an epoll_ctl instead, so it stays.
  void readMore();
  void onRead(const error_code& ec, size_t n);
  void onRequest();
  void onParseError(const error_code& ec);
  void send();
  void serialize(bool close);
  // Writes out_ from `written_` on, without blocking; waits for writability
  // when the socket is full.
  void writeNow();
  void afterWrite();
  void writeContinue();
  void linger();
  void onLinger(const error_code& ec, size_t n);

  std::shared_ptr<Worker> worker_;  // declared first: released after the socket
  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::optional<Timer> timer_;  // queue-mode waits (defer)
  Request request_;
  Response response_;
  std::string out_;
  size_t written_ = 0;  // bytes of out_ sent
  int64_t deadline_ = kNever;
  int64_t started_ = 0;        // when the current request was parsed
  size_t lingered_ = 0;        // bytes drained while lingering
  int nesting_ = 0;            // requests answered inline within one handler
  bool head_started_ = false;  // the current request's first byte arrived
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool closed_ = false;
  bool continue_sent_ = false;
};

// --- Worker ---

void Worker::link(std::shared_ptr<Connection> owned) {
  Connection* c = owned.get();
  c->registered = std::move(owned);
  c->prev = nullptr;
  c->next = head_;
  if (head_ != nullptr) head_->prev = c;
  head_ = c;
}

void Worker::unlink(Connection* c) {
  if (c->prev != nullptr) c->prev->next = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  if (head_ == c) head_ = c->next;
  c->prev = c->next = nullptr;
}

void Worker::accept() {
  acceptor.async_accept(
      [this](const error_code& ec, Socket socket) { onAccept(ec, std::move(socket)); });
}

void Worker::onAccept(const error_code& ec, Socket socket) {
  if (stopping || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or memory: back off instead of spinning on accept.
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory || ec.value() == ENFILE) {
      accept_retry_.expires_after(std::chrono::milliseconds(50));
      accept_retry_.async_wait([this](const error_code& e) {
        if (!e && !stopping) accept();
      });
    } else {
      accept();
    }
    return;
  }
  if (static_cast<size_t>(std::max<int64_t>(metrics.connections(), 0)) >= limits.max_connections) {
    error_code ignored;
    socket.close(ignored);
    accept();
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<Connection>(shared_from_this(), std::move(socket));
  link(c);
  metrics.connectionOpened();
  c->start();
  accept();
}

void Worker::scheduleSweep() {
  const int64_t shortest = std::min(limits.header_timeout, limits.idle_timeout);
  const int64_t interval = std::clamp<int64_t>(shortest / 4, 5'000'000, 500'000'000);
  sweep_.expires_after(std::chrono::nanoseconds(interval));
  sweep_.async_wait([this](const error_code& ec) { onSweep(ec); });
}

void Worker::onSweep(const error_code& ec) {
  if (ec || stopping) return;
  const int64_t now = steadyNanos();
  for (Connection* c = head_; c != nullptr;) {
    Connection* next = c->next;
    if (c->deadline() <= now) c->close();
    c = next;
  }
  scheduleSweep();
}

void Worker::closeAll() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  sweep_.cancel();
  accept_retry_.cancel();
  while (head_ != nullptr) head_->close();
}

std::string_view Worker::dateHeader() {
  const time_t now = ::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    struct tm tm;
    ::gmtime_r(&now, &tm);
    char buf[64];
    size_t n = ::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_line_.assign(buf, n);
  }
  return date_line_;
}

// --- Connection ---

void Connection::parseBuffered() {
  if (!parser_) {
    parser_.emplace(request_);
    parser_->header_limit(worker_->limits.max_header_bytes);
    parser_->body_limit(worker_->limits.max_body_bytes);
    parser_->eager(true);
  }
  while (buffer_.size() > 0) {
    error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) return onParseError(ec);
    if (parser_->is_done()) return onRequest();
    if (used == 0) break;
  }
  readMore();
}

void Connection::readMore() {
  if (!head_started_ && (buffer_.size() > 0 || parser_->got_some())) {
    head_started_ = true;
    deadline_ = addSaturated(steadyNanos(), worker_->limits.header_timeout);
  }
  if (parser_->is_header_done() && parser_->expectsContinue() && !continue_sent_) {
    return writeContinue();
  }
  const size_t room = buffer_.max_size() - buffer_.size();
  const size_t size = std::min(std::max(kMinReadSize, buffer_.capacity() - buffer_.size()),
                               std::min(room, kMaxReadSize));
  if (size == 0) return onParseError(bhttp::error::header_limit);
  socket_.async_read_some(
      buffer_.prepare(size),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->onRead(ec, n); });
}

void Connection::onRead(const error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) return close();  // eof, reset, aborted: nobody to answer
  buffer_.commit(n);
  parseBuffered();
}

void Connection::writeContinue() {
  continue_sent_ = true;
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close();
                      self->parseBuffered();
                    });
}

void Connection::onRequest() {
  keep_alive_ = parser_->keep_alive();
  parser_.reset();
  // The core has it now: client timeouts do not apply, a processing one does.
  started_ = steadyNanos();
  deadline_ = addSaturated(started_, kProcessingTimeoutNanos);
  response_.clear();
  worker_->api.handle(std::shared_ptr<Exchange>(shared_from_this()));
}

void Connection::onParseError(const error_code& ec) {
  const int status = ec == bhttp::error::header_limit ? 431
                     : ec == bhttp::error::body_limit ? 413
                                                      : 400;
  keep_alive_ = false;
  parser_.reset();
  started_ = steadyNanos();
  response_.clear();
  ShopperApi::answerParseError(response_, status);
  send();
}

void Connection::send() {
  if (closed_) return;
  const int64_t now = steadyNanos();
  worker_->metrics.recordRequest(response_.route, response_.status,
                                 static_cast<uint64_t>(now - started_) / 1000);
  // The client must take the answer, and then send the next request, within
  // the idle timeout.
  deadline_ = addSaturated(now, worker_->limits.idle_timeout);
  close_after_write_ = response_.close || !keep_alive_ || worker_->stopping;
  serialize(close_after_write_);
  written_ = 0;
  writeNow();
}

void Connection::serialize(bool close) {
  const Response& r = response_;
  out_.clear();
  out_.append("HTTP/1.1 ");
  appendInt(out_, r.status);
  out_.push_back(' ');
  out_.append(reasonPhrase(r.status));
  out_.append("\r\n");
  out_.append(worker_->dateHeader());
  out_.append(r.content_type == ContentType::kJson
                  ? std::string_view("Content-Type: application/json\r\n")
                  : std::string_view("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  out_.append("Content-Length: ");
  appendInt(out_, static_cast<int64_t>(r.body.size()));
  out_.append("\r\n");
  if (!r.allow.empty()) {
    out_.append("Allow: ");
    out_.append(r.allow);
    out_.append("\r\n");
  }
  if (r.retry_after_s > 0) {
    out_.append("Retry-After: ");
    appendInt(out_, r.retry_after_s);
    out_.append("\r\n");
  }
  if (!r.ratelimit_policy.empty()) {
    out_.append("RateLimit-Policy: ");
    out_.append(r.ratelimit_policy);
    out_.append("\r\nRateLimit: ");
    out_.append(r.ratelimit);
    out_.append("\r\n");
  }
  if (r.replayed) out_.append("Idempotent-Replayed: true\r\n");
  if (close) {
    out_.append("Connection: close\r\n");
  } else if (request_.version == 10) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  out_.append(r.body);
}

void Connection::writeNow() {
  while (written_ < out_.size()) {
    error_code ec;
    written_ +=
        socket_.write_some(asio::buffer(out_.data() + written_, out_.size() - written_), ec);
    if (!ec) continue;
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      socket_.async_wait(asio::socket_base::wait_write,
                         [self = shared_from_this()](const error_code& e) {
                           if (self->closed_) return;
                           if (e) return self->close();
                           self->writeNow();
                         });
      return;
    }
    return close();
  }
  afterWrite();
}

void Connection::afterWrite() {
  if (close_after_write_) return linger();
  request_.clear();
  head_started_ = false;
  continue_sent_ = false;
  // A pipelined request may be waiting in the buffer. Answering it inline
  // nests a stack frame per request, so after a few go through the queue.
  if (nesting_ >= 8) {
    asio::post(worker_->ioc, [self = shared_from_this()] {
      if (!self->closed_) self->parseBuffered();
    });
    return;
  }
  ++nesting_;
  parseBuffered();
  --nesting_;
}

void Connection::linger() {
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  deadline_ = addSaturated(steadyNanos(), std::min(kLingerNanos, worker_->limits.idle_timeout));
  buffer_.clear();
  onLinger({}, 0);
}

void Connection::onLinger(const error_code& ec, size_t n) {
  if (closed_) return;
  lingered_ += n;
  if (ec || lingered_ > kLingerMaxBytes) return close();
  buffer_.clear();
  socket_.async_read_some(
      buffer_.prepare(kMinReadSize),
      [self = shared_from_this()](const error_code& e, size_t m) { self->onLinger(e, m); });
}

// --- Server ---

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, ShopperApiDeps deps)
      : options_(std::move(options)),
        metrics_(std::make_unique<HttpMetrics>()),
        api_(std::make_unique<ShopperApi>(std::move(deps), *metrics_)) {}
  ~ServerImpl() override { stop(); }

  absl::Status bind();
  uint16_t port() const override { return port_; }
  void start() override;
  void stop() override;
  HttpMetrics& metrics() override { return *metrics_; }

 private:
  ServerOptions options_;
  std::unique_ptr<HttpMetrics> metrics_;
  std::unique_ptr<ShopperApi> api_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool started_ = false;
  bool stopped_ = false;
};

absl::Status ServerImpl::bind() {
  error_code ec;
  const std::string host = options_.host == "localhost" ? "127.0.0.1" : options_.host;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen host \"", options_.host, "\" is not an IP address"));
  }
  auto where = [&] { return absl::StrCat(options_.host, ":", port_); };
  auto failed = [&](std::string_view what, const error_code& e) {
    return absl::UnavailableError(absl::StrCat(av(what), " ", where(), ": ", e.message()));
  };

  port_ = options_.port;
  const ConnectionLimits limits{
      .header_timeout = toNanos(options_.header_timeout),
      .idle_timeout = toNanos(options_.idle_timeout),
      .max_header_bytes =
          static_cast<uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)),
      .max_body_bytes = options_.max_body_bytes,
      .max_connections = options_.max_connections,
  };

  // SO_REUSEPORT would let us silently share a port another process already
  // listens on; probe it with a plain bind first.
  if (port_ != 0) {
    asio::io_context probe_ctx(1);
    tcp::socket probe(probe_ctx);
    probe.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(tcp::endpoint(address, port_), ec);
    if (ec) return failed("bind", ec);
  }

  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_shared<Worker>(limits, *api_, *metrics_);
    Acceptor& a = worker->acceptor;
    const tcp::endpoint endpoint(address, port_);
    a.open(endpoint.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.set_option(ReusePort(true), ec);
    if (ec) return failed("socket", ec);
    a.bind(endpoint, ec);
    if (ec) return failed("bind", ec);
    a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return failed("listen", ec);
    if (port_ == 0) port_ = a.local_endpoint().port();
    workers_.push_back(std::move(worker));
  }
  return absl::OkStatus();
}

void ServerImpl::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  for (const auto& w : workers_) {
    w->accept();
    w->scheduleSweep();
    threads_.emplace_back([w] { w->ioc.run(); });
  }
}

void ServerImpl::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (const auto& w : workers_) asio::post(w->ioc, [w = w.get()] { w->closeAll(); });
  if (started_) {
    for (auto& t : threads_) t.join();
  } else {
    for (const auto& w : workers_) w->ioc.run();
  }
  // Answers that arrived from other threads between the last handler and the
  // gate closing are run here; they find their connections closed.
  for (const auto& w : workers_) {
    w->closeGate();
    w->ioc.restart();
    w->ioc.poll();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::create(ServerOptions options, ShopperApiDeps deps) {
  auto server = std::make_unique<ServerImpl>(std::move(options), std::move(deps));
  if (absl::Status s = server->bind(); !s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace seckill::http
