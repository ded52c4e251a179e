#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/admin/stats_history.h"
#include "engine/admin/token_auth.h"
#include "engine/core/clock.h"
#include "engine/core/control/actor.h"
#include "engine/core/control/breaker_control.h"
#include "engine/core/control/control_store.h"
#include "engine/core/control/rule_control.h"
#include "engine/core/control/sale_control.h"
#include "engine/core/order_repository.h"
#include "engine/core/ratelimit/rule_set.h"
#include "engine/core/sale_catalog.h"
#include "engine/core/sale_store.h"
#include "grpcpp/grpcpp.h"
#include "seckill/admin/v1/admin.grpc.pb.h"

// The admin API's services: each a thin, final translation between its proto messages and the
// core's control objects (proto_convert.h does the translating). They decide nothing; the
// controls validate, persist, apply and audit.
namespace seckill::admin {

// The proto types are seckill::admin::v1::*, so `v1::` names them here (an alias of that
// name would redeclare the namespace: clang refuses it).

// What the engine says about itself in Node.GetStatus and the stats stream.
struct NodeInfo {
  std::string engine_version;
  std::string node_id;
  absl::Time started_at;
  std::string store;  // "memory (embedded)", "redis 10.0.0.5:6379, ..."
  std::string state;  // ControlStore::describe()
};

// The config file's [[rule]] / [[override]] syntax, which the engine owns (engine/app): parse a
// text (InvalidArgument naming the line; every problem in `problems` when given) and write a
// document back as such a text.
struct RuleFileCodec {
  std::function<absl::StatusOr<control::RuleDocument>(
      std::string_view toml, std::vector<ratelimit::RuleProblem>* problems)>
      parse;
  std::function<std::string(const control::RuleDocument&)> format;
};

// Everything the services reach into. All references outlive the services.
struct AdminDeps {
  const Clock& clock;
  NodeInfo node;
  control::RuleControl& rules;
  control::BreakerControl& breakers;
  control::SaleControl& sales;
  control::ControlStore& state;  // versions and audit
  const ratelimit::RuleRegistry& registry;  // the running set's live counters
  const SaleCatalog& catalog;
  SaleStore& stock;
  OrderRepository& orders;
  StatsHistory& history;
  RuleFileCodec rule_file;
  const AdminTokens* tokens = nullptr;  // set by AdminServer::start
};

// The caller of a call: the principal of its bearer token (the credentials let no call without
// a valid one reach a handler) and its peer address.
struct Caller {
  std::string name;
  Role role = Role::kViewer;
  std::string peer;
  control::Actor actor() const { return control::Actor{.name = name, .peer = peer, .source = "api"}; }
};
Caller callerOf(const grpc::ServerContextBase& context, const AdminTokens& tokens);
// OK for an operator; PERMISSION_DENIED naming the caller and what a viewer may do.
grpc::Status requireOperator(const Caller& caller);
// An absl::Status as the call's answer; an ABORTED stale version also puts the current
// version into the trailing metadata "seckill-current-version".
grpc::Status answer(grpc::ServerContextBase& context, const absl::Status& status);

class NodeService final : public v1::Node::Service {
 public:
  explicit NodeService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::NodeStatus* response) override;

 private:
  AdminDeps& deps_;
};

class RulesService final : public v1::Rules::Service {
 public:
  explicit RulesService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status List(grpc::ServerContext*, const v1::ListRulesRequest*,
                    v1::ListRulesResponse*) override;
  grpc::Status Get(grpc::ServerContext*, const v1::GetRuleRequest*, v1::GetRuleResponse*) override;
  grpc::Status Validate(grpc::ServerContext*, const v1::ValidateRulesRequest*,
                        v1::ValidateRulesResponse*) override;
  grpc::Status Apply(grpc::ServerContext*, const v1::ApplyRulesRequest*,
                     v1::ApplyRulesResponse*) override;
  grpc::Status PutRule(grpc::ServerContext*, const v1::PutRuleRequest*,
                       v1::ApplyRulesResponse*) override;
  grpc::Status DeleteRule(grpc::ServerContext*, const v1::DeleteRuleRequest*,
                          v1::ApplyRulesResponse*) override;
  grpc::Status ListVersions(grpc::ServerContext*, const v1::ListVersionsRequest*,
                            v1::ListVersionsResponse*) override;
  grpc::Status Diff(grpc::ServerContext*, const v1::DiffRulesRequest*,
                    v1::DiffRulesResponse*) override;
  grpc::Status Rollback(grpc::ServerContext*, const v1::RollbackRulesRequest*,
                        v1::ApplyRulesResponse*) override;
  grpc::Status Export(grpc::ServerContext*, const v1::ExportRulesRequest*,
                      v1::ExportRulesResponse*) override;

