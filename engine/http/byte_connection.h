#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/http/http_codec.h"
#include "engine/http/shopper_api.h"

namespace seckill::http {

// One client connection of the shopper edge without a socket: the bytes a client sent go in,
// the bytes the server would write come out. It runs the server's own code (RequestReader,
// ShopperApi::handle, serializeResponse) in the order a Connection does, so tests and the
// fuzz target (tests/fuzz/http_fuzz.cc) exercise the real edge on any bytes.
//
// receive() answers each whole request before it parses the next: an answer completed on
// another thread (a fifo sale) is waited for; a deferred request (a queue-mode rate rule) is
// served at once, its wait skipped. Not thread-safe: one caller thread.
class ByteConnection {
 public:
  // `api` must outlive this connection. `remote_ip` is the peer's address (ip-scoped rules).
  ByteConnection(ShopperApi& api, CodecLimits limits = {}, std::string remote_ip = "127.0.0.1");
  ~ByteConnection();
  ByteConnection(const ByteConnection&) = delete;
  ByteConnection& operator=(const ByteConnection&) = delete;

  // Takes bytes as the client sent them (any split) and answers every whole request among
  // them, in order, appending each answer to output(). Once an answer closes the connection
  // (a parse error, "Connection: close", HTTP/1.0), the rest is ignored.
  void receive(std::string_view bytes);

  // What the server wrote so far: interim "100 Continue" answers and whole answers.
  const std::string& output() const { return output_; }
  bool closed() const { return closed_; }
  // Whole requests handed to the API so far.
  uint64_t requests() const { return requests_; }
  // Answers written so far (parse errors included; "100 Continue" not counted).
  uint64_t answers() const { return answers_; }
  // Answers the API gave for one request beyond the first: always 0 unless the API breaks
  // its contract (one finish() per exchange); such extra answers are dropped.
  uint64_t extraAnswers() const;

  // Called with each request and its answer just before the answer is written (for a parse
  // error: what was parsed of the request, possibly nothing).
  using AnswerObserver = std::function<void(const Request&, const Response&)>;
  void setObserver(AnswerObserver observer) { observer_ = std::move(observer); }

 private:
  class Exchange;

  // Parses and answers what is buffered until more bytes are needed or the connection closes.
  void serveBuffered();
  // Writes the current exchange's answer, then starts a fresh exchange (or closes).
  void answer(bool keep_alive);

  ShopperApi& api_;
  RequestReader reader_;
  const std::string remote_ip_;
  std::shared_ptr<Exchange> exchange_;  // the request being received or answered
  std::shared_ptr<std::atomic<uint64_t>> extra_answers_;
  AnswerObserver observer_;
  std::string output_;
  std::string scratch_;
  uint64_t requests_ = 0;
  uint64_t answers_ = 0;
  bool closed_ = false;
};

}  // namespace seckill::http
