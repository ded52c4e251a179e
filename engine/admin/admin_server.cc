#include "engine/admin/admin_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace seckill::admin {

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::start(const AdminServerOptions& options,
                                                                AdminDeps deps,
                                                                const AdminTokens& tokens) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      authenticatingCredentials(tokens, options.tls);
  if (!creds.ok()) return creds.status();

  // Process-wide switches; they take effect for servers built afterwards.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<AdminServer> s(new AdminServer());
  s->deps_ = std::make_unique<AdminDeps>(std::move(deps));
  s->deps_->tokens = &tokens;
  s->node_ = std::make_unique<NodeService>(*s->deps_);
  s->stats_ = std::make_unique<StatsService>(*s->deps_);
  s->rules_ = std::make_unique<RulesService>(*s->deps_);
  s->control_ = std::make_unique<ControlService>(*s->deps_);
  s->sales_ = std::make_unique<SalesService>(*s->deps_);
  s->orders_ = std::make_unique<OrdersService>(*s->deps_);
  s->audit_ = std::make_unique<AuditService>(*s->deps_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *creds, &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  grpc::ResourceQuota quota("seckill-admin");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  // A console that vanished without closing its stream is noticed within a minute.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(s->node_.get());
  builder.RegisterService(s->stats_.get());
  builder.RegisterService(s->rules_.get());
  builder.RegisterService(s->control_.get());
  builder.RegisterService(s->sales_.get());
  builder.RegisterService(s->orders_.get());
  builder.RegisterService(s->audit_.get());
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

AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
}

}  // namespace seckill::admin
