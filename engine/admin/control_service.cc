#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"
#include "engine/core/strings.h"

namespace seckill::admin {
namespace {

grpc::Status invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

std::optional<uint64_t> expectedOf(bool has, uint64_t v) {
  return has ? std::optional<uint64_t>(v) : std::nullopt;
}

v1::ApplyRulesResponse appliedToProto(const control::RuleControl::Applied& a) {
  v1::ApplyRulesResponse out;
  out.set_version(a.version);
  out.set_changed(a.changed);
  *out.mutable_change() = changeToProto(a.change);
  return out;
}

grpc::Status checkPrefix(const std::string& prefix) {
  if (prefix.empty() || prefix.front() != '/') {
    return invalid("prefix: must start with '/' (\"/\" covers every path)");
  }
  if (prefix.size() > ratelimit::kMaxPathBytes) {
    return invalid(absl::StrCat("prefix: longer than ", ratelimit::kMaxPathBytes, " bytes"));
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ControlService::ListOverrides(grpc::ServerContext*, const v1::ListOverridesRequest*,
                                           v1::ListOverridesResponse* out) {
  const control::RuleVersion v = deps_.rules.current();
  out->set_version(v.change.version);
  for (const ratelimit::Override& o : v.doc.overrides) *out->add_overrides() = overrideToProto(o);
  return grpc::Status::OK;
}

grpc::Status ControlService::SetOverride(grpc::ServerContext* context,
                                         const v1::SetOverrideRequest* req,
                                         v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (grpc::Status s = checkPrefix(req->prefix()); !s.ok()) return s;
  absl::StatusOr<ratelimit::OverrideMode> mode = overrideModeFromProto(req->mode(), "mode");
  if (!mode.ok()) return answer(*context, mode.status());
  const std::string prefix = ratelimit::normalizeOverridePrefix(req->prefix());
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.edit(
      "override.set", prefix,
      [&](control::RuleDocument& doc) {
        for (ratelimit::Override& o : doc.overrides) {
          if (ratelimit::normalizeOverridePrefix(o.prefix) == prefix) {
            o.mode = *mode;
            return absl::OkStatus();
          }
        }
        doc.overrides.push_back(ratelimit::Override{prefix, *mode});
        return absl::OkStatus();
      },
      expectedOf(req->has_expected_version(), req->expected_version()), caller.actor(),
      req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status ControlService::ClearOverride(grpc::ServerContext* context,
                                           const v1::ClearOverrideRequest* req,
                                           v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (grpc::Status s = checkPrefix(req->prefix()); !s.ok()) return s;
  const std::string prefix = ratelimit::normalizeOverridePrefix(req->prefix());
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.edit(
      "override.clear", prefix,
      [&](control::RuleDocument& doc) {
        const size_t before = doc.overrides.size();
        std::erase_if(doc.overrides, [&](const ratelimit::Override& o) {
          return ratelimit::normalizeOverridePrefix(o.prefix) == prefix;
        });
        if (doc.overrides.size() == before) {
          return absl::NotFoundError(absl::StrCat("no override at \"", prefix, "\""));
        }
        return absl::OkStatus();
      },
      expectedOf(req->has_expected_version(), req->expected_version()), caller.actor(),
      req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status ControlService::SetRuleMode(grpc::ServerContext* context,
                                         const v1::SetRuleModeRequest* req,
                                         v1::ApplyRulesResponse* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  if (req->id().empty() == req->path().empty()) return invalid("give id or path (not both)");
  absl::StatusOr<ratelimit::OnLimit> mode = onLimitFromProto(req->on_limit(), "on_limit");
  if (!mode.ok()) return answer(*context, mode.status());
  const absl::Duration max_wait = fromProto(req->max_wait());
  if (max_wait < absl::ZeroDuration() || max_wait > absl::Hours(1)) {
    return invalid("max_wait: 0 to 1h");
  }
  const std::string target = req->id().empty()
                                 ? absl::StrCat(req->method().empty() ? "" : req->method() + " ",
                                                req->path())
                                 : req->id();
  absl::StatusOr<control::RuleControl::Applied> a = deps_.rules.edit(
      "rule.mode", target,
      [&](control::RuleDocument& doc) {
        int matched = 0;
        for (ratelimit::RuleSpec& r : doc.rules) {
          const bool hit = !req->id().empty()
                               ? r.id == req->id()
                               : r.path == req->path() &&
                                     (req->method().empty() || r.method.value_or("") == req->method());
          if (!hit) continue;
          ++matched;
          r.on_limit = *mode;
          if (max_wait > absl::ZeroDuration()) r.max_wait = max_wait;
        }
        if (matched == 0) return absl::NotFoundError(absl::StrCat("no rule matches ", target));
        return absl::OkStatus();
      },
      expectedOf(req->has_expected_version(), req->expected_version()), caller.actor(),
      req->comment());
  if (!a.ok()) return answer(*context, a.status());
  *out = appliedToProto(*a);
  return grpc::Status::OK;
}

grpc::Status ControlService::ListBreakers(grpc::ServerContext*, const v1::ListBreakersRequest*,
                                          v1::ListBreakersResponse* out) {
  for (const ratelimit::CircuitBreaker* b : deps_.breakers.breakers()) {
    *out->add_breakers() = breakerToProto(*b);
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::SetBreakerMode(grpc::ServerContext* context,
                                            const v1::SetBreakerModeRequest* req,
                                            v1::Breaker* out) {
  const Caller caller = callerOf(*context, *deps_.tokens);
  if (grpc::Status s = requireOperator(caller); !s.ok()) return s;
  absl::StatusOr<ratelimit::CircuitBreaker::Mode> mode = breakerModeFromProto(req->mode(), "mode");
  if (!mode.ok()) return answer(*context, mode.status());
  absl::StatusOr<ratelimit::CircuitBreaker*> b =
      deps_.breakers.setMode(req->name(), *mode, caller.actor(), req->comment());
  if (!b.ok()) return answer(*context, b.status());
  *out = breakerToProto(**b);
  return grpc::Status::OK;
}

}  // namespace seckill::admin
