#include "engine/http/http_codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>

#include "boost/beast/http/error.hpp"
#include "engine/core/strings.h"
#include "engine/http/json_format.h"

namespace seckill::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr size_t kMaxReadSize = 65536;

}  // namespace

// --- RequestParser ---

void RequestParser::on_request_impl(bhttp::verb method, beast::string_view method_str,
                                    beast::string_view target, int version, error_code& /*ec*/) {
  req_.method_name.assign(method_str.data(), method_str.size());
  req_.method = method == bhttp::verb::get    ? Method::kGet
                : method == bhttp::verb::post ? Method::kPost
                                              : Method::kOther;
  req_.target.assign(target.data(), target.size());
  req_.version = version;
}

void RequestParser::on_field_impl(bhttp::field name, beast::string_view name_str,
                                  beast::string_view value, error_code& /*ec*/) {
  if (name == bhttp::field::expect) {
    expect_continue_ = beast::iequals(value, "100-continue");
  } else if (beast::iequals(name_str,
                            beast::string_view(req_.user_header.data(), req_.user_header.size()))) {
    if (++req_.user_id_count == 1) req_.user_id.assign(value.data(), value.size());
  } else if (name_str.size() == 15 && beast::iequals(name_str, "idempotency-key")) {
    if (!req_.has_idempotency_key) req_.idempotency_key.assign(value.data(), value.size());
    req_.has_idempotency_key = true;
  } else if (name == bhttp::field::authorization) {
    if (++req_.authorization_count == 1) req_.authorization.assign(value.data(), value.size());
  } else if (name != bhttp::field::host && name != bhttp::field::content_length &&
             name != bhttp::field::connection) {
    // The forwarded chain, for the client address behind trusted proxies (RFC 9110 5.3:
    // repeated lines of a list header are one list). Also kept for header-scoped rules.
    if (name == bhttp::field::forwarded || beast::iequals(name_str, "x-forwarded-for")) {
      std::string& chain = name == bhttp::field::forwarded ? req_.forwarded : req_.forwarded_for;
      if (chain.size() + value.size() < 8192) {
        if (!chain.empty()) chain.push_back(',');
        chain.append(value.data(), value.size());
      }
    }
    // Kept for header-scoped rate rules.
    req_.addHeader(std::string_view(name_str.data(), name_str.size()),
                   std::string_view(value.data(), value.size()));
  }
}

void RequestParser::on_body_init_impl(boost::optional<std::uint64_t> const& length,
                                      error_code& /*ec*/) {
  if (length) req_.body.reserve(static_cast<size_t>(*length));  // <= body_limit
}

size_t RequestParser::on_body_impl(beast::string_view body, error_code& /*ec*/) {
  req_.body.append(body.data(), body.size());
  return body.size();
}

size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                         error_code& /*ec*/) {
  req_.body.append(body.data(), body.size());
  return body.size();
}

// --- RequestReader ---

RequestReader::RequestReader(CodecLimits limits)
    : limits_(limits), buffer_(size_t{limits.max_header_bytes} + kMaxReadSize) {}

RequestReader::Event RequestReader::parse(Request& req) {
  if (!parser_) {
    parser_.emplace(req);
    parser_->header_limit(limits_.max_header_bytes);
    parser_->body_limit(limits_.max_body_bytes);
    parser_->eager(true);
    continue_sent_ = false;
    head_used_ = 0;
  }
  while (buffer_.size() > 0) {
    boost::system::error_code ec;
    boost::asio::const_buffer data = buffer_.data();
    // Beast holds a head to header_limit only roughly: within one read it let a head some
    // bytes over the limit pass, in pieces it did not. So it is shown at most the limit's worth
    // of head, and a head it cannot finish within that is too large, however it arrived.
    const bool in_head = !parser_->is_header_done();
    bool cut = false;
    if (in_head && data.size() > limits_.max_header_bytes - head_used_) {
      data = boost::asio::buffer(data, limits_.max_header_bytes - head_used_);
      cut = true;
    }
    const size_t used = parser_->put(data, ec);
    buffer_.consume(used);
    if (in_head) head_used_ += used;
    if (cut && (ec == bhttp::error::need_more || (!ec && used == 0))) {
      ec = bhttp::error::header_limit;
    }
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      error_status_ = ec == bhttp::error::header_limit ? 431
                      : ec == bhttp::error::body_limit ? 413
                                                       : 400;
      parser_.reset();
      return Event::kParseError;
    }
    if (parser_->is_done()) {
      keep_alive_ = parser_->keep_alive();
      parser_.reset();
      return Event::kRequest;
    }
    if (used == 0) break;
  }
  return Event::kNeedMore;
}

