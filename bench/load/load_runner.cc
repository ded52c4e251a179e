#include "bench/load/load_runner.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/load/api_replies.h"
#include "bench/load/blocking_client.h"
#include "bench/load/http_wire.h"
#include "bench/load/text_parse.h"
#include "bench/load/traffic_shape.h"
#include "bench/load/user_source.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace seckill::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Connections are opened this long before second 0, so the first arrivals
// do not wait for the handshakes.
constexpr auto kWarmUp = std::chrono::milliseconds(250);
// How long the checks wait for the engine's /metrics order counts to catch up.
constexpr auto kCountsSettle = std::chrono::seconds(3);
// Before reconnecting after a failed connect or a broken connection.
constexpr auto kReconnectDelay = std::chrono::milliseconds(50);
// What one read asks for: an answer of the engine fits (its bodies are small JSON).
constexpr size_t kReadSize = 2048;

// How often a worker looks for connections past their deadline: a tenth of
// the timeout, so a timeout fires at most 10 % late, between 1 ms and 100 ms.
Clock::duration sweepInterval(std::chrono::milliseconds timeout) {
  return std::clamp<Clock::duration>(timeout / 10, std::chrono::milliseconds(1),
                                     std::chrono::milliseconds(100));
}

Clock::duration secondsToDuration(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// What every worker reads and nobody writes once the traffic starts.
struct TrafficPlan {
  const LoadOptions* options = nullptr;
  std::optional<ArrivalSchedule> schedule;  // open loop
  tcp::resolver::results_type endpoints;
  std::string host_header;
  std::string order_target;  // /api/v1/sales/{sale}/orders
  std::string token_target;  // /api/v1/sales/{sale}/tokens
  std::string user_prefix;
  uint64_t seed = 0;
  CredentialMinter credentials;  // what each request says about its shopper
  std::chrono::milliseconds timeout{0};
  Clock::time_point start;           // second 0
  Clock::time_point end;             // no attempt starts from here on
  Clock::time_point drain_deadline;  // connections still busy are cut off
};

// A worker's counters for the progress line: written by the worker, read
// (relaxed, approximately) by the main thread.
struct alignas(64) LiveCounters {
  std::atomic<int64_t> offered{0};
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> queued{0};
  std::array<std::atomic<int64_t>, kStatusClassCount> outcomes{};
};

void bump(std::atomic<int64_t>& c, int64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

// One attempt: due at `due`, counted in row `second`.
struct Attempt {
  Clock::time_point due;
  int64_t second = 0;
};

class Worker;

// One keep-alive connection of a worker. Runs one attempt at a time: the
// token request (with --token), the order, then the payment when chosen.
// Lives on its worker's thread only. Its request, read buffer and body are
// reused from one exchange to the next, and its timeout is a deadline that
// the worker's sweep enforces: no timer is armed per operation.
class Connection {
 public:
  Connection(Worker& worker, asio::io_context& ioc)
      : worker_(worker), socket_(ioc), backoff_(ioc) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect();
  void start(const Attempt& attempt);
  // Closes now; an attempt in flight ends as an error. No reconnect follows
  // once the worker stopped sending.
  void shutdown();
  // The worker's sweep: a connect or exchange past its deadline is cut off
  // (it fails as a timeout, without a retry).
  void sweep(Clock::time_point now);
  bool busy() const {
    return phase_ == Phase::kToken || phase_ == Phase::kOrder || phase_ == Phase::kPay;
  }

 private:
  enum class Phase : uint8_t { kDown, kConnecting, kIdle, kToken, kOrder, kPay, kBackoff, kClosed };

  // Connects; then the connection is idle, or (retrying_) resends request_.
  void open();
  void send(std::string_view target, std::string_view idempotency_key);
  void write();
  void read();
  void parse();
  // True once a byte of the answer to the request in flight has come.
  bool answerStarted() const {
    return buffer_.size() > 0 || (reply_.has_value() && reply_->got_some());
  }
  void exchangeFailed();
  void onAnswer();
  void endAttempt(StatusClass c);
  void afterExchange(bool keep_alive);
  void fail();
  void closeStream();
  void reconnectLater();

  Worker& worker_;
  tcp::socket socket_;
  asio::steady_timer backoff_;
  Clock::time_point deadline_;  // of the connect or the request in flight
  std::string request_;         // the request in flight, kept for a retry
  beast::flat_buffer buffer_;   // bytes read and not parsed yet
  std::string body_;            // the answer's body
  std::optional<ReplyParser> reply_;
  Phase phase_ = Phase::kDown;
  bool attempt_open_ = false;
  bool reused_ = false;     // an answer came on this connection since it was opened
  bool retrying_ = false;   // reopening to resend request_
  bool timed_out_ = false;  // the sweep cut it off
  Attempt attempt_;
  std::string user_;
  std::string credential_user_;  // whose credential_ is
  Credential credential_;
  size_t paying_ = 0;  // index in the worker's created orders of the order being paid
};

// One thread with its own io_context and connections. Open loop: takes the
// arrivals k = index, index + threads, ... of the schedule, queues them when
// due and hands them to idle connections. Closed loop: every idle connection
// starts the next attempt at once.
class Worker {
 public:
  Worker(const TrafficPlan& plan, int index)
      : plan_(plan),
        index_(index),
        arrival_timer_(ioc_),
        phase_timer_(ioc_),
        sweep_timer_(ioc_),
        users_(plan.options->users, plan.user_prefix, index, plan.seed),
        pays_(plan.options->pay_fraction),
        next_arrival_(index) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The thread body: returns once every connection is closed.
  void run();

  const TrafficPlan& plan() const { return plan_; }
  RunStats& stats() { return stats_; }
  std::vector<CreatedOrder>& created() { return created_; }
  LiveCounters& live() { return live_; }
  bool sending() const { return sending_; }
  std::string nextUser() { return users_.next(); }
  bool payNext() { return pays_.payNext(); }

  // A connection is ready for the next attempt.
  void becameIdle(Connection& c);
  // A connection closed for good (after the end).
  void closedForGood();

 private:
  void onStart();
  void onEnd();
  void armSweep();
  // Every connection is closed: stops the timers, so run() returns.
  void finish();
  void armArrivalTimer();
  void onArrivals();
  void dispatch();
  int64_t secondOf(Clock::time_point t) const;

  const TrafficPlan& plan_;
  const int index_;
  asio::io_context ioc_{1};
  asio::steady_timer arrival_timer_;
  asio::steady_timer phase_timer_;  // start, end, drain deadline in turn
  asio::steady_timer sweep_timer_;  // the connections' deadlines
  std::vector<std::unique_ptr<Connection>> connections_;
  std::deque<Attempt> queue_;  // due, waiting for a connection
  std::vector<Connection*> idle_;
  UserSource users_;
  PayDecider pays_;
  int64_t next_arrival_;
  bool started_ = false;
  bool sending_ = true;
  bool finished_ = false;
  RunStats stats_;
  std::vector<CreatedOrder> created_;
  LiveCounters live_;
};

// ---- Connection

void Connection::connect() {
  phase_ = Phase::kConnecting;
  deadline_ = Clock::now() + worker_.plan().timeout;
  open();
}

void Connection::open() {
  reused_ = false;
  timed_out_ = false;
  asio::async_connect(socket_, worker_.plan().endpoints,
                      [this](beast::error_code ec, const tcp::endpoint&) {
                        if (phase_ == Phase::kClosed) return;  // shut down meanwhile
                        if (ec) {
                          ++worker_.stats().side().connect_failures;
                          if (retrying_) {
                            retrying_ = false;
                            return fail();
                          }
                          closeStream();
                          return reconnectLater();
                        }
                        ++worker_.stats().side().connects;
                        socket_.set_option(tcp::no_delay(true), ec);
                        if (retrying_) {
                          retrying_ = false;
                          return write();
                        }
                        phase_ = Phase::kIdle;
                        worker_.becameIdle(*this);
                      });
}

void Connection::start(const Attempt& attempt) {
  attempt_ = attempt;
  attempt_open_ = true;
  worker_.stats().addSent(attempt.second);
  bump(worker_.live().sent);
  user_ = worker_.nextUser();
  if (worker_.plan().options->token) {
    phase_ = Phase::kToken;
    send(worker_.plan().token_target, {});
  } else {
    phase_ = Phase::kOrder;
    send(worker_.plan().order_target, {});
  }
}

void Connection::send(std::string_view target, std::string_view idempotency_key) {
  // The shopper's credential, minted once per user (a shopper reuses the token of its login).
  if (credential_user_ != user_) {
    credential_ = worker_.plan().credentials.forUser(user_);
    credential_user_ = user_;
  }
  writePostRequest(request_, target,
                   {.host = worker_.plan().host_header,
                    .credential_name = credential_.name,
                    .credential_value = credential_.value,
                    .idempotency_key = idempotency_key});
  deadline_ = Clock::now() + worker_.plan().timeout;
  write();
}

void Connection::write() {
  reply_.emplace(body_);
  reply_->eager(true);
  asio::async_write(socket_, asio::buffer(request_), [this](beast::error_code ec, size_t) {
    if (ec) return exchangeFailed();
    // Bytes already buffered (a server that answered early) are parsed first.
    if (buffer_.size() > 0) return parse();
    read();
  });
}

void Connection::read() {
  socket_.async_read_some(buffer_.prepare(kReadSize), [this](beast::error_code ec, size_t n) {
    buffer_.commit(n);
    if (ec == asio::error::eof && reply_->got_some()) {
      ec = {};
      reply_->put_eof(ec);  // an answer whose body ends with the connection
      if (!ec) return onAnswer();
    }
    if (ec) return exchangeFailed();
    parse();
  });
}

void Connection::parse() {
  for (;;) {
    beast::error_code ec;
    buffer_.consume(reply_->put(buffer_.data(), ec));
    if (ec == http::error::need_more) break;
    if (ec) return fail();  // not HTTP: no answer
    if (reply_->is_done()) return onAnswer();
    if (buffer_.size() == 0) break;
  }
  read();
}

// A request that failed on a connection which had carried an answer before,
// with not a byte of its own answer come, most likely met a connection the
// engine had closed as idle: it is sent once more on a fresh connection, as
// browsers and curl do. A timeout or a fresh connection is not retried.
void Connection::exchangeFailed() {
  if (phase_ == Phase::kClosed || !reused_ || timed_out_ || answerStarted()) return fail();
  ++worker_.stats().side().retried;
  retrying_ = true;
  closeStream();
  open();
}

void Connection::onAnswer() {
  reused_ = true;
  const int status = reply_->status();
  const bool keep_alive = reply_->keep_alive();
  switch (phase_) {
    case Phase::kToken: {
      absl::StatusOr<std::string> token =
          status == 200 ? parseTokenJson(body_) : absl::StatusOr<std::string>("");
      if (status == 200 && token.ok() && keep_alive) {
        phase_ = Phase::kOrder;
        return send(worker_.plan().order_target, *token);
      }
      ++worker_.stats().side().token_failures;
      endAttempt(status == 200 ? StatusClass::kOther : classifyStatus(status));
      return afterExchange(keep_alive);
    }
    case Phase::kOrder: {
      if (reply_->replayed()) ++worker_.stats().side().replayed;
      endAttempt(classifyStatus(status));
      if (status != 201) return afterExchange(keep_alive);
      absl::StatusOr<std::string> id = parseOrderIdJson(body_);
      std::vector<CreatedOrder>& created = worker_.created();
      created.push_back({.user_id = user_, .order_id = id.ok() ? *id : std::string()});
      if (!id.ok() || !worker_.payNext()) return afterExchange(keep_alive);
      if (!keep_alive) {
        ++worker_.stats().side().pays_failed;
        return afterExchange(false);
      }
      paying_ = created.size() - 1;
      phase_ = Phase::kPay;
      return send(absl::StrCat("/api/v1/orders/", *id, "/pay"), {});
    }
    case Phase::kPay:
      if (status == 200) {
        ++worker_.stats().side().pays_ok;
        worker_.created()[paying_].paid = true;
      } else {
        ++worker_.stats().side().pays_failed;
      }
      return afterExchange(keep_alive);
    default:
      return;  // an answer after shutdown()
  }
}

void Connection::endAttempt(StatusClass c) {
  const auto latency =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt_.due);
  worker_.stats().addOutcome(attempt_.second, c,
                             static_cast<uint64_t>(std::max<int64_t>(0, latency.count())));
  bump(worker_.live().outcomes[static_cast<size_t>(c)]);
  attempt_open_ = false;
}

void Connection::afterExchange(bool keep_alive) {
  if (keep_alive) {
    phase_ = Phase::kIdle;
    return worker_.becameIdle(*this);
  }
  closeStream();
  if (worker_.sending()) return connect();
  phase_ = Phase::kClosed;
  worker_.closedForGood();
}

void Connection::fail() {
  if (attempt_open_) endAttempt(StatusClass::kError);
  if (phase_ == Phase::kPay) ++worker_.stats().side().pays_failed;
  closeStream();
  if (phase_ == Phase::kClosed) return;
  reconnectLater();
}

void Connection::reconnectLater() {
  if (!worker_.sending()) {
    phase_ = Phase::kClosed;
    return worker_.closedForGood();
  }
  phase_ = Phase::kBackoff;
  backoff_.expires_after(kReconnectDelay);
  backoff_.async_wait([this](beast::error_code ec) {
    if (ec || phase_ != Phase::kBackoff) return;
    if (!worker_.sending()) {
      phase_ = Phase::kClosed;
      return worker_.closedForGood();
    }
    connect();
  });
}

void Connection::closeStream() {
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  buffer_.clear();
}

void Connection::sweep(Clock::time_point now) {
  if (deadline_ > now || !(busy() || phase_ == Phase::kConnecting)) return;
  timed_out_ = true;
  beast::error_code ignored;
  socket_.close(ignored);  // the pending connect, write or read fails
}

void Connection::shutdown() {
  if (phase_ == Phase::kClosed) return;
  backoff_.cancel();
  if (attempt_open_) endAttempt(StatusClass::kError);
  if (phase_ == Phase::kPay) ++worker_.stats().side().pays_failed;
  phase_ = Phase::kClosed;  // the aborted handlers see it and do nothing
  closeStream();
}

// ---- Worker

void Worker::run() {
  const int n = plan_.options->connectionsOf(index_);
  connections_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    connections_.push_back(std::make_unique<Connection>(*this, ioc_));
    connections_.back()->connect();
  }
  phase_timer_.expires_at(plan_.start);
  phase_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) onStart();
  });
  armSweep();
  ioc_.run();
}