 private:
  // The document of a kept version (0: the running one).
  absl::StatusOr<control::RuleVersion> version(uint64_t v);
  AdminDeps& deps_;
};

class ControlService final : public v1::Control::Service {
 public:
  explicit ControlService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status ListOverrides(grpc::ServerContext*, const v1::ListOverridesRequest*,
                             v1::ListOverridesResponse*) override;
  grpc::Status SetOverride(grpc::ServerContext*, const v1::SetOverrideRequest*,
                           v1::ApplyRulesResponse*) override;
  grpc::Status ClearOverride(grpc::ServerContext*, const v1::ClearOverrideRequest*,
                             v1::ApplyRulesResponse*) override;
  grpc::Status SetRuleMode(grpc::ServerContext*, const v1::SetRuleModeRequest*,
                           v1::ApplyRulesResponse*) override;
  grpc::Status ListBreakers(grpc::ServerContext*, const v1::ListBreakersRequest*,
                            v1::ListBreakersResponse*) override;
  grpc::Status SetBreakerMode(grpc::ServerContext*, const v1::SetBreakerModeRequest*,
                              v1::Breaker*) override;

 private:
  AdminDeps& deps_;
};

class SalesService final : public v1::Sales::Service {
 public:
  explicit SalesService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status List(grpc::ServerContext*, const v1::ListSalesRequest*,
                    v1::ListSalesResponse*) override;
  grpc::Status Get(grpc::ServerContext*, const v1::GetSaleRequest*, v1::Sale*) override;
  grpc::Status Create(grpc::ServerContext*, const v1::CreateSaleRequest*, v1::Sale*) override;
  grpc::Status AdjustStock(grpc::ServerContext*, const v1::AdjustStockRequest*, v1::Sale*) override;
  grpc::Status Open(grpc::ServerContext*, const v1::OpenSaleRequest*, v1::Sale*) override;
  grpc::Status Close(grpc::ServerContext*, const v1::CloseSaleRequest*, v1::Sale*) override;

 private:
  // The sale as the API shows it: its spec and the store's stock now.
  v1::Sale describe(const SaleSpec& spec);
  AdminDeps& deps_;
};

class OrdersService final : public v1::Orders::Service {
 public:
  explicit OrdersService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status Get(grpc::ServerContext*, const v1::GetOrderRequest*, v1::Order*) override;
  grpc::Status List(grpc::ServerContext*, const v1::ListOrdersRequest*,
                    v1::ListOrdersResponse*) override;

 private:
  AdminDeps& deps_;
};

class AuditService final : public v1::Audit::Service {
 public:
  explicit AuditService(AdminDeps& deps) : deps_(deps) {}
  grpc::Status List(grpc::ServerContext*, const v1::ListAuditRequest*,
                    v1::ListAuditResponse*) override;

 private:
  AdminDeps& deps_;
};

// Stats uses the callback API: a Watch stream holds no thread while it waits for the next
// second; the sampler's push queues the snapshot and the stream writes it.
class StatsService final : public v1::Stats::CallbackService {
 public:
  explicit StatsService(AdminDeps& deps) : deps_(deps) {}
  grpc::ServerWriteReactor<v1::StatsSnapshot>* Watch(grpc::CallbackServerContext* context,
                                                     const v1::WatchStatsRequest* request) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetStatsRequest* request,
                                v1::StatsSnapshot* response) override;

 private:
  AdminDeps& deps_;
};

}  // namespace seckill::admin
