#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/callback.h"

namespace seckill::admin {

grpc::Status NodeService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                    v1::NodeStatus* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  const absl::Time now = deps_.clock.now();
  out->set_engine_version(deps_.node.engine_version);
  out->set_node_id(deps_.node.node_id);
  *out->mutable_started_at() = toProto(deps_.node.started_at);
  *out->mutable_uptime() = toProto(now - deps_.node.started_at);
  out->set_rules_version(deps_.rules.current().change.version);
  for (const std::shared_ptr<const Sale>& sale : deps_.catalog.all()) {
    absl::StatusOr<StockLevel> level = awaitCall<absl::StatusOr<StockLevel>>(
        [&](auto done) { deps_.stock.stockLevel(sale->spec.id, std::move(done)); });
    *out->add_sales() = saleToProto(sale->spec, level, now);
  }
  for (const ratelimit::CircuitBreaker* b : deps_.breakers.breakers()) {
    *out->add_breakers() = breakerToProto(*b);
  }
  out->set_store(deps_.node.store);
  out->set_state(deps_.node.state);
  out->set_caller_name(caller.name);
  out->set_caller_role(std::string(roleName(caller.role)));
  *out->mutable_history() = toProto(absl::Seconds(static_cast<int64_t>(deps_.history.capacity())));
  return grpc::Status::OK;
}

}  // namespace seckill::admin
