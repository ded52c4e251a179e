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

// The bytes of a request head by class, one lookup each.
enum ByteClass : uint8_t {
  kTchar = 1,   // RFC 9110 5.6.2 tchar: a method, a field name (Beast's table alike)
  kValue = 2,   // a field value: VCHAR, obs-text, SP, HTAB (Beast's: all but CTLs, DEL)
  kTarget = 4,  // a request-target: all but CTLs, SP, DEL (Beast's is_pathchar)
};
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t k = 0;
    if ((c >= 0x20 && c != 0x7f) || c == '\t') k |= kValue;
    if (c > 0x20 && c != 0x7f) k |= kTarget;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      k |= kTchar;
    }
    t[static_cast<size_t>(c)] = k;
  }
  return t;
}();

inline uint8_t byteClass(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

constexpr std::array<char, 256> kLower = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return t;
}();

// `a` equals `lower` (lower case already) without regard to ASCII case.
inline bool ieq(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (kLower[static_cast<unsigned char>(a[i])] != lower[i]) return false;
  }
  return true;
}

// A lower-case name as words of eight bytes, and which bits of them are letters' case bits.
struct LowerLiteral {
  uint64_t want[3] = {};
  uint64_t fold[3] = {};
  size_t size = 0;
};

template <size_t N>
consteval LowerLiteral lowerLiteral(const char (&lit)[N]) {
  static_assert(N > 1 && N - 1 <= 24);
  LowerLiteral l;
  l.size = N - 1;
  for (size_t i = 0; i < N - 1; ++i) {
    const auto c = static_cast<unsigned char>(lit[i]);
    l.want[i / 8] |= uint64_t{c} << (8 * (i % 8));
    if (c >= 'a' && c <= 'z') l.fold[i / 8] |= uint64_t{0x20} << (8 * (i % 8));
  }
  return l;
}

// `a` equals `lit` without regard to ASCII case, eight bytes at a time: a letter's byte may
// differ from the literal's by its case bit, any other byte not.
inline bool ieqWords(std::string_view a, const LowerLiteral& lit) {
  if (a.size() != lit.size) return false;
  for (size_t at = 0, w = 0; at < lit.size; at += 8, ++w) {
    uint64_t x = 0;
    std::memcpy(&x, a.data() + at, std::min<size_t>(8, lit.size - at));
    if ((x | lit.fold[w]) != lit.want[w]) return false;
  }
  return true;
}

// The names and values the readers compare against.
constexpr LowerLiteral kHost = lowerLiteral("host");
constexpr LowerLiteral kExpect = lowerLiteral("expect");
constexpr LowerLiteral kContinue = lowerLiteral("100-continue");
constexpr LowerLiteral kUpgrade = lowerLiteral("upgrade");
constexpr LowerLiteral kConnection = lowerLiteral("connection");
constexpr LowerLiteral kClose = lowerLiteral("close");
constexpr LowerLiteral kKeepAlive = lowerLiteral("keep-alive");
constexpr LowerLiteral kContentLength = lowerLiteral("content-length");
constexpr LowerLiteral kProxyConnection = lowerLiteral("proxy-connection");
constexpr LowerLiteral kTransferEncoding = lowerLiteral("transfer-encoding");
constexpr LowerLiteral kAuthorization = lowerLiteral("authorization");
constexpr LowerLiteral kIdempotencyKey = lowerLiteral("idempotency-key");
constexpr LowerLiteral kForwarded = lowerLiteral("forwarded");
constexpr LowerLiteral kXForwardedFor = lowerLiteral("x-forwarded-for");

// Eight bytes that may all stand in a field value (none a CTL but HTAB, none DEL), checked at
// once; false may still be a good word (a tab): the bytes are then checked one by one.
constexpr auto plainValueWord = [](uint64_t w) { return swar::plainWord<0x20, true, 0x7f>(w); };
// The same for a request-target (no space either).
constexpr auto plainTargetWord = [](uint64_t w) { return swar::plainWord<0x21, true, 0x7f>(w); };

}  // namespace