void Worker::armSweep() {
  sweep_timer_.expires_after(sweepInterval(plan_.timeout));
  sweep_timer_.async_wait([this](beast::error_code ec) {
    // A sweep already due when finish() cancels the timer still runs, without an error.
    if (ec || finished_) return;
    const Clock::time_point now = Clock::now();
    for (auto& c : connections_) c->sweep(now);
    armSweep();
  });
}

void Worker::finish() {
  finished_ = true;
  phase_timer_.cancel();
  sweep_timer_.cancel();
}

int64_t Worker::secondOf(Clock::time_point t) const {
  if (t <= plan_.start) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(t - plan_.start).count();
}

void Worker::onStart() {
  started_ = true;
  phase_timer_.expires_at(plan_.end);
  phase_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) onEnd();
  });
  if (plan_.schedule) {
    armArrivalTimer();
    return;
  }
  // Closed loop: every connection ready now starts.
  std::vector<Connection*> ready;
  ready.swap(idle_);
  for (Connection* c : ready) becameIdle(*c);
}

void Worker::armArrivalTimer() {
  if (!sending_ || next_arrival_ >= plan_.schedule->totalArrivals()) return;
  arrival_timer_.expires_at(plan_.start +
                            secondsToDuration(plan_.schedule->arrivalTime(next_arrival_)));
  arrival_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) onArrivals();
  });
}

