#include "engine/http/byte_connection.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <utility>

namespace seckill::http {
namespace {

// A fixed date: the same bytes for the same input (the server writes the current one).
constexpr std::string_view kDateLine = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

}  // namespace

// One request and its answer. finish() may come from any thread; defer()red work runs on the
// caller's thread, in awaitAnswer().
class ByteConnection::Exchange final : public http::Exchange {
 public:
  Exchange(std::string remote_ip, std::string_view user_header,
           std::shared_ptr<std::atomic<uint64_t>> extra)
      : extra_(std::move(extra)) {
    request_.remote_ip = std::move(remote_ip);
    request_.user_header = user_header;
  }

  Request& request() override { return request_; }
  Response& response() override { return response_; }
  void finish() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) {
      extra_->fetch_add(1, std::memory_order_relaxed);
      return;
    }
    finished_ = true;
    cv_.notify_all();
  }
  void defer(absl::Duration /*delay*/, absl::AnyInvocable<void() &&> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    deferred_.push_back(std::move(fn));
  }

  // Runs deferred work and waits until the answer is complete.
  void awaitAnswer() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!finished_) {
      if (deferred_.empty()) {
        cv_.wait(lock);
        continue;
      }
      absl::AnyInvocable<void() &&> fn = std::move(deferred_.front());
      deferred_.pop_front();
      lock.unlock();
      std::move(fn)();
      lock.lock();
    }
  }

 private:
  Request request_;
  Response response_;
  const std::shared_ptr<std::atomic<uint64_t>> extra_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::deque<absl::AnyInvocable<void() &&>> deferred_;
};

ByteConnection::ByteConnection(ShopperApi& api, CodecLimits limits, std::string remote_ip)
    : api_(api),
      reader_(limits),
      remote_ip_(std::move(remote_ip)),
      extra_answers_(std::make_shared<std::atomic<uint64_t>>(0)) {
  exchange_ = std::make_shared<Exchange>(remote_ip_, api_.userHeader(), extra_answers_);
}

ByteConnection::~ByteConnection() = default;

uint64_t ByteConnection::extraAnswers() const {
  return extra_answers_->load(std::memory_order_relaxed);
}

void ByteConnection::receive(std::string_view bytes) {
  while (!closed_ && !bytes.empty()) {
    // As a Connection reads: at most what prepareRead() offers at a time.
    const boost::asio::mutable_buffer space = reader_.prepareRead();
    if (space.size() == 0) {
      exchange_->response().clear();
      ShopperApi::answerParseError(exchange_->response(), 431);
      answer(/*keep_alive=*/false);
      return;
    }
    const size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    reader_.commitRead(n);
    bytes.remove_prefix(n);
    serveBuffered();
  }
}

void ByteConnection::serveBuffered() {
  while (!closed_) {
    switch (reader_.parse(exchange_->request())) {
      case RequestReader::Event::kNeedMore:
        if (!reader_.wantsContinue()) return;
        output_.append(kContinueResponse);
        reader_.continueSent();
        break;
      case RequestReader::Event::kRequest: {
        ++requests_;
        const bool keep_alive = reader_.keepAlive();
        std::shared_ptr<Exchange> ex = exchange_;
        ex->response().clear();
        api_.handle(ex);
        ex->awaitAnswer();
        answer(keep_alive);
        break;
      }
      case RequestReader::Event::kParseError:
        exchange_->response().clear();
        ShopperApi::answerParseError(exchange_->response(), reader_.errorStatus());
        answer(/*keep_alive=*/false);
        break;
    }
  }
}

void ByteConnection::answer(bool keep_alive) {
  const Request& req = exchange_->request();
  const Response& res = exchange_->response();
  if (observer_) observer_(req, res);
  const bool close = res.close || !keep_alive;
  serializeResponse(res, req, close, kDateLine, scratch_);
  output_.append(scratch_);
  ++answers_;
  if (close) {
    closed_ = true;
    reader_.discard();
  }
  exchange_ = std::make_shared<Exchange>(remote_ip_, api_.userHeader(), extra_answers_);
}

}  // namespace seckill::http
