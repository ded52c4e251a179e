#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/core/control/control_store.h"
#include "engine/core/control/rule_document.h"
#include "engine/core/engine_stats.h"
#include "engine/core/order.h"
#include "engine/core/ratelimit/circuit_breaker.h"
#include "engine/core/ratelimit/rule.h"
#include "engine/core/sale.h"
#include "engine/core/sale_store.h"
#include "seckill/admin/v1/admin.pb.h"

// Proto <-> core, both ways, and nothing else: the admin services are thin because every
// translation lives here. Errors from requests are InvalidArgument naming the field by its path
// in the request ("set.rules[2].per: must be set").
namespace seckill::admin {

// The proto types are seckill::admin::v1::*, so `v1::` names them here (an alias of that
// name would redeclare the namespace: clang refuses it).

google::protobuf::Timestamp toProto(absl::Time t);
google::protobuf::Duration toProto(absl::Duration d);
absl::Time fromProto(const google::protobuf::Timestamp& t);
absl::Duration fromProto(const google::protobuf::Duration& d);

v1::Rule ruleToProto(const ratelimit::RuleSpec& rule);
// `field` is the rule's path in the request, for messages ("rule", "set.rules[2]").
absl::StatusOr<ratelimit::RuleSpec> ruleFromProto(const v1::Rule& rule, std::string_view field);
v1::Override overrideToProto(const ratelimit::Override& o);
absl::StatusOr<ratelimit::OverrideMode> overrideModeFromProto(v1::OverrideMode mode,
                                                              std::string_view field);
v1::RuleSet documentToProto(const control::RuleDocument& doc);
absl::StatusOr<control::RuleDocument> documentFromProto(const v1::RuleSet& set,
                                                        std::string_view field);
absl::StatusOr<ratelimit::OnLimit> onLimitFromProto(v1::OnLimit mode, std::string_view field);

v1::Change changeToProto(const control::Change& c);
void problemsToProto(const std::vector<ratelimit::RuleProblem>& problems,
                     google::protobuf::RepeatedPtrField<v1::ValidationError>* out);
v1::DiffRulesResponse diffToProto(const control::DocumentDiff& diff);

v1::BreakerState breakerStateToProto(ratelimit::CircuitBreaker::State s);
v1::BreakerMode breakerModeToProto(ratelimit::CircuitBreaker::Mode m);
absl::StatusOr<ratelimit::CircuitBreaker::Mode> breakerModeFromProto(v1::BreakerMode m,
                                                                     std::string_view field);
v1::Breaker breakerToProto(const ratelimit::CircuitBreaker& b);

v1::SaleState saleStateToProto(SaleState s);
v1::StockStrategy strategyToProto(StockStrategy s);
// `level` may be an error (the store did not answer): stock_left is then -1.
v1::Sale saleToProto(const SaleSpec& spec, const absl::StatusOr<StockLevel>& level, absl::Time now);
// A sale to create: id and stock_total required, the rest defaulted as documented in the proto.
absl::StatusOr<SaleSpec> saleFromProto(const v1::Sale& sale, std::string_view field);

v1::Order orderToProto(const Order& o);
v1::AuditEntry auditToProto(const control::AuditEntry& e);

// One second of stats as the Stats service sends it.
void statsToProto(const StatsSample& s, std::string_view node_id, absl::Time started_at,
                  bool history, v1::StatsSnapshot* out);

}  // namespace seckill::admin