void Worker::onArrivals() {
  if (!sending_) return;
  const ArrivalSchedule& schedule = *plan_.schedule;
  const Clock::time_point now = Clock::now();
  const int64_t step = plan_.options->threads;
  while (next_arrival_ < schedule.totalArrivals()) {
    const double at = schedule.arrivalTime(next_arrival_);
    const Clock::time_point due = plan_.start + secondsToDuration(at);
    if (due > now) break;
    const auto second = static_cast<int64_t>(at);
    queue_.push_back({.due = due, .second = second});
    stats_.addOffered(second);
    bump(live_.offered);
    next_arrival_ += step;
  }
  dispatch();
  armArrivalTimer();
}

void Worker::dispatch() {
  while (!queue_.empty() && !idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    const Attempt a = queue_.front();
    queue_.pop_front();
    c->start(a);
  }
  live_.queued.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
}

void Worker::becameIdle(Connection& c) {
  if (!sending_) {
    c.shutdown();
    return closedForGood();
  }
  if (!started_) {
    idle_.push_back(&c);
    return;
  }
  if (!plan_.schedule) {
    const Clock::time_point now = Clock::now();
    const Attempt a{.due = now, .second = secondOf(now)};
    stats_.addOffered(a.second);
    bump(live_.offered);
    return c.start(a);
  }
  idle_.push_back(&c);
  dispatch();
}

