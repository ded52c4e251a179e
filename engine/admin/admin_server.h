#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/token_auth.h"
#include "grpcpp/grpcpp.h"

namespace seckill::admin {

struct AdminServerOptions {
  std::string listen = "127.0.0.1:9090";  // HOST:PORT ([v6]:PORT); port 0: any free port
  TlsFiles tls;
  // Larger requests are refused (RESOURCE_EXHAUSTED) before they are parsed: a rule set of
  // 10,000 rules fits well within it.
  int max_message_bytes = 2 << 20;
  int max_threads = 16;  // threads serving the blocking (sync) services at most
};

// The admin listener: every service of seckill.admin.v1, grpc.health.v1.Health and server
// reflection, on its own port, every call authenticated (token_auth.h).
class AdminServer {
 public:
  // Binds and starts serving. Unavailable naming the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<AdminServer>> start(const AdminServerOptions& options,
                                                            AdminDeps deps,
                                                            const AdminTokens& tokens);
  ~AdminServer();  // stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  int port() const { return port_; }
  // Stops accepting calls, ends open streams (after at most a second) and waits for the
  // handlers. Idempotent.
  void stop();

 private:
  AdminServer() = default;

  std::unique_ptr<AdminDeps> deps_;
  std::unique_ptr<NodeService> node_;
  std::unique_ptr<StatsService> stats_;
  std::unique_ptr<RulesService> rules_;
  std::unique_ptr<ControlService> control_;
  std::unique_ptr<SalesService> sales_;
  std::unique_ptr<OrdersService> orders_;
  std::unique_ptr<AuditService> audit_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace seckill::admin
