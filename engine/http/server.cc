// The Beast/Asio shopper server.
//
// Threading: one io_context per worker thread, each with its own acceptor on
// the shared port (SO_REUSEPORT), so a connection lives its whole life on the
// thread that accepted it and never needs a strand or a lock. Core callbacks
// that complete on another thread hop back with a post (Worker::postForeign).
//
// The hot path allocates nothing in steady state: the request parser is a
// Beast basic_parser that writes straight into a Request, the response (head
// and body) is appended to a string and sent with one write. Those, with the
// read buffer, are a connection's RequestState, lent by its worker's pool from
// a request's first byte until its answer is written: an idle keep-alive
// connection holds no buffer (it waits for readability alone), and the few
// states in use stay hot in the cache however many connections are open.
// The bytes-to-requests and answer-to-bytes parts live in http_codec.h, shared
// with ByteConnection (the same edge without a socket).
//
// Timeouts: each connection carries a deadline (idle between requests; the
// request head timeout once its first byte arrived; none while the core works
// on it); a per-worker sweep timer closes the overdue ones, so the hot path
// only stores an integer instead of re-arming a timer per request.
#include "engine/http/server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
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
#include "boost/asio/posix/basic_stream_descriptor.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"
#include "engine/core/strings.h"
#include "engine/http/http_codec.h"
#include "engine/http/metrics.h"
#include "engine/http/shopper_api.h"

namespace seckill::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using SteadyClock = std::chrono::steady_clock;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Executor>;
using Descriptor = asio::posix::basic_stream_descriptor<Executor>;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr int64_t kNever = INT64_MAX;
// How long a request may stay with the core before its connection is closed
// (a lost completion must not pin a connection forever).
constexpr int64_t kProcessingTimeoutNanos = 60'000'000'000;
// How long a closing connection keeps draining what the client still sends, so
// the kernel does not answer it with a RST that could destroy our last answer.
constexpr int64_t kLingerNanos = 1'000'000'000;
constexpr size_t kLingerMaxBytes = 1 << 20;

int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

int64_t toNanos(absl::Duration d) {
  return d == absl::InfiniteDuration() ? kNever : absl::ToInt64Nanoseconds(d);
}

int64_t addSaturated(int64_t a, int64_t b) { return b > kNever - a ? kNever : a + b; }

class Connection;

// What a connection holds only while it receives or answers a request: the bytes received
// and the parser, the request, its answer and the answer's bytes.
struct RequestState {
  explicit RequestState(CodecLimits limits) : reader(limits) {}

  // True iff it did not grow for an unusual request (a large head or body, a long answer),
  // so it is worth keeping for the next one.
  bool fitsPool() const {
    return reader.capacity() <= RequestReader::kReadSize && request.body.capacity() <= 4096 &&
           out.capacity() <= 16 * 1024;
  }

  RequestReader reader;
  Request request;
  Response response;
  std::string out;
};

// A worker's spare RequestStates, most recently returned first (its memory is the likeliest
// to be in the cache). Worker thread only.
class RequestStatePool {
 public:
  explicit RequestStatePool(CodecLimits limits) : limits_(limits) {}

  std::unique_ptr<RequestState> take() {
    if (spare_.empty()) return std::make_unique<RequestState>(limits_);
    std::unique_ptr<RequestState> s = std::move(spare_.back());
    spare_.pop_back();
    return s;
  }
  // Keeps `s` for a later take(), or frees it (the pool is full, or `s` grew too large).
  void give(std::unique_ptr<RequestState> s) {
    if (spare_.size() >= kMaxSpare || !s->fitsPool()) return;
    s->reader.reset();
    spare_.push_back(std::move(s));
  }