void applyField(Request& req, std::string_view name, std::string_view value,
                bool& expect_continue) {
  if (ieq(name, req.user_header)) {
    if (++req.user_id_count == 1) req.user_id.assign(value);
    return;
  }
  // By length first: one comparison per field, not one per name the API reads. (The user
  // header comes first: it may be named like any of these.)
  switch (name.size()) {
    case 4:
      if (ieqWords(name, kHost)) return;
      break;
    case 6:
      if (ieqWords(name, kExpect)) {
        expect_continue = ieqWords(value, kContinue);
        return;
      }
      break;
    case 10:
      if (ieqWords(name, kConnection)) return;
      break;
    case 13:
      if (ieqWords(name, kAuthorization)) {
        if (++req.authorization_count == 1) req.authorization.assign(value);
        return;
      }
      break;
    case 14:
      if (ieqWords(name, kContentLength)) return;
      break;
    case 15:
      if (ieqWords(name, kIdempotencyKey)) {
        if (!req.has_idempotency_key) req.idempotency_key.assign(value);
        req.has_idempotency_key = true;
        return;
      }
      break;
    default:
      break;
  }
  // The forwarded chain, for the client address behind trusted proxies (RFC 9110 5.3:
  // repeated lines of a list header are one list). Also kept for header-scoped rules.
  const bool forwarded = name.size() == 9 && ieqWords(name, kForwarded);
  if (forwarded || (name.size() == 15 && ieqWords(name, kXForwardedFor))) {
    std::string& chain = forwarded ? req.forwarded : req.forwarded_for;
    if (chain.size() + value.size() < 8192) {
      if (!chain.empty()) chain.push_back(',');
      chain.append(value);
    }
  }
  // Kept for header-scoped rate rules.
  req.addHeader(name, value);
}