void Worker::onEnd() {
  sending_ = false;
  arrival_timer_.cancel();
  // Attempts still queued were offered but never sent.
  queue_.clear();
  live_.queued.store(0, std::memory_order_relaxed);
  idle_.clear();
  for (auto& c : connections_) {
    if (!c->busy()) c->shutdown();
  }
  phase_timer_.expires_at(plan_.drain_deadline);
  phase_timer_.async_wait([this](beast::error_code ec) {
    if (ec) return;  // everything finished before the deadline
    for (auto& c : connections_) c->shutdown();
    finish();
  });
  closedForGood();
}

void Worker::closedForGood() {
  if (sending_) return;
  for (const auto& c : connections_) {
    if (c->busy()) return;
  }
  finish();  // nothing left to drain
}

// ---- The run

void writeProgress(std::ostream& err, bool tty, const ProgressSnapshot& p) {
  if (tty) {
    err << '\r' << formatProgress(p) << "\x1b[K" << std::flush;
  } else {
    err << formatProgress(p) << '\n' << std::flush;
  }
}

ProgressSnapshot snapshot(const std::vector<std::unique_ptr<Worker>>& workers,
                          Clock::time_point start) {
  ProgressSnapshot p;
  p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& w : workers) {
    LiveCounters& l = w->live();
    p.offered += l.offered.load(std::memory_order_relaxed);
    p.sent += l.sent.load(std::memory_order_relaxed);
    p.queued += l.queued.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kStatusClassCount; ++i) {
      p.outcomes[i] += l.outcomes[i].load(std::memory_order_relaxed);
    }
  }
  return p;
}

