#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boost/asio/buffer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/string.hpp"
// GCC 12 with -fsanitize=address sees Beast's optional<> content length as
// maybe-uninitialized (a false positive inside the header; clang has no such warning).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "boost/beast/http/basic_parser.hpp"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "engine/http/shopper_api.h"

// The shopper edge's HTTP/1.1 wire format, without a socket: bytes in, one Request at a time
// out (RequestReader), a Response out as bytes (serializeResponse). The server's Connection
// drives it from an Asio socket; ByteConnection (byte_connection.h) from memory.
namespace seckill::http {

struct CodecLimits {
  uint32_t max_header_bytes = 8 * 1024;  // larger: 431
  uint64_t max_body_bytes = 16 * 1024;   // larger: 413
};

// The interim answer to "Expect: 100-continue".
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// What one header field of a request sets in `req` (the user id, the idempotency key, the
// forwarded chain, the fields kept for header-scoped rules): the same for both parsers below.
// `name` is compared without regard to case. An Expect field sets `expect_continue`.
void applyField(Request& req, std::string_view name, std::string_view value,
                bool& expect_continue);

// The common request, whole in `data`: request line, fields and a Content-Length body, all in
// the plain form clients send (docs/architecture.md, "The HTTP edge"). Fills `req` (cleared)
// and `keep_alive`, and returns the bytes it used; returns 0 and leaves `req` untouched for
// anything else: not all there yet, over a limit, Transfer-Encoding, Expect, Upgrade, a list in
// Connection or Content-Length, obs-fold, a byte out of the plain set, a malformed line.
// RequestReader then has Beast's parser read it, which decides what 0 left open; what this
// accepts, Beast reads alike (tests/http/http_codec_test.cc and the http fuzz target compare
// the two).
size_t parseCommonRequest(std::string_view data, const CodecLimits& limits, Request& req,
                          bool& keep_alive);

// Parses a request straight into a (reused) Request, keeping only what the
// API reads: no header table is built.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}
  bool expectsContinue() const { return expect_continue_; }

 private:
  using error_code = boost::system::error_code;
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version, error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_str,
                     boost::beast::string_view value, error_code& ec) override;
  void on_header_impl(error_code& /*ec*/) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, error_code& ec) override;
  size_t on_body_impl(boost::beast::string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                            error_code& ec) override;
  void on_finish_impl(error_code& /*ec*/) override {}

  Request& req_;
  bool expect_continue_ = false;
};

// The receiving side of one connection: buffers what the client sent and parses it into
// requests, one at a time. Not thread-safe (one connection, one thread). The hot path
// allocates nothing in steady state (the buffer and the Request are reused).
class RequestReader {
 public:
  // `common_fast_path` off: every request goes through Beast's parser (for the tests that
  // compare the two).
  explicit RequestReader(CodecLimits limits, bool common_fast_path = true);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  enum class Event : uint8_t {
    kNeedMore,    // every buffered byte is used: read more (prepareRead), then parse() again
    kRequest,     // `req` holds a whole request (more bytes may stay buffered: pipelining)
    kParseError,  // malformed or over a limit: answer errorStatus(), then close
  };
  // Parses buffered bytes into `req`: the same Request, cleared, from the first byte of a
  // request to its kRequest (or kParseError).
  Event parse(Request& req);

  // After kRequest: whether the connection may stay open (version, Connection header).
  bool keepAlive() const { return keep_alive_; }
  // After kParseError: 400 (malformed), 413 (body too large) or 431 (head too large).
  int errorStatus() const { return error_status_; }
  // True iff a byte of the next request arrived (the request-head timeout starts).
  bool requestStarted() const;
  // True iff the head is in, asked "Expect: 100-continue", and no kContinueResponse was sent
  // yet for it; call continueSent() once it is.
  bool wantsContinue() const;
  void continueSent() { continue_sent_ = true; }

  // Room for the next read (at most 64 KiB); empty when a request head fills the whole
  // buffer: answer 431. Then commitRead() what was read into it.
  boost::asio::mutable_buffer prepareRead();
  void commitRead(size_t n) { buffer_.commit(n); }
  size_t buffered() const { return buffer_.size(); }
  // Bytes allocated for the buffer (kReadSize once a read was prepared, unless a request
  // needed more).
  size_t capacity() const { return buffer_.capacity(); }
  // Drops every buffered byte (a closing connection draining what the client still sends).
  void discard() { buffer_.clear(); }
  // Back to the state of a new connection (the buffer's allocation is kept): for a reader
  // reused on another connection.
  void reset();

  // Requests read by the fast path (parseCommonRequest) rather than Beast's parser.
  uint64_t commonRequests() const { return common_requests_; }

  // The size of a read into an empty buffer.
  static constexpr size_t kReadSize = 4096;

 private:
  const CodecLimits limits_;
  const bool common_fast_path_;
  boost::beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;  // the request being parsed; none between requests
  uint32_t head_used_ = 0;  // bytes of the current request's head the parser consumed
  bool keep_alive_ = true;
  bool continue_sent_ = false;
  int error_status_ = 0;
  uint64_t common_requests_ = 0;
};

// Serializes `res`, the answer to `req`, into `out` (replacing it): status line, `date_line`
// ("Date: ...\r\n"), Content-Type, Content-Length, Allow, Retry-After, RateLimit-Policy and
// RateLimit, Idempotent-Replayed, "Connection: close" when `close` (else "Connection:
// keep-alive" for HTTP/1.0), then the body, except for a HEAD request (RFC 9110 9.3.2: the
// same head, no content; a body would be read as the start of the next answer).
void serializeResponse(const Response& res, const Request& req, bool close,
                       std::string_view date_line, std::string& out);

}  // namespace seckill::http