void RequestReader::reset() {
  buffer_.clear();
  parser_.reset();
  head_used_ = 0;
  keep_alive_ = true;
  continue_sent_ = false;
  error_status_ = 0;
}

bool RequestReader::requestStarted() const {
  return buffer_.size() > 0 || (parser_ && parser_->got_some());
}

bool RequestReader::wantsContinue() const {
  return parser_ && parser_->is_header_done() && parser_->expectsContinue() && !continue_sent_;
}

boost::asio::mutable_buffer RequestReader::prepareRead() {
  const size_t room = buffer_.max_size() - buffer_.size();
  const size_t size = std::min(std::max(kReadSize, buffer_.capacity() - buffer_.size()),
                               std::min(room, kMaxReadSize));
  if (size == 0) return {};
  return buffer_.prepare(size);
}

// --- serializeResponse ---

namespace {

// "HTTP/1.1 <status> <reason>\r\n", made once for every 3-digit status (reasonPhrase's words).
std::string_view statusLine(int status) {
  static const std::array<std::string, 500> kLines = [] {
    std::array<std::string, 500> lines;
    for (int code = 100; code < 600; ++code) {
      std::string& line = lines[static_cast<size_t>(code - 100)];
      line.append("HTTP/1.1 ");
      appendInt(line, code);
      line.push_back(' ');
      line.append(reasonPhrase(code));
      line.append("\r\n");
    }
    return lines;
  }();
  if (status < 100 || status >= 600) return {};
  return kLines[static_cast<size_t>(status - 100)];
}

}  // namespace

void serializeResponse(const Response& r, const Request& req, bool close,
                       std::string_view date_line, std::string& out) {
  std::string_view status = statusLine(r.status);
  std::string unusual;  // a status beyond 100-599
  if (status.empty()) {
    unusual.append("HTTP/1.1 ");
    appendInt(unusual, r.status);
    unusual.push_back(' ');
    unusual.append(reasonPhrase(r.status));
    unusual.append("\r\n");
    status = unusual;
  }
  const std::string_view content_type =
      r.content_type == ContentType::kJson
          ? std::string_view("Content-Type: application/json\r\nContent-Length: ")
          : std::string_view(
                "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: ");
  char length[24];
  const char* length_end =
      std::to_chars(length, length + sizeof length, static_cast<uint64_t>(r.body.size())).ptr;
  const bool body = req.method_name != "HEAD";

  // The common answer (no optional header) is written in one piece; the others append.
  const bool plain = r.allow.empty() && r.retry_after_s <= 0 && r.ratelimit_policy.empty() &&
                     r.www_authenticate.empty() && !r.replayed && !close && req.version != 10;
  if (plain) {
    const std::string_view line_end = "\r\n\r\n";
    const size_t length_size = static_cast<size_t>(length_end - length);
    out.resize(status.size() + date_line.size() + content_type.size() + length_size +
               line_end.size() + (body ? r.body.size() : 0));
    char* p = out.data();
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put(status);
    put(date_line);
    put(content_type);
    put(std::string_view(length, length_size));
    put(line_end);
    if (body) put(r.body);
    return;
  }

  out.clear();
  out.append(status);
  out.append(date_line);
  out.append(content_type);
  out.append(length, static_cast<size_t>(length_end - length));
  out.append("\r\n");
  if (!r.allow.empty()) {
    out.append("Allow: ");
    out.append(r.allow);
    out.append("\r\n");
  }
  if (r.retry_after_s > 0) {
    out.append("Retry-After: ");
    appendInt(out, r.retry_after_s);
    out.append("\r\n");
  }
  if (!r.ratelimit_policy.empty()) {
    out.append("RateLimit-Policy: ");
    out.append(r.ratelimit_policy);
    out.append("\r\nRateLimit: ");
    out.append(r.ratelimit);
    out.append("\r\n");
  }
  if (!r.www_authenticate.empty()) {
    out.append("WWW-Authenticate: ");
    out.append(r.www_authenticate);
    out.append("\r\n");
  }
  if (r.replayed) out.append("Idempotent-Replayed: true\r\n");
  if (close) {
    out.append("Connection: close\r\n");
  } else if (req.version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (body) out.append(r.body);
}

}  // namespace seckill::http