// Runs the workers to the end of the drain; merges what they saw.
void runTraffic(const TrafficPlan& plan, std::ostream& err, bool err_is_tty, LoadReport& report) {
  const LoadOptions& o = *plan.options;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < o.threads; ++i) workers.push_back(std::make_unique<Worker>(plan, i));

  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&, worker = w.get()] {
      worker->run();
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_all();
    });
  }

  {
    std::unique_lock lock(mu);
    Clock::time_point tick = plan.start + std::chrono::seconds(1);
    bool printed = false;
    while (finished < o.threads) {
      if (cv.wait_until(lock, tick, [&] { return finished == o.threads; })) break;
      if (o.progress) {
        writeProgress(err, err_is_tty, snapshot(workers, plan.start));
        printed = true;
      }
      tick += std::chrono::seconds(1);
    }
    if (o.progress && printed && err_is_tty) err << '\n';
  }
  for (std::thread& t : threads) t.join();

  for (auto& w : workers) {
    report.stats.merge(w->stats());
    std::vector<CreatedOrder>& created = w->created();
    report.created.insert(report.created.end(), std::make_move_iterator(created.begin()),
                          std::make_move_iterator(created.end()));
  }
}

std::string saleTarget(const std::string& sale) { return absl::StrCat("/api/v1/sales/", sale); }

