#include "engine/rls/rls_server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/core/strings.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace seckill::rls {

grpc::ServerUnaryReactor* RateLimitServiceImpl::ShouldRateLimit(
    grpc::CallbackServerContext* context, const envoy_rls::RateLimitRequest* request,
    envoy_rls::RateLimitResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  decider_.decide(*request, response, [reactor](absl::Status s) {
    reactor->Finish(s.ok() ? grpc::Status::OK
                           : grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                                          std::string(s.message())));
  });
  return reactor;
}

absl::StatusOr<std::unique_ptr<RlsServer>> RlsServer::start(const RlsServerOptions& options,
                                                            RlsDeps deps) {
  // Process-wide switches; they take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<RlsServer> s(new RlsServer());
  s->decider_ = std::make_unique<RlsDecider>(std::move(deps), options.mapping);
  s->service_ = std::make_unique<RateLimitServiceImpl>(*s->decider_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  // An Envoy cluster with connection_keepalive pings an idle connection: accept pings down to
  // every 10 s (gRPC's default would answer them with GOAWAY too_many_pings), and find a
  // vanished Envoy within a minute.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.RegisterService(s->service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               " (address in use, or not an address of this host)"));
  }
  if (grpc::HealthCheckServiceInterface* health = s->server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  return s;
}

RlsServer::~RlsServer() { stop(); }

void RlsServer::stop() {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
}

}  // namespace seckill::rls
