#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "seckill/admin/v1/admin.pb.h"

// seckillctl's output: human tables and the machine (--json) form, from the API's messages.
// Pure functions of their arguments (the time zone is passed in), so tests pin every format.
namespace seckill::ctl {

namespace v1 = ::seckill::admin::v1;

// ---------------------------------------------------------------- building blocks

// Columns separated by two spaces, each as wide as its widest cell; `right` marks columns
// aligned right (numbers). A cell may hold several lines; trailing blanks are trimmed.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right;  // by column; missing: left
};
std::string renderTable(const Table& table);

// "2024-05-01 12:00:00" in `tz` (fraction dropped); "-" for an absent (zero) timestamp.
std::string formatTime(const google::protobuf::Timestamp& ts, absl::TimeZone tz);
// "15m", "1h2m3s", "200ms"; "-" for an absent (zero) duration.
std::string formatDuration(const google::protobuf::Duration& d);

// The words seckillctl uses for the API's enums (lower case, as the arguments take them).
std::string label(v1::SaleState s);      // scheduled open sold_out closed
std::string label(v1::BreakerState s);   // closed open half_open forced_open disabled metrics_only
std::string label(v1::BreakerMode m);    // automatic forced_open disabled metrics_only
std::string label(v1::OverrideMode m);   // none dry_run shed
std::string label(v1::OnLimit o);        // reject queue log
std::string label(v1::StockStrategy s);  // atomic fifo optimistic counter_gate
std::string label(v1::OrderState s);     // pending_payment paid cancelled
std::string label(v1::Algorithm a);      // token_bucket leaky_bucket sliding_window sliding_log
std::string label(const v1::Scope& s);   // global user ip header:<name>

// One rule in one line, without its path: "POST user token_bucket 5/s burst=10 on_limit=reject"
// (method "*" for any; then as set: queue=N, warmup=D, max_wait=D, distributed).
std::string describeRule(const v1::Rule& rule);

// ---------------------------------------------------------------- JSON

// A message as JSON with the .proto field names: every scalar and repeated field (defaults
// included), message fields only when set; 64-bit integers as JSON numbers; enums by name;
// Timestamp and Duration as the proto3 JSON strings ("2024-05-01T12:00:00Z", "1.500s").
nlohmann::ordered_json toJson(const google::protobuf::Message& message);
// One JSON document: toJson(), indented by two, with a final newline.
std::string jsonDocument(const google::protobuf::Message& message);
std::string jsonDocument(const nlohmann::ordered_json& json);

// ---------------------------------------------------------------- commands' output

// `status`: the engine, the rule-set version, the caller, then a sales and a breakers table.
std::string formatStatus(const v1::NodeStatus& status, absl::TimeZone tz);

// `stats`: a header, then one row per second with fixed widths so that streamed rows align:
// TIME (HH:MM:SS in tz) REQ/S ADMITTED LIMITED (= rejected + queued + shadow_limited) CREATED
// PAID CANCELLED (the three reasons summed) P99MS.
std::string statsHeader();
std::string statsRow(const v1::StatsSnapshot& s, absl::TimeZone tz);
// `stats --json`: one object on one line (no newline): ts (unix seconds of `at`, an integer),
// node, seq, history, requests, admitted, rejected, queued, shadow_limited, limited, shed,
// orders_created, orders_paid, orders_cancelled (+ _shopper, _expired, _duplicate), p50_ms,
// p99_ms, max_ms, rules_version, requests_total, orders_created_total, started_at (unix
// seconds), routes, rules, rules_other, sales, breakers (as toJson()).
std::string statsJsonLine(const v1::StatsSnapshot& s);

// `rules list`: a version line, the trie drawn as a tree (chains of rule-less single-child
// nodes joined: "api/v1/sales"), each rule on its node with its counters, then the overrides.
std::string formatRuleTree(const v1::ListRulesResponse& list, absl::TimeZone tz);
// `rules get`: a version line and a table of the rules with their counters.
std::string formatRuleViews(uint64_t version,
                            const google::protobuf::RepeatedPtrField<v1::RuleView>& rules);
// `rules validate`: "FILE: valid (N rules, M overrides)" or one "FILE:LINE: message" per error.
std::string formatValidation(const v1::ValidateRulesResponse& r, std::string_view file);
// A change of the rule set: "rules version N" or "rules version N (unchanged)".
std::string formatApplied(const v1::ApplyRulesResponse& r);
// --json of a change: {"version": N, "changed": true|false}.
nlohmann::ordered_json appliedJson(const v1::ApplyRulesResponse& r);
std::string formatVersions(const v1::ListVersionsResponse& r, absl::TimeZone tz);
// `rules diff`: "rules version A -> B", then the engine's text (or "no changes").
std::string formatDiff(const v1::DiffRulesResponse& r);
std::string formatOverrides(const v1::ListOverridesResponse& r);
std::string formatBreakers(const google::protobuf::RepeatedPtrField<v1::Breaker>& breakers);
std::string formatSales(const google::protobuf::RepeatedPtrField<v1::Sale>& sales,
                        absl::TimeZone tz);
std::string formatSale(const v1::Sale& sale, absl::TimeZone tz);  // one "key  value" per line
std::string formatOrders(const google::protobuf::RepeatedPtrField<v1::Order>& orders,
                         absl::TimeZone tz);
std::string formatOrder(const v1::Order& order, absl::TimeZone tz);
std::string formatAudit(const google::protobuf::RepeatedPtrField<v1::AuditEntry>& entries,
                        absl::TimeZone tz);

}  // namespace seckill::ctl
