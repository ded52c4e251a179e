#pragma once

// The HTTP/1.1 wire form of the runner's exchanges. It runs for every request, so it keeps
// nothing it does not need: a request is written into a string the connection reuses, and an
// answer is read by a parser that keeps the status, the keep-alive verdict, one header and the
// body (no header container is built per answer).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "boost/beast/http/basic_parser.hpp"

namespace seckill::load {

// What a request says besides its target: the Host header, the shopper's credential header and
// the Idempotency-Key (omitted when empty).
struct RequestHeaders {
  std::string_view host;
  std::string_view credential_name;
  std::string_view credential_value;
  std::string_view idempotency_key;
};

// Replaces `out` with a bodyless keep-alive `POST target HTTP/1.1` request: Host, User-Agent
// (seckill-load), the credential, Idempotency-Key, Content-Length: 0. Keeps `out`'s capacity.
void writePostRequest(std::string& out, std::string_view target, const RequestHeaders& headers);

// Parses one HTTP/1.1 answer fed with put()/put_eof() (Beast's basic_parser: chunked bodies,
// bodies ended by the close, keep_alive() from the version and Connection header). The body
// goes to a string the caller owns and reuses. A parser reads one answer: construct a new one
// per answer (that allocates nothing).
class ReplyParser final : public boost::beast::http::basic_parser<false> {
 public:
  // `body` is cleared; it must outlive the parser.
  explicit ReplyParser(std::string& body);

  int status() const { return status_; }
  // True iff the answer carried an Idempotent-Replayed header.
  bool replayed() const { return replayed_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  using field = boost::beast::http::field;
  using verb = boost::beast::http::verb;

  void on_request_impl(verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  std::string& body_;
  int status_ = 0;
  bool replayed_ = false;
};

}  // namespace seckill::load