 private:
  // More than a worker has in use at once with synchronous answers (one or two); beyond it,
  // states are allocated and freed per request.
  static constexpr size_t kMaxSpare = 256;
  const CodecLimits limits_;
  std::vector<std::unique_ptr<RequestState>> spare_;
};

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
      : limits(limits),
        api(api),
        metrics(metrics),
        states(CodecLimits{.max_header_bytes = limits.max_header_bytes,
                           .max_body_bytes = limits.max_body_bytes}) {}

  void accept();
  void scheduleSweep();

  // Readiness of the connections that wait for their next request: an epoll set of the
  // worker's own, edge-triggered, each socket added once for its whole life (as nginx does).
  // Asio 1.74 re-arms a descriptor with an epoll_ctl on every async_wait, one system call per
  // request; this set is re-armed once per batch of ready connections. Without it (epoll
  // failed), connections wait through Asio.
  void startReadiness();
  // Adds `c`'s socket to the set; false if it could not (the connection waits through Asio).
  bool watch(Connection* c, int fd, uint64_t& token);
  void unwatch(uint64_t token, int fd);
  // Stops accepting and closes every connection.
  void closeAll();
  // Stops accepting and closes the connections that wait for a request; the others answer the
  // request they hold (or are receiving) and then close.
  void drain();
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
  RequestStatePool states;
  bool stopping = false;  // set by drain and closeAll
  bool closed_all = false;  // set by closeAll: nothing may be scheduled any more

 private:
  void onAccept(const error_code& ec, Socket socket);
  void onSweep(const error_code& ec);
  void armReadiness();
  void onReadiness(const error_code& ec);

  Timer sweep_{ioc};
  Timer accept_retry_{ioc};
  Descriptor readiness_{ioc};  // the epoll set, watched by Asio's reactor
  // The watched connections by slot; an event's token is slot | generation << 32, and a
  // slot's generation moves on when its connection leaves, so a late event finds no one.
  std::vector<Connection*> watched_;
  std::vector<uint32_t> watched_generation_;
  std::vector<uint32_t> free_slots_;
  Connection* head_ = nullptr;  // intrusive list of open connections

  std::mutex gate_mu_;
  bool gate_open_ = true;

  time_t date_second_ = -1;
  std::string date_line_;
};

// One client connection: reads requests one at a time, hands each to the
// API as an Exchange, writes the answer, and loops while keep-alive holds.
// Between requests it holds no RequestState (state_ is null).
class Connection final : public Exchange, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Worker> worker, Socket socket)
      : worker_(std::move(worker)), socket_(std::move(socket)) {}

  void start() {
    error_code ec;
    socket_.non_blocking(true, ec);
    if (ec) return close();
    // Once per connection: the key of ip-scoped rate rules.
    const auto peer = socket_.remote_endpoint(ec);
    if (!ec) remote_ip_ = peer.address().to_string();
    deadline_ = addSaturated(steadyNanos(), worker_->limits.idle_timeout);
    watched_ = worker_->watch(this, socket_.native_handle(), watch_token_);
    awaitRequest();
  }

  // The worker's readiness set saw bytes (or the end) arrive on the socket.
  void onReadinessEvent() {
    if (closed_) return;
    if (waiting_) {
      waiting_ = false;
      onReadable({});
    } else {
      maybe_readable_ = true;  // read when the connection next waits
    }
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
    if (watched_) worker_->unwatch(watch_token_, socket_.native_handle());
    waiting_ = false;
    error_code ignored;
    socket_.close(ignored);
    if (timer_) timer_->cancel();
    if (state_) {
      worker_->metrics.requestStateReturned();
      // The core may still write into a request it holds: then the state goes with the
      // connection. Otherwise nothing refers to it any more (the socket's reads are cancelled).
      if (!in_flight_) worker_->states.give(std::move(state_));
    }
  }

  int64_t deadline() const { return deadline_; }
  // True between a request's first byte and the end of writing its answer.
  bool busy() const { return head_started_ || in_flight_; }

  Request& request() override { return state_->request; }
  Response& response() override { return state_->response; }
  void finish() override {
    if (worker_->ioc.get_executor().running_in_this_thread()) {
      send();
    } else {
      worker_->postForeign([self = shared_from_this()] { self->send(); });
    }
  }
  // Called by the API on the worker thread (from handle()).
  void defer(absl::Duration delay, absl::AnyInvocable<void() &&> fn) override {
    if (!timer_) timer_ = std::make_unique<Timer>(worker_->ioc);
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
  // Idle between requests: gives the RequestState back and waits for the next request's
  // first bytes without a buffer.
  void awaitRequest();
  void onReadable(const error_code& ec);
  void takeState();
  void parseBuffered();
  // Asks for the rest of a request whose first bytes arrived (async_read_some into the
  // state's buffer), or, with none, goes idle (awaitRequest).
  void readMore();
  void onRead(const error_code& ec, size_t n);
  void onRequest();
  void onParseError(int status);
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
  // From a request's first byte until its answer is written (and while closing); null when
  // idle. Kept past close() while the core still holds the request.
  std::unique_ptr<RequestState> state_;
  std::unique_ptr<Timer> timer_;  // queue-mode waits (defer), made on first use
  std::string remote_ip_;         // the peer's address, copied into each request
  size_t written_ = 0;  // bytes of state_->out sent
  int64_t deadline_ = kNever;
  int64_t started_ = 0;        // when the current request was parsed
  size_t lingered_ = 0;        // bytes drained while lingering
  int nesting_ = 0;            // requests answered inline within one handler
  uint64_t watch_token_ = 0;   // in the worker's readiness set, when watched_
  bool watched_ = false;       // waits through the worker's readiness set (not Asio)
  bool waiting_ = false;       // watched_, idle, and reads when the set reports bytes
  // Bytes may be waiting: true until a read came back short or empty (a short read took
  // everything there was; bytes that come later bring an event of their own).
  bool maybe_readable_ = true;
  bool head_started_ = false;  // the current request's first byte arrived
  bool in_flight_ = false;     // a request is with the core or its answer is being written
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool closed_ = false;
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

void Worker::startReadiness() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return;  // connections wait through Asio
  error_code ec;
  readiness_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  armReadiness();
}