// GET the sale: its snapshot, or the problem as an error message.
absl::StatusOr<SaleSnapshot> fetchSale(BlockingClient& client, const LoadOptions& o) {
  absl::StatusOr<HttpReply> reply = client.get(saleTarget(o.sale));
  if (!reply.ok()) return reply.status();
  if (reply->status == 404) {
    return absl::NotFoundError(absl::StrCat("sale \"", o.sale, "\" not found at ", o.url.text()));
  }
  if (reply->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET ", saleTarget(o.sale), " answered ", reply->status));
  }
  return parseSaleJson(reply->body);
}

std::optional<OrderCounts> fetchOrderCounts(BlockingClient& client, std::ostream& err) {
  absl::StatusOr<HttpReply> reply = client.get("/metrics");
  if (!reply.ok() || reply->status != 200) {
    err << "seckill-load: warning: /metrics unavailable; the engine-counter checks are skipped\n";
    return std::nullopt;
  }
  absl::StatusOr<OrderCounts> counts = parseOrderCounts(reply->body);
  if (!counts.ok()) {
    err << "seckill-load: warning: " << counts.status().message() << "\n";
    return std::nullopt;
  }
  return *counts;
}

std::string setupText(const LoadOptions& o, const std::string& prefix) {
  std::string users = o.users.mode == UserMode::kFresh ? std::string("fresh")
                                                       : absl::StrCat("pool:", o.users.pool_size);
  return absl::StrFormat(
      "threads %d, connections %d in total, users %s (prefix %s), token %s, pay fraction %g, "
      "timeout %s, drain %s",
      o.threads, o.connections, users, prefix, o.token ? "on" : "off", o.pay_fraction,
      formatSeconds(o.timeout_s), formatSeconds(o.drain_s));
}

// A prefix no other run uses (unless --user-prefix chose one).
std::string userPrefix(const LoadOptions& o, uint64_t random_bits) {
  if (!o.user_prefix.empty()) return o.user_prefix;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return makeRunPrefix(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count()),
      random_bits);
}

// What the checks need from the engine after the run: the sale, /metrics,
// and the state of the orders of users seen with two of them.
absl::StatusOr<RunFacts> gatherFacts(BlockingClient& client, const LoadOptions& o,
                                     const CredentialMinter& credentials,
                                     const LoadReport& report,
                                     const std::optional<OrderCounts>& metrics_before,
                                     std::ostream& err) {
  RunFacts facts;
  facts.stats = &report.stats;
  facts.created = report.created;
  facts.metrics_before = metrics_before;
  absl::StatusOr<SaleSnapshot> after = fetchSale(client, o);
  if (!after.ok()) return after.status();
  facts.sale_after = *after;
  // The engine's /metrics order counts are gauges it refreshes on its cancel-poll
  // period (200 ms by default): right after a run that ordered until its last
  // moment they may trail the answers. Read again for a while before the check
  // judges them; a count that never catches up still fails it.
  facts.metrics_after = fetchOrderCounts(client, err);
  const Clock::time_point settle_by = Clock::now() + kCountsSettle;
  while (facts.metrics_after && !engineCountsCoverTheRun(facts) && Clock::now() < settle_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    facts.metrics_after = fetchOrderCounts(client, err);
  }
  const std::vector<CreatedOrder> lookups = ordersToLookUp(
      report.created, static_cast<size_t>(o.max_order_lookups), &facts.lookups_skipped);
  for (const CreatedOrder& order : lookups) {
    const Credential credential = credentials.forUser(order.user_id);
    absl::StatusOr<HttpReply> reply =
        client.get(absl::StrCat("/api/v1/orders/", order.order_id), &credential);
    absl::StatusOr<std::string> state = absl::UnknownError("no answer");
    if (reply.ok() && reply->status == 200) state = parseOrderStateJson(reply->body);
    facts.order_states[order.order_id] = state.ok() ? *state : std::string(kUnknownOrderState);
  }
  return facts;
}

}  // namespace