size_t parseCommonRequest(std::string_view data, const CodecLimits& limits, Request& req,
                          bool& keep_alive) {
  // At most the head limit is looked at for the head: a longer one is Beast's (431).
  const char* const begin = data.data();
  const char* const head_end = begin + std::min<size_t>(data.size(), limits.max_header_bytes);
  const char* p = begin;

  // request-line = method SP request-target SP HTTP-version CRLF
  const char* const method_begin = p;
  while (p < head_end && (byteClass(*p) & kTchar)) ++p;
  if (p == method_begin || p >= head_end || *p != ' ') return 0;
  const std::string_view method(method_begin, static_cast<size_t>(p - method_begin));
  const char* const target_begin = ++p;
  p += swar::plainPrefix(std::string_view(p, static_cast<size_t>(head_end - p)), plainTargetWord,
                         [](char c) { return (byteClass(c) & kTarget) != 0; });
  if (p == target_begin || p >= head_end || *p != ' ') return 0;
  const std::string_view target(target_begin, static_cast<size_t>(p - target_begin));
  ++p;
  constexpr std::string_view kVersion = "HTTP/1.";
  if (head_end - p < 10 || std::string_view(p, kVersion.size()) != kVersion ||
      (p[7] != '0' && p[7] != '1') || p[8] != '\r' || p[9] != '\n') {
    return 0;
  }
  const int version = p[7] == '1' ? 11 : 10;
  p += 10;

  // field-line = field-name ":" OWS field-value OWS CRLF; the head ends with an empty line.
  struct Field {  // left uninitialised: filled up to `field_count`
    const char* name;
    const char* value;
    uint32_t name_size;
    uint32_t value_size;
  };
  constexpr size_t kMaxFields = 64;
  Field fields[kMaxFields];
  size_t field_count = 0;
  bool close = false, keep = false, has_length = false;
  uint64_t length = 0;
  while (true) {
    if (head_end - p < 2) return 0;
    if (*p == '\r') {
      if (p[1] != '\n') return 0;
      p += 2;
      break;
    }
    // The line's CR first: it stops the scans below (it is neither tchar nor OWS).
    const char* cr =
        static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(head_end - p)));
    if (cr == nullptr) return 0;
    const char* const name_begin = p;
    while (byteClass(*p) & kTchar) ++p;
    if (p == name_begin || *p != ':') return 0;
    const std::string_view name(name_begin, static_cast<size_t>(p - name_begin));
    ++p;
    while (*p == ' ' || *p == '\t') ++p;
    const char* const value_begin = p;
    // To the CR, every byte a value byte.
    p += swar::plainPrefix(std::string_view(p, static_cast<size_t>(cr - p)), plainValueWord,
                           [](char c) { return (byteClass(c) & kValue) != 0; });
    if (p != cr) return 0;
    // CRLF, then not a space or tab (obs-fold: Beast's).
    if (head_end - p < 3 || p[1] != '\n' || p[2] == ' ' || p[2] == '\t') return 0;
    const char* value_end = p;
    while (value_end > value_begin && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
    const std::string_view value(value_begin, static_cast<size_t>(value_end - value_begin));
    p += 2;

    // The fields that frame the message or the connection: only their plain forms. Host,
    // Content-Length and Connection set nothing in the request (applyField skips them), so
    // they are not kept for it, unless one is the user header.
    bool framing = false;
    switch (name.size()) {
      case 4:
        framing = ieqWords(name, kHost);
        break;
      case 6:  // expect: 100-continue is answered between head and body
      case 7:  // upgrade
        if (ieqWords(name, kExpect) || ieqWords(name, kUpgrade)) return 0;
        break;
      case 10:
        if (ieqWords(name, kConnection)) {
          if (ieqWords(value, kClose)) {
            close = true;
          } else if (ieqWords(value, kKeepAlive)) {
            keep = true;
          } else {
            return 0;
          }
          framing = true;
        }
        break;
      case 14:
        if (ieqWords(name, kContentLength)) {
          // One field of 1 to 19 digits (no overflow); a list or a second one is Beast's.
          if (has_length || value.empty() || value.size() > 19) return 0;
          for (char c : value) {
            if (c < '0' || c > '9') return 0;
            length = length * 10 + static_cast<uint64_t>(c - '0');
          }
          has_length = true;
          framing = true;
        }
        break;
      case 16:
      case 17:  // proxy-connection, transfer-encoding
        if (ieqWords(name, kProxyConnection) || ieqWords(name, kTransferEncoding)) return 0;
        break;
      default:
        break;
    }
    if (framing && name.size() != req.user_header.size()) continue;
    if (field_count == kMaxFields) return 0;
    fields[field_count++] = Field{name.data(), value.data(), static_cast<uint32_t>(name.size()),
                                  static_cast<uint32_t>(value.size())};
  }
  const size_t head_size = static_cast<size_t>(p - begin);
  if (length > limits.max_body_bytes || data.size() - head_size < length) return 0;

  // Whole and plain: fill the request as Beast's callbacks would.
  req.method_name.assign(method);
  req.method = method == "GET" ? Method::kGet : method == "POST" ? Method::kPost : Method::kOther;
  req.target.assign(target);
  req.version = version;
  bool expect_continue = false;
  for (size_t i = 0; i < field_count; ++i) {
    applyField(req, std::string_view(fields[i].name, fields[i].name_size),
               std::string_view(fields[i].value, fields[i].value_size), expect_continue);
  }
  if (length > 0) req.body.assign(p, static_cast<size_t>(length));
  keep_alive = version == 11 ? !close : keep;
  return head_size + static_cast<size_t>(length);
}

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

void RequestParser::on_field_impl(bhttp::field /*name*/, beast::string_view name_str,
                                  beast::string_view value, error_code& /*ec*/) {
  applyField(req_, std::string_view(name_str.data(), name_str.size()),
             std::string_view(value.data(), value.size()), expect_continue_);
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

RequestReader::RequestReader(CodecLimits limits, bool common_fast_path)
    : limits_(limits),
      common_fast_path_(common_fast_path),
      buffer_(size_t{limits.max_header_bytes} + kMaxReadSize) {}

RequestReader::Event RequestReader::parse(Request& req) {
  if (!parser_ && common_fast_path_ && buffer_.size() > 0) {
    // A new request, whole in the buffer and plain (nearly every one): read without Beast.
    const boost::asio::const_buffer data = buffer_.data();
    bool keep_alive = true;
    const size_t used =
        parseCommonRequest(std::string_view(static_cast<const char*>(data.data()), data.size()),
                           limits_, req, keep_alive);
    if (used > 0) {
      buffer_.consume(used);
      keep_alive_ = keep_alive;
      continue_sent_ = false;
      ++common_requests_;
      return Event::kRequest;
    }
  }
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
