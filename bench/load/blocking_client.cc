#include "bench/load/blocking_client.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/load/text_parse.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace seckill::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct BlockingClient::Impl {
  TargetUrl url;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the queued operations to completion (each is bounded by the stream's expiry).
  void runAll() {
    ioc.restart();
    ioc.run();
  }

  absl::Status connect() {
    stream.emplace(ioc);
    buffer.clear();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) {
      stream.reset();
      return absl::UnavailableError(absl::StrCat("cannot resolve ", url.host, ": ", ec.message()));
    }
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    runAll();
    if (ec) {
      stream.reset();
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", url.text(), ": ", ec.message()));
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return absl::OkStatus();
  }

  // One exchange on the open stream.
  absl::StatusOr<HttpReply> exchange(std::string_view target, const Credential* credential) {
    http::request<http::empty_body> req{http::verb::get, std::string(target), 11};
    req.set(http::field::host, url.hostHeader());
    req.set(http::field::user_agent, "seckill-load");
    if (credential != nullptr) {
      req.set(beast::string_view(credential->name.data(), credential->name.size()),
              credential->value);
    }
    http::response<http::string_body> res;
    beast::error_code ec;
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      if (!ec)
        http::async_read(*stream, buffer, res, [&](beast::error_code e2, size_t) { ec = e2; });
    });
    runAll();
    if (ec) {
      stream.reset();
      return absl::UnavailableError(
          absl::StrCat("GET ", av(target), " on ", url.text(), ": ", ec.message()));
    }
    if (!res.keep_alive()) stream.reset();
    return HttpReply{.status = static_cast<int>(res.result_int()), .body = std::move(res.body())};
  }
};

BlockingClient::BlockingClient(TargetUrl url, double timeout_s) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
}

BlockingClient::~BlockingClient() = default;

absl::StatusOr<HttpReply> BlockingClient::get(std::string_view target,
                                              const Credential* credential) {
  const bool reused = impl_->stream.has_value();
  if (!reused) {
    if (absl::Status s = impl_->connect(); !s.ok()) return s;
  }
  absl::StatusOr<HttpReply> reply = impl_->exchange(target, credential);
  if (reply.ok() || !reused) return reply;
  // The server may have closed the idle connection: once more on a new one.
  if (absl::Status s = impl_->connect(); !s.ok()) return s;
  return impl_->exchange(target, credential);
}

}  // namespace seckill::load
