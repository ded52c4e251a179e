#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "bench/load/credentials.h"
#include "bench/load/options.h"

namespace seckill::load {

struct HttpReply {
  int status = 0;
  std::string body;
};

// A keep-alive HTTP/1.1 client for the few requests before and after a run
// (the sale, /metrics, order lookups). Blocking; every request is bounded by
// the timeout; a request on a connection the server has closed is retried
// once on a new one (only GETs are sent, so that is safe). Not thread-safe.
class BlockingClient {
 public:
  BlockingClient(TargetUrl url, double timeout_s);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // GET `target`, with the header `credential` (a shopper's X-User-Id or Authorization) when
  // given. Unavailable when the target cannot be reached or does not answer in time.
  absl::StatusOr<HttpReply> get(std::string_view target, const Credential* credential = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seckill::load