LoadReport runLoad(const LoadOptions& o, std::ostream& out, std::ostream& err, bool err_is_tty) {
  LoadReport report;
  auto startFailed = [&](std::string_view message) {
    err << "seckill-load: " << message << "\n";
    report.exit_code = kExitStartFailed;
    return std::move(report);
  };

  // The CSV file is created first, so a bad path fails before any traffic.
  std::ofstream csv;
  if (!o.csv_path.empty()) {
    csv.open(o.csv_path, std::ios::out | std::ios::trunc);
    if (!csv) {
      err << "seckill-load: --csv: cannot create \"" << o.csv_path << "\"\n";
      report.exit_code = kExitBadArguments;
      return report;
    }
  }

  TrafficPlan plan;
  plan.options = &o;
  {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    plan.endpoints = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
    if (ec) return startFailed(absl::StrCat("cannot resolve ", o.url.host, ": ", ec.message()));
  }

  BlockingClient client(o.url, o.timeout_s);
  absl::StatusOr<SaleSnapshot> before = fetchSale(client, o);
  if (!before.ok()) return startFailed(sv(before.status().message()));
  const std::optional<OrderCounts> metrics_before = fetchOrderCounts(client, err);
  if (before->state != "open") {
    err << "seckill-load: warning: sale \"" << o.sale << "\" is " << before->state
        << ", orders will not be accepted\n";
  }

  if (o.shape.openLoop()) plan.schedule = *ArrivalSchedule::create(o.shape, o.duration_s);
  plan.host_header = o.url.hostHeader();
  plan.order_target = absl::StrCat(saleTarget(o.sale), "/orders");
  plan.token_target = absl::StrCat(saleTarget(o.sale), "/tokens");
  std::random_device random;
  const uint64_t random_bits = (uint64_t{random()} << 32) ^ random();
  plan.user_prefix = userPrefix(o, random_bits);
  plan.seed = o.seed.value_or(random_bits);
  // Credentials good for the whole run and an hour after (the end-of-run lookups use them).
  plan.credentials = CredentialMinter(
      o.identity.mode, o.identity_secret,
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
              .count() +
          static_cast<int64_t>(o.duration_s + o.drain_s) + 3600);
  plan.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  report.user_prefix = plan.user_prefix;

  err << "seckill-load: " << describeShape(o.shape) << " for " << formatSeconds(o.duration_s)
      << " against " << o.url.text() << ", sale " << o.sale << " (stock " << before->stock_total
      << ", left " << before->stock_left << ", " << before->state << ")\n";

  const Clock::time_point wall_start = Clock::now();
  plan.start = wall_start + kWarmUp;
  plan.end = plan.start + secondsToDuration(o.duration_s);
  plan.drain_deadline = plan.end + secondsToDuration(o.drain_s);
  runTraffic(plan, err, err_is_tty, report);
  const double elapsed = std::chrono::duration<double>(Clock::now() - plan.start).count();

  // The checks, through the API.
  absl::StatusOr<RunFacts> facts =
      gatherFacts(client, o, plan.credentials, report, metrics_before, err);
  if (facts.ok()) {
    facts->sale_before = *before;
    report.checks = checkRun(*facts);
  } else {
    report.checks.push_back({.name = "sale readable after the run",
                             .ok = false,
                             .detail = std::string(facts.status().message())});
  }

  SummaryHeader header{
      .target = absl::StrCat(o.url.text(), "  sale ", o.sale),
      .shape = describeShape(o.shape),
      .setup = setupText(o, plan.user_prefix),
      .duration_s = o.duration_s,
      .elapsed_s = elapsed,
  };
  report.summary = formatSummary(header, report.stats);
  report.summary.push_back('\n');
  report.summary += formatChecks(report.checks);
  const bool ok = allPassed(report.checks);
  report.summary += ok ? "  result: all checks passed\n" : "  result: VIOLATION\n";
  out << report.summary << std::flush;

  if (csv.is_open()) {
    csv << formatCsv(report.stats, static_cast<int64_t>(std::ceil(o.duration_s)));
    csv.close();
    if (!csv) err << "seckill-load: --csv: writing \"" << o.csv_path << "\" failed\n";
  }
  if (!ok) {
    for (const CheckResult& r : report.checks) {
      if (!r.ok) err << "seckill-load: violation: " << r.name << ": " << r.detail << "\n";
    }
    report.exit_code = kExitViolation;
  }
  return report;
}

}  // namespace seckill::load
