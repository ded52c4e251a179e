#include "absl/strings/str_cat.h"
#include "engine/admin/admin_services.h"
#include "engine/core/control/actor.h"

namespace seckill::admin {

Caller callerOf(const grpc::ServerContextBase& context, const AdminTokens& tokens) {
  // The principal is read from this call's own metadata: gRPC keeps one auth context per
  // connection, shared by every call on it (two clients in one process may share one), so it
  // cannot carry a per-call identity.
  Caller c;
  c.peer = context.peer();
  constexpr std::string_view kBearer = "Bearer ";
  auto it = context.client_metadata().find("authorization");
  if (it != context.client_metadata().end()) {
    const std::string_view value(it->second.data(), it->second.size());
    if (value.substr(0, kBearer.size()) == kBearer) {
      if (std::optional<Principal> who = tokens.find(value.substr(kBearer.size()))) {
        c.name = who->name;
        c.role = who->role;
      }
    }
  }
  return c;
}

grpc::Status requireOperator(const Caller& caller) {
  if (caller.role == Role::kOperator) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("token \"", caller.name,
                                   "\" is a viewer: it may read and watch, not change anything"));
}

grpc::Status answer(grpc::ServerContextBase& context, const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (std::optional<uint64_t> v = control::currentVersionOf(status)) {
    context.AddTrailingMetadata("seckill-current-version", absl::StrCat(*v));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace seckill::admin
