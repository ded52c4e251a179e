#pragma once

#include <QString>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "seckill/admin/v1/types.pb.h"

// The words and sentences the console shows for the admin API's values. Pure functions, so
// tests pin every text an operator reads.
namespace seckill::console {

namespace v1 = ::seckill::admin::v1;

// The API's enums as the config file and seckillctl spell them ("forced_open", "token_bucket"):
// one vocabulary for every tool.
QString label(v1::SaleState s);      // scheduled open sold_out closed
QString label(v1::BreakerState s);   // closed open half_open forced_open disabled metrics_only
QString label(v1::BreakerMode m);    // automatic forced_open disabled metrics_only
QString label(v1::OverrideMode m);   // none dry_run shed
QString label(v1::OnLimit o);        // reject queue log
QString label(v1::Algorithm a);      // token_bucket leaky_bucket sliding_window sliding_log
QString label(v1::Per p);            // s min h
QString label(v1::StockStrategy s);  // atomic fifo optimistic counter_gate
QString label(const v1::Scope& s);   // global user ip header:<name>

// A method as shown: "*" for any.
QString methodLabel(const std::string& method);
// "5/s", "300/min".
QString rateLabel(const v1::Rule& rule);
// A rule in one line: "POST /api/v1/sales/*/orders user token_bucket 5/s burst 10 reject"
// (then as set: queue N, warmup D, max_wait D, distributed).
QString describeRule(const v1::Rule& rule);
// The id the engine gives a rule that has none: "<METHOD|ANY> <path> <scope> /<per>".
QString defaultRuleId(const v1::Rule& rule);
// "1.5s", "200ms", "15m"; "-" when zero.
QString durationLabel(const google::protobuf::Duration& d);
// Local time "2024-05-01 12:00:00"; "-" for an absent (zero) timestamp.
QString timeLabel(const google::protobuf::Timestamp& ts);

// A failed call as an operator reads it: "<CODE>: <the engine's message>", e.g.
// "ABORTED: rule set changed: expected version 3, current 4". "OK" for an ok status.
QString describeStatus(const absl::Status& status);

// What a change does to shoppers, said plainly: the text of the confirmation that guards it.
QString breakerModeConsequence(const QString& breaker, v1::BreakerMode mode);
QString overrideConsequence(const QString& prefix, v1::OverrideMode mode);
QString clearOverrideConsequence(const QString& prefix);
QString ruleModeConsequence(const QString& rule_id, v1::OnLimit mode);
QString closeSaleConsequence(const QString& sale_id);
QString openSaleConsequence(const QString& sale_id);
QString rollbackConsequence(uint64_t to_version, uint64_t current_version);

}  // namespace seckill::console
