#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/rls/rls_decider.h"
#include "envoy/service/ratelimit/v3/rls.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace seckill::rls {

// envoy.service.ratelimit.v3.RateLimitService: a thin translation onto the decider (callback
// API: a call whose descriptor waits for a distributed rule's backend holds no thread).
class RateLimitServiceImpl final : public envoy_rls::RateLimitService::CallbackService {
 public:
  explicit RateLimitServiceImpl(const RlsDecider& decider) : decider_(decider) {}
  grpc::ServerUnaryReactor* ShouldRateLimit(grpc::CallbackServerContext* context,
                                            const envoy_rls::RateLimitRequest* request,
                                            envoy_rls::RateLimitResponse* response) override;

 private:
  const RlsDecider& decider_;
};

struct RlsServerOptions {
  std::string listen;  // HOST:PORT ([v6]:PORT); port 0: any free port
  // Larger requests are refused (RESOURCE_EXHAUSTED) before they are parsed; 64 descriptors of
  // 31 entries of 256-byte values fit.
  int max_message_bytes = 1 << 20;
  MappingOptions mapping;
};

// The rate-limit service's listener: RateLimitService, grpc.health.v1.Health (for an Envoy
// cluster's grpc_health_check) and server reflection (grpcurl), on its own port, plaintext
// (Envoy's usual rate-limit cluster; keep it on a private network).
class RlsServer {
 public:
  // Binds and starts serving. Unavailable naming the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<RlsServer>> start(const RlsServerOptions& options,
                                                          RlsDeps deps);
  ~RlsServer();  // stop()
  RlsServer(const RlsServer&) = delete;
  RlsServer& operator=(const RlsServer&) = delete;

  int port() const { return port_; }
  const RlsDecider& decider() const { return *decider_; }
  // Stops accepting calls and waits for the calls in flight (at most a second, then they are
  // cancelled). Idempotent.
  void stop();

 private:
  RlsServer() = default;

  std::unique_ptr<RlsDecider> decider_;
  std::unique_ptr<RateLimitServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace seckill::rls