bool Worker::watch(Connection* c, int fd, uint64_t& token) {
  if (!readiness_.is_open()) return false;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(watched_.size());
    watched_.push_back(nullptr);
    watched_generation_.push_back(0);
  }
  token = uint64_t{watched_generation_[slot]} << 32 | slot;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = token;
  if (::epoll_ctl(readiness_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    free_slots_.push_back(slot);
    return false;
  }
  watched_[slot] = c;
  return true;
}

void Worker::unwatch(uint64_t token, int fd) {
  const auto slot = static_cast<uint32_t>(token);
  epoll_event ev{};  // ignored; non-null for kernels before 2.6.9
  (void)::epoll_ctl(readiness_.native_handle(), EPOLL_CTL_DEL, fd, &ev);
  watched_[slot] = nullptr;
  ++watched_generation_[slot];
  free_slots_.push_back(slot);
}

void Worker::armReadiness() {
  readiness_.async_wait(asio::posix::descriptor_base::wait_read,
                        [this](const error_code& ec) { onReadiness(ec); });
}

void Worker::onReadiness(const error_code& ec) {
  if (ec || closed_all) return;
  epoll_event events[64];
  int n;
  do {
    n = ::epoll_wait(readiness_.native_handle(), events, 64, 0);
  } while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; ++i) {
    const uint64_t token = events[i].data.u64;
    const auto slot = static_cast<uint32_t>(token);
    // A connection closed earlier in this batch left its slot with a new generation.
    if (slot >= watched_.size() || watched_[slot] == nullptr ||
        watched_generation_[slot] != static_cast<uint32_t>(token >> 32)) {
      continue;
    }
    // Held for the call: it may close the connection and drop the list's reference.
    std::shared_ptr<Connection> c = watched_[slot]->shared_from_this();
    c->onReadinessEvent();
  }
  if (!closed_all) armReadiness();
}

void Worker::scheduleSweep() {
  const int64_t shortest = std::min(limits.header_timeout, limits.idle_timeout);
  const int64_t interval = std::clamp<int64_t>(shortest / 4, 5'000'000, 500'000'000);
  sweep_.expires_after(std::chrono::nanoseconds(interval));
  sweep_.async_wait([this](const error_code& ec) { onSweep(ec); });
}

void Worker::onSweep(const error_code& ec) {
  // Runs on while draining (lingering connections still time out); closeAll() cancels it.
  // A sweep already due when closeAll() cancels the timer still runs, with no error: it must
  // not arm the timer again, or the worker's run() never returns and stop() waits forever.
  if (ec || closed_all) return;
  const int64_t now = steadyNanos();
  for (Connection* c = head_; c != nullptr;) {
    Connection* next = c->next;
    if (c->deadline() <= now) c->close();
    c = next;
  }
  scheduleSweep();
}

void Worker::drain() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  accept_retry_.cancel();
  for (Connection* c = head_; c != nullptr;) {
    Connection* next = c->next;
    if (!c->busy()) c->close();
    c = next;
  }
}

void Worker::closeAll() {
  stopping = true;
  closed_all = true;
  error_code ignored;
  acceptor.close(ignored);
  sweep_.cancel();
  accept_retry_.cancel();
  while (head_ != nullptr) head_->close();
  readiness_.cancel(ignored);
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

void Connection::awaitRequest() {
  if (state_) {
    worker_->states.give(std::move(state_));
    worker_->metrics.requestStateReturned();
  }
  if (watched_) {
    // No system call: the worker's readiness set reports the next bytes. Bytes that may be
    // there already are read on the next turn of the loop.
    if (maybe_readable_) {
      asio::post(worker_->ioc, [self = shared_from_this()] { self->onReadable({}); });
    } else {
      waiting_ = true;
    }
    return;
  }
  // A wait needs no buffer. It costs an epoll_ctl (Asio 1.74 re-arms the descriptor) where
  // async_read_some would first try a recv, which fails with EAGAIN when the client waits for
  // its answer before sending the next request: the same count of system calls (measured:
  // no less CPU per order, and 512 bytes more per idle connection; docs/benchmarks.md).
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->onReadable(ec); });
}

