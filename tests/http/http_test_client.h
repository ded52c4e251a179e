#pragma once

// A small synchronous HTTP/1.1 client for tests (in-process server tests and
// the end-to-end tests against the real binary). One keep-alive connection;
// every operation is bounded by a timeout, so a misbehaving server fails a
// test instead of hanging it.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "nlohmann/json.hpp"

namespace seckill::http::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One answer. status 0 means no answer (see TestClient::error()).
struct Reply {
  int status = 0;
  std::string body;
  boost::beast::http::fields headers;
  bool keep_alive = false;

  // The header's value, "" when absent.
  std::string header(std::string_view name) const {
    auto it = headers.find(boost::beast::string_view(name.data(), name.size()));
    return it == headers.end() ? std::string() : std::string(it->value());
  }
  bool hasHeader(std::string_view name) const {
    return headers.find(boost::beast::string_view(name.data(), name.size())) != headers.end();
  }
  // The body as JSON; a discarded value when it is not JSON.
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  // json()[key] as a string, "" when absent or not a string.
  std::string str(const std::string& key) const {
    nlohmann::json j = json();
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
    return j[key].get<std::string>();
  }
};

class TestClient {
 public:
  // `receive_buffer` > 0 sets SO_RCVBUF before connecting (a small window
  // makes a server writing to a client that does not read block sooner).
  // `source_ip` (e.g. "127.0.0.2"): the local address to connect from; empty: any.
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      int receive_buffer = 0, std::string source_ip = {})
      : port_(port),
        timeout_(timeout),
        receive_buffer_(receive_buffer),
        source_ip_(std::move(source_ip)),
        stream_(ioc_) {
    connect();
  }

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }

  // (Re)connects to 127.0.0.1:port.
  bool connect() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port_);
    if (receive_buffer_ > 0 || !source_ip_.empty()) {
      boost::system::error_code ignored;
      stream_.socket().open(ep.protocol(), ignored);
      if (receive_buffer_ > 0) {
        stream_.socket().set_option(
            boost::asio::socket_base::receive_buffer_size(receive_buffer_), ignored);
      }
      if (!source_ip_.empty()) {
        boost::system::error_code bind_ec;
        stream_.socket().bind(
            boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(source_ip_), 0),
            bind_ec);
        if (bind_ec) {
          error_ = "bind " + source_ip_ + ": " + bind_ec.message();
          connected_ = false;
          return false;
        }
      }
    }
    boost::system::error_code ec = run([&](auto done) {
      stream_.async_connect(ep, [done](boost::system::error_code e) mutable { done(e, 0); });
    });
    connected_ = !ec;
    if (ec) error_ = "connect: " + ec.message();
    return connected_;
  }

  // Sends one request and reads its answer. A POST without a body still says
  // Content-Length: 0.
  Reply request(std::string_view method, std::string_view target, const Headers& headers = {},
                std::string body = {}) {
    namespace bhttp = boost::beast::http;
    bhttp::request<bhttp::string_body> req;
    req.method_string(boost::beast::string_view(method.data(), method.size()));
    req.target(boost::beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::move(body);
    if (!req.body().empty() || method == "POST") req.prepare_payload();
    boost::system::error_code ec = run([&](auto done) {
      bhttp::async_write(stream_, req,
                         [done](boost::system::error_code e, size_t n) mutable { done(e, n); });
    });
    if (ec) {
      error_ = "write: " + ec.message();
      return {};
    }
    return readReply();
  }

  Reply get(std::string_view target, std::string_view user = {}) {
    return request("GET", target, userHeader(user));
  }
  Reply post(std::string_view target, std::string_view user = {}, std::string body = {},
             Headers extra = {}) {
    Headers h = userHeader(user);
    h.insert(h.end(), extra.begin(), extra.end());
    return request("POST", target, h, std::move(body));
  }

  // Writes raw bytes (for malformed requests).
  bool sendRaw(std::string_view bytes) {
    boost::system::error_code ec = run([&](auto done) {
      boost::asio::async_write(
          stream_, boost::asio::buffer(bytes.data(), bytes.size()),
          [done](boost::system::error_code e, size_t n) mutable { done(e, n); });
    });
    if (ec) error_ = "write: " + ec.message();
    return !ec;
  }

  // Reads until at least `n` bytes wait unparsed (readReply parses them later).
  bool readAtLeast(size_t n) {
    while (buffer_.size() < n) {
      size_t got = 0;
      const auto space = buffer_.prepare(64 * 1024);
      boost::system::error_code ec = run(
          [&](auto done) {
            stream_.async_read_some(
                space, [done](boost::system::error_code e, size_t m) mutable { done(e, m); });
          },
          &got);
      if (ec) {
        error_ = "read: " + ec.message();
        return false;
      }
      buffer_.commit(got);
    }
    return true;
  }

  // Reads one answer.
  Reply readReply() {
    namespace bhttp = boost::beast::http;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(1 << 20);
    parser.body_limit(64 << 20);
    boost::system::error_code ec = run([&](auto done) {
      bhttp::async_read(stream_, buffer_, parser,
                        [done](boost::system::error_code e, size_t n) mutable { done(e, n); });
    });
    if (ec) {
      error_ = "read: " + ec.message();
      return {};
    }
    auto msg = parser.release();
    Reply r;
    r.status = static_cast<int>(msg.result_int());
    r.keep_alive = msg.keep_alive();
    r.body = std::move(msg.body());
    for (const auto& f : msg) r.headers.insert(f.name_string(), f.value());
    return r;
  }

  // True iff the server closes the connection (end of stream, or reset)
  // within the timeout without sending anything more.
  bool closedByPeer() {
    char byte;
    size_t got = 0;
    boost::system::error_code ec = run(
        [&](auto done) {
          stream_.async_read_some(
              boost::asio::buffer(&byte, 1),
              [done](boost::system::error_code e, size_t n) mutable { done(e, n); });
        },
        &got);
    if (buffer_.size() > 0 || got > 0) return false;
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  static Headers userHeader(std::string_view user) {
    if (user.empty()) return {};
    return {{"X-User-Id", std::string(user)}};
  }

  // Runs one asynchronous operation to completion or timeout.
  template <typename Start>
  boost::system::error_code run(Start&& start, size_t* transferred = nullptr) {
    boost::system::error_code result = boost::asio::error::would_block;
    stream_.expires_after(timeout_);
    start([&result, transferred](boost::system::error_code ec, size_t n) {
      result = ec;
      if (transferred != nullptr) *transferred = n;
    });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int receive_buffer_ = 0;
  std::string source_ip_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::string error_;
};

}  // namespace seckill::http::testing
