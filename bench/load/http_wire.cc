#include "bench/load/http_wire.h"

#include "boost/beast/core/string.hpp"

namespace seckill::load {

void writePostRequest(std::string& out, std::string_view target, const RequestHeaders& h) {
  out.clear();
  out.append("POST ").append(target).append(" HTTP/1.1\r\nHost: ").append(h.host);
  out.append("\r\nUser-Agent: seckill-load\r\n");
  out.append(h.credential_name).append(": ").append(h.credential_value).append("\r\n");
  if (!h.idempotency_key.empty()) {
    out.append("Idempotency-Key: ").append(h.idempotency_key).append("\r\n");
  }
  out.append("Content-Length: 0\r\n\r\n");
}

ReplyParser::ReplyParser(std::string& body) : body_(body) { body_.clear(); }

void ReplyParser::on_response_impl(int code, string_view, int, error_code&) { status_ = code; }

void ReplyParser::on_field_impl(field, string_view name_string, string_view, error_code&) {
  if (boost::beast::iequals(name_string, "Idempotent-Replayed")) replayed_ = true;
}

void ReplyParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                    error_code&) {
  if (content_length) body_.reserve(static_cast<size_t>(*content_length));
}

std::size_t ReplyParser::on_body_impl(string_view body, error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

std::size_t ReplyParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  body_.append(body.data(), body.size());
  return body.size();
}

}  // namespace seckill::load