void Connection::onReadable(const error_code& ec) {
  if (closed_) return;
  if (ec) return close();
  takeState();
  error_code read_ec;
  const asio::mutable_buffer space = state_->reader.prepareRead();
  const size_t n = socket_.read_some(space, read_ec);  // non-blocking
  if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
    maybe_readable_ = false;
    return awaitRequest();
  }
  if (read_ec) return close();  // eof, reset: nobody to answer
  maybe_readable_ = n == space.size();
  state_->reader.commitRead(n);
  parseBuffered();
}

void Connection::takeState() {
  state_ = worker_->states.take();
  worker_->metrics.requestStateTaken();
  Request& req = state_->request;
  req.clear();
  req.remote_ip.assign(remote_ip_);
  req.user_header = worker_->api.userHeader();
}

void Connection::parseBuffered() {
  RequestReader& reader = state_->reader;
  switch (reader.parse(state_->request)) {
    case RequestReader::Event::kRequest:
      return onRequest();
    case RequestReader::Event::kParseError:
      return onParseError(reader.errorStatus());
    case RequestReader::Event::kNeedMore:
      break;
  }
  readMore();
}

void Connection::readMore() {
  RequestReader& reader = state_->reader;
  if (!reader.requestStarted()) return awaitRequest();
  if (!head_started_) {
    head_started_ = true;
    deadline_ = addSaturated(steadyNanos(), worker_->limits.header_timeout);
  }
  if (reader.wantsContinue()) return writeContinue();
  const asio::mutable_buffer space = reader.prepareRead();
  if (space.size() == 0) return onParseError(431);
  socket_.async_read_some(
      space, [self = shared_from_this()](const error_code& ec, size_t n) { self->onRead(ec, n); });
}

void Connection::onRead(const error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) return close();  // eof, reset, aborted: nobody to answer
  maybe_readable_ = true;  // Asio's read: whether it drained the socket is not known here
  state_->reader.commitRead(n);
  parseBuffered();
}

void Connection::writeContinue() {
  state_->reader.continueSent();
  asio::async_write(socket_, asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close();
                      self->parseBuffered();
                    });
}

void Connection::onRequest() {
  keep_alive_ = state_->reader.keepAlive();
  // The core has it now: client timeouts do not apply, a processing one does.
  started_ = steadyNanos();
  deadline_ = addSaturated(started_, kProcessingTimeoutNanos);
  in_flight_ = true;
  state_->response.clear();
  worker_->api.handle(std::shared_ptr<Exchange>(shared_from_this()));
}

void Connection::onParseError(int status) {
  keep_alive_ = false;
  started_ = steadyNanos();
  state_->response.clear();
  ShopperApi::answerParseError(state_->response, status);
  send();
}

void Connection::send() {
  if (closed_) return;
  const int64_t now = steadyNanos();
  const Response& res = state_->response;
  worker_->metrics.recordRequest(res.route, res.status,
                                 static_cast<uint64_t>(now - started_) / 1000);
  // The client must take the answer, and then send the next request, within
  // the idle timeout.
  deadline_ = addSaturated(now, worker_->limits.idle_timeout);
  close_after_write_ = res.close || !keep_alive_ || worker_->stopping;
  serialize(close_after_write_);
  written_ = 0;
  writeNow();
}

void Connection::serialize(bool close) {
  serializeResponse(state_->response, state_->request, close, worker_->dateHeader(), state_->out);
}

void Connection::writeNow() {
  const std::string& out = state_->out;
  while (written_ < out.size()) {
    error_code ec;
    written_ += socket_.write_some(asio::buffer(out.data() + written_, out.size() - written_), ec);
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
  in_flight_ = false;
  if (close_after_write_) return linger();
  state_->request.clear();
  head_started_ = false;
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
  state_->reader.discard();
  onLinger({}, 0);
}

void Connection::onLinger(const error_code& ec, size_t n) {
  if (closed_) return;
  lingered_ += n;
  if (ec || lingered_ > kLingerMaxBytes) return close();
  state_->reader.discard();
  socket_.async_read_some(
      state_->reader.prepareRead(),
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
  void drain(absl::Duration timeout) override;

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
    w->startReadiness();
    w->accept();
    w->scheduleSweep();
    threads_.emplace_back([w] { w->ioc.run(); });
  }
}

void ServerImpl::drain(absl::Duration timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || !started_) return;
    for (const auto& w : workers_) asio::post(w->ioc, [w = w.get()] { w->drain(); });
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout));
  while (metrics_->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
